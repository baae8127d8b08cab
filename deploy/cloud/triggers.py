"""A function's triggers as serverless.yml says: function URL, COS and timer; the URL read back.

A deployed trigger is "ours" by identity (function URL: type http and qualifier, since SCF may
rename it; COS: the bucket host; timer: its name) and "current" when its settings match. A stale
function URL or timer is updated in place (UpdateTrigger); a stale COS trigger is deleted and
created again (SCF cannot update one). CreateTrigger answering that the trigger exists (a race or
a trigger made by the framework) is read back and adopted when it matches. Other triggers on the
function are reported and left alone. The callback URL is NetConfig.ExtranetUrl of the function
URL's TriggerDesc, polled (bounded) while SCF has not filled it in yet.
"""

from __future__ import annotations

import json
from typing import Any

from deploy.cloud.deployment import Deployment
from deploy.cloud.errors import CloudApiError, DriftError, WaitTimeoutError
from deploy.cloud.manifest import FunctionSpec, TriggerSpec

TRIGGER_IN_USE = ("ResourceInUse.Trigger", "ResourceInUse.TriggerName")
LIST_LIMIT = 100


def trigger_id(spec: FunctionSpec, trigger: TriggerSpec) -> str:
    return f"trigger:{spec.namespace}/{spec.name}:{trigger.kind}:{trigger.name}"


def list_triggers(dep: Deployment, spec: FunctionSpec) -> list[dict[str, Any]]:
    params = {"FunctionName": spec.name, "Namespace": spec.namespace, "Limit": LIST_LIMIT}
    answer = dep.changes.read("scf", "ListTriggers", params)
    return [item for item in answer.get("Triggers") or [] if isinstance(item, dict)]


def parse_trigger_description(observed: dict[str, Any]) -> Any:
    text = observed.get("TriggerDesc")
    try:
        return json.loads(text) if isinstance(text, str) else text
    except ValueError:
        return text  # a timer's bare cron expression


def _enabled(observed: dict[str, Any]) -> bool:
    return observed.get("Enable") in (1, "1", True, "OPEN")


def is_same_trigger(wanted: TriggerSpec, observed: dict[str, Any]) -> bool:
    if observed.get("Type") != wanted.kind:
        return False
    if observed.get("Qualifier", wanted.qualifier) != wanted.qualifier:
        return False
    return wanted.kind == "http" or observed.get("TriggerName") == wanted.name


def _settings(kind: str, description: Any) -> Any:
    if kind == "timer":
        return description.get("cron") if isinstance(description, dict) else description
    if not isinstance(description, dict):
        return None
    if kind == "http":
        net = description.get("NetConfig") or {}
        return (
            description.get("AuthType"),
            bool(net.get("EnableIntranet")),
            bool(net.get("EnableExtranet")),
        )
    filters = description.get("filter") or {}
    return (description.get("event"), filters.get("Prefix") or "", filters.get("Suffix") or "")


def is_current(wanted: TriggerSpec, observed: dict[str, Any]) -> bool:
    deployed = _settings(wanted.kind, parse_trigger_description(observed))
    same_settings = deployed == _settings(wanted.kind, wanted.description)
    return same_settings and _enabled(observed) == wanted.enabled


def function_url(observed: dict[str, Any] | None) -> str | None:
    description = parse_trigger_description(observed or {})
    net = description.get("NetConfig") if isinstance(description, dict) else None
    url = net.get("ExtranetUrl") if isinstance(net, dict) else None
    return str(url) if url else None


def _params(spec: FunctionSpec, trigger: TriggerSpec, name: str) -> dict[str, Any]:
    return {
        "FunctionName": spec.name,
        "Namespace": spec.namespace,
        "TriggerName": name,
        "Type": trigger.kind,
        "TriggerDesc": trigger.description_text,
        "Qualifier": trigger.qualifier,
        "Enable": "OPEN" if trigger.enabled else "CLOSE",
    }


def _label(spec: FunctionSpec, trigger: TriggerSpec) -> str:
    kinds = {"http": "function URL", "cos": "COS trigger", "timer": "timer trigger"}
    return f"{kinds[trigger.kind]} {trigger.name} of {spec.name}"


