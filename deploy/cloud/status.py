"""``status``: what is deployed, and whether the pieces agree with each other and serverless.yml.

Read-only. The role and policy (as ``up`` would check them), media processing, then per function:
state, runtime, memory, timeout, code (local zip, last uploaded by this tool, SCF's own hash
unchanged since), configuration differences by name, each trigger. Then the cross checks: the
upload function's MEDIA_TAGGER_CALLBACK_URL is the function URL, the callback secret's
fingerprints (first 8 hex of SHA-256) are equal on every function that carries it and equal to
the state file's (the previous ones too), one tag prefix everywhere, the COS trigger's prefix
against MEDIA_TAGGER_INCLUDE_PREFIXES, and the rotation clock.
Only fingerprints of secrets are printed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from deploy.cloud.callback_secret import (
    CALLBACK_SECRET_PREVIOUS,
    describe_duration,
    fingerprint,
    fingerprints,
    overlap_s,
    reconcile_window_s,
    utc_text,
)
from deploy.cloud.deployment import Deployment
from deploy.cloud.function_config import config_differences, deployed_environment
from deploy.cloud.functions import get_function, platform_code_sha
from deploy.cloud.iam import (
    SCF_SERVICE_ROLE,
    account_identity,
    iam_stops,
    observe_iam,
    policy_name,
    wanted_policy,
)
from deploy.cloud.manifest import FunctionSpec
from deploy.cloud.media_processing import MediaProcessing, check_media_processing, describe
from deploy.cloud.triggers import (
    function_url,
    is_current,
    is_same_trigger,
    list_triggers,
    parse_trigger_description,
)
from shared.settings.functions import (
    CALLBACK_SECRET,
    CALLBACK_URL,
    DEFAULT_TAG_PREFIX,
    INCLUDE_PREFIXES,
    TAG_PREFIX,
)


@dataclass
class Seen:
    """What status read for one function."""

    spec: FunctionSpec
    function: dict[str, Any] | None
    triggers: list[dict[str, Any]] = field(default_factory=list)

    @property
    def environment(self) -> dict[str, str]:
        return deployed_environment(self.function) if self.function else {}

    @property
    def url(self) -> str | None:
        return function_url(next((t for t in self.triggers if t.get("Type") == "http"), None))


class StatusReport:
    """Prints lines and keeps whether every check passed."""

    def __init__(self, dep: Deployment) -> None:
        self.dep = dep
        self.ok = True

    def line(self, text: str) -> None:
        self.dep.report(text)

    def check(self, passed: bool, text: str) -> None:
        self.ok = self.ok and passed
        self.line(f"  {'ok  ' if passed else 'DIFF'} {text}")


def report_foundations(report: StatusReport, media: MediaProcessing, policy_template: str) -> None:
    dep, target = report.dep, report.dep.target
    identity = account_identity(dep.changes, target)
    wanted = wanted_policy(dep, policy_template, identity)
    iam = observe_iam(dep.changes, target)
    report.check(iam.role is not None, f"CAM role {target.role} exists")
    report.check(iam.policy_id is not None, f"CAM policy {policy_name(target)} exists")
    for problem in iam_stops(target, iam, wanted):
        report.check(False, problem)
    attached = iam.policy_id is not None and iam.policy_id in iam.attached
    report.check(attached, f"CAM policy {policy_name(target)} attached to {target.role}")
    report.check(iam.service_role_exists, f"SCF's service role {SCF_SERVICE_ROLE} exists")
    report.check(check_media_processing(media, target), f"{describe(target)} is on")


def _code_line(dep: Deployment, seen: Seen) -> str:
    record = dep.state.functions.get(seen.spec.name)
    uploaded = (record.code_sha256 or "")[:12] if record else ""
    platform = platform_code_sha(dep, seen.spec)
    same = record is not None and record.platform_code_sha256 in (None, platform)
    since = "unchanged on SCF since" if same else "SCF's code hash changed since (or unknown)"
    local = dep.package(seen.spec.key).short
    return f"code: local {local}, uploaded by this tool {uploaded or '(never)'}, {since}"


def report_function(report: StatusReport, seen: Seen) -> None:
    dep, spec, function = report.dep, seen.spec, seen.function
    if function is None:
        report.check(False, f"function {spec.name} is deployed")
        return
    report.line(
        f"function {spec.name}: {function.get('Status')}, {function.get('Runtime')}, "
        f"{function.get('MemorySize')} MB, {function.get('Timeout')} s"
    )
    report.line(f"    {_code_line(dep, seen)}")
    record = dep.state.functions.get(spec.name)
    current = record is not None and record.code_sha256 == dep.package(spec.key).sha256
    report.check(current, f"{spec.name} runs the local build")
    found = config_differences(spec, dep.environment(spec), function)
    report.check(not found, f"{spec.name} configuration: {'; '.join(found) or 'as serverless.yml'}")
    for trigger in spec.triggers:
        match = next((item for item in seen.triggers if is_same_trigger(trigger, item)), None)
        verdict = "missing" if match is None else "differs"
        if match is not None and is_current(trigger, match):
            verdict = "as serverless.yml"
        label = f"{spec.name} {trigger.kind} trigger {trigger.name}: {verdict}"
        report.check(verdict == "as serverless.yml", label)


def cross_checks(report: StatusReport, seen: list[Seen]) -> None:
    dep = report.dep
    url = next((item.url for item in seen if item.spec.trigger("http") is not None), None)
    report.line(f"function URL: {url or '(none)'}")
    for item in seen:
        if CALLBACK_URL in item.spec.environment and item.function is not None:
            same = url is not None and item.environment.get(CALLBACK_URL) == url
            report.check(same, f"{item.spec.name} {CALLBACK_URL} is the function URL")
    carriers = [s for s in seen if CALLBACK_SECRET in s.spec.environment and s.function]
    current = {s.spec.name: fingerprint(s.environment.get(CALLBACK_SECRET)) for s in carriers}
    kept = fingerprint(dep.state.callback_secret)
    listed = ", ".join(f"{name} {value}" for name, value in current.items())
    report.check(set(current.values()) <= {kept}, f"callback secret: {listed}; state file {kept}")
    previous = {fingerprints(s.environment.get(CALLBACK_SECRET_PREVIOUS)) for s in carriers}
    expected = ",".join(fingerprint(value) for value in dep.state.previous_secrets) or "(none)"
    report.check(previous <= {expected}, f"previous callback secrets: {expected} everywhere")
    prefixes = {s.environment.get(TAG_PREFIX, DEFAULT_TAG_PREFIX) for s in seen if s.function}
    report.check(len(prefixes) <= 1, f"one tag prefix: {', '.join(sorted(prefixes))}")


def prefix_check(report: StatusReport, seen: list[Seen]) -> None:
    """The COS trigger's key prefix and the upload function's include prefixes can both match."""
    owner = next((item for item in seen if item.spec.trigger("cos") and item.function), None)
    trigger = next((t for t in owner.triggers if t.get("Type") == "cos"), None) if owner else None
    if owner is None or trigger is None:
        return
    description = parse_trigger_description(trigger)
    filters = description.get("filter") or {} if isinstance(description, dict) else {}
    prefix = str(filters.get("Prefix") or "")
    includes = [
        i.strip() for i in owner.environment.get(INCLUDE_PREFIXES, "").split(",") if i.strip()
    ]
    agree = all(item.startswith(prefix) or prefix.startswith(item) for item in includes)
    shown = ",".join(includes) or "(every key)"
    report.check(agree, f"COS trigger prefix {prefix!r}, {INCLUDE_PREFIXES} {shown}")


def rotation_line(report: StatusReport, specs: list[FunctionSpec]) -> None:
    state = report.dep.state
    if not state.previous_secrets:
        report.line("rotation: none in progress")
    elif state.rotation_started_at is None:
        report.check(False, "rotation started but unfinished: run `python -m deploy rotate-secret`")
    else:
        overlap = overlap_s(reconcile_window_s(specs))
        allowed = utc_text(state.rotation_started_at + overlap)
        report.line(
            f"rotation: started {utc_text(state.rotation_started_at)}; `rotate-secret --finish` "
            f"allowed from {allowed} (overlap {describe_duration(overlap)})"
        )


def read_functions(dep: Deployment) -> list[Seen]:
    """Every function and its triggers, specs rendered with the deployed function URL."""
    seen: list[Seen] = []
    for key in dep.manifest.function_keys():
        spec = dep.spec(key)
        function = get_function(dep, spec.name, spec.namespace)
        seen.append(Seen(spec, function, list_triggers(dep, spec) if function else []))
    url = next((item.url for item in seen if item.spec.trigger("http") is not None), None)
    return [Seen(dep.spec(item.spec.key, url), item.function, item.triggers) for item in seen]


def run_status(dep: Deployment, media: MediaProcessing, policy_template: str) -> bool:
    """Print the status; True when everything is deployed and agrees."""
    report = StatusReport(dep)
    target = dep.target
    report.line(
        f"{target.app} {target.stage}: region {target.region}, bucket {target.bucket}, "
        f"state file {dep.state.path}"
    )
    report_foundations(report, media, policy_template)
    seen = read_functions(dep)
    for item in seen:
        report_function(report, item)
    cross_checks(report, seen)
    prefix_check(report, seen)
    rotation_line(report, [item.spec for item in seen])
    return report.ok