def create_trigger(
    dep: Deployment, spec: FunctionSpec, trigger: TriggerSpec
) -> dict[str, Any] | None:
    summary = f"+ {_label(spec, trigger)} ({trigger.description_text})"
    try:
        answer = dep.changes.write(
            summary, "scf", "CreateTrigger", _params(spec, trigger, trigger.name)
        )
    except CloudApiError as exc:
        if not exc.is_code(*TRIGGER_IN_USE):
            raise
        return adopt_existing(dep, spec, trigger)
    if answer is None:
        return None
    dep.state.created.add(trigger_id(spec, trigger))
    dep.state.save()
    info = answer.get("TriggerInfo")
    return info if isinstance(info, dict) else None


def adopt_existing(dep: Deployment, spec: FunctionSpec, trigger: TriggerSpec) -> dict[str, Any]:
    for observed in list_triggers(dep, spec):
        if is_same_trigger(trigger, observed) and is_current(trigger, observed):
            dep.report(f"  = {_label(spec, trigger)} was already there (adopted)")
            return observed
    raise DriftError(
        f"{_label(spec, trigger)}: SCF says it exists, but no matching trigger is listed; "
        "another function's trigger may hold the name or the bucket rule"
    )


def replace_trigger(
    dep: Deployment, spec: FunctionSpec, trigger: TriggerSpec, observed: dict[str, Any]
) -> dict[str, Any] | None:
    if trigger.kind in ("http", "timer"):
        summary = f"~ {_label(spec, trigger)} ({trigger.description_text})"
        params = _params(spec, trigger, str(observed.get("TriggerName")))
        if dep.changes.write(summary, "scf", "UpdateTrigger", params) is None:
            return observed
        return next(
            (item for item in list_triggers(dep, spec) if is_same_trigger(trigger, item)), observed
        )
    params = {
        "FunctionName": spec.name,
        "Namespace": spec.namespace,
        "TriggerName": str(observed.get("TriggerName")),
        "Type": trigger.kind,
        "TriggerDesc": str(observed.get("TriggerDesc") or ""),
        "Qualifier": str(observed.get("Qualifier") or trigger.qualifier),
    }
    dep.changes.write(
        f"- {_label(spec, trigger)} (settings changed)", "scf", "DeleteTrigger", params
    )
    return create_trigger(dep, spec, trigger)


def converge_triggers(
    dep: Deployment, spec: FunctionSpec, exists: bool
) -> dict[str, dict[str, Any] | None]:
    """Trigger kind -> its deployed description (None in a plan of a new one)."""
    observed = list_triggers(dep, spec) if exists else []
    result: dict[str, dict[str, Any] | None] = {}
    for trigger in spec.triggers:
        match = next((item for item in observed if is_same_trigger(trigger, item)), None)
        if match is None:
            result[trigger.kind] = create_trigger(dep, spec, trigger)
        elif is_current(trigger, match):
            dep.changes.unchanged(_label(spec, trigger))
            result[trigger.kind] = match
        else:
            result[trigger.kind] = replace_trigger(dep, spec, trigger, match)
    for item in observed:
        if not any(is_same_trigger(trigger, item) for trigger in spec.triggers):
            dep.report(
                f"  ? {item.get('Type')} trigger {item.get('TriggerName')} of {spec.name} "
                "is not in serverless.yml (left alone)"
            )
    return result


def read_function_url(
    dep: Deployment, spec: FunctionSpec, info: dict[str, Any] | None
) -> str | None:
    """The function URL; polled while SCF has not filled ExtranetUrl in (bounded)."""
    url = function_url(info)
    trigger = spec.trigger("http")
    if url or info is None or trigger is None or not dep.changes.apply:
        return url
    for _ in range(dep.waits.url_attempts):
        dep.waits.sleep(dep.waits.interval_s)
        listed = next((t for t in list_triggers(dep, spec) if is_same_trigger(trigger, t)), None)
        url = function_url(listed)
        if url:
            return url
    raise WaitTimeoutError(
        f"the function URL of {spec.name} has no public address yet; run up again"
    )
