"""``up`` and ``plan``: one pass that reads everything first, stops on differences it must not
change, then creates or updates what differs, in dependency order.

1. Read: the account (GetUserAppId), the role and policy, SCF's service role, media processing,
   the three functions.
2. Stop (``up``) or report (``plan``) every difference that needs a flag or a manual step.
3. The callback secret: the one the deployed functions carry, else the state file's, else
   generated once (``secrets.token_urlsafe``) and saved before any function carries it.
4. Role and policy, media processing, then each function with its triggers: the function URL's
   function first, its URL read back and written into the others' MEDIA_TAGGER_CALLBACK_URL.

With nothing changed, ``up`` sends reads only. ``plan`` runs the same code with writes recorded
instead of sent (``ChangeSet``); values that only exist after ``up`` (a new function URL, a new
secret) are placeholders there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from deploy.cloud.callback_secret import CALLBACK_SECRET_PREVIOUS, new_secret, usable_secret
from deploy.cloud.deployment import Deployment
from deploy.cloud.errors import DriftError
from deploy.cloud.function_config import deployed_environment
from deploy.cloud.functions import converge_function, get_function
from deploy.cloud.iam import (
    IamObservation,
    account_identity,
    apply_iam,
    iam_stops,
    observe_iam,
    service_role_stop,
    wanted_policy,
)
from deploy.cloud.manifest import FunctionSpec
from deploy.cloud.media_processing import (
    MediaProcessing,
    check_media_processing,
    enable_media_processing,
    media_processing_stop,
)
from deploy.cloud.triggers import converge_triggers, read_function_url
from shared.settings.functions import CALLBACK_SECRET


@dataclass
class Observation:
    """Step 1's reads, reused by the later steps (nothing is read twice)."""

    wanted_policy: dict[str, Any]
    iam: IamObservation
    media_enabled: bool
    functions: dict[str, dict[str, Any] | None]


def observe(dep: Deployment, media: MediaProcessing, policy_template: str) -> Observation:
    for key in dep.manifest.function_keys():
        dep.package(key)  # every zip exists before anything is read or written
    identity = account_identity(dep.changes, dep.target)
    target = dep.target
    wanted = wanted_policy(dep, policy_template, identity)
    iam = observe_iam(dep.changes, target)
    enabled = check_media_processing(media, target)
    functions = {spec.key: get_function(dep, spec.name, spec.namespace) for spec in dep.specs()}
    return Observation(wanted, iam, enabled, functions)


def stops(dep: Deployment, observed: Observation) -> list[str]:
    found = [] if dep.update_iam else iam_stops(dep.target, observed.iam, observed.wanted_policy)
    missing_service_role = service_role_stop(observed.iam)
    if missing_service_role:
        found.append(missing_service_role)
    if not observed.media_enabled and not dep.enable_media_processing:
        found.append(media_processing_stop(dep.target))
    for spec in dep.specs():
        function = observed.functions[spec.key]
        if function is not None and function.get("Runtime") not in (None, spec.runtime):
            found.append(
                f"function {spec.name} runs {function.get('Runtime')}, serverless.yml says "
                f"{spec.runtime}: SCF cannot change a runtime in place; `python -m deploy down` "
                "then `up` replaces it"
            )
    return found


def _deployed_secrets(dep: Deployment, observed: Observation) -> tuple[str | None, list[str]]:
    """The secret and previous list on the deployed functions, verifier (function URL) first."""
    specs = sorted(dep.specs(), key=lambda spec: spec.trigger("http") is None)
    for spec in specs:
        function = observed.functions[spec.key]
        environment = deployed_environment(function) if function else {}
        if usable_secret(environment.get(CALLBACK_SECRET)):
            previous = environment.get(CALLBACK_SECRET_PREVIOUS, "")
            return environment[CALLBACK_SECRET], [p for p in previous.split(",") if p.strip()]
    return None, []


def ensure_secret(dep: Deployment, observed: Observation, generate: Callable[[], str]) -> None:
    """The running functions' secrets win over the state file's (another operator may have
    rotated; overwriting would refuse the callbacks of their jobs); else the state's; else new."""
    state, where = dep.state, f"kept in {dep.state.path}"
    current, previous = _deployed_secrets(dep, observed)
    if current and (current, previous) != (state.callback_secret, state.previous_secrets):
        differed = " instead of the state file's" if state.callback_secret else ""
        state.callback_secret, state.previous_secrets = current, previous
        state.rotation_started_at = state.rotation_started_at if previous else None
        dep.report(f"  = callback secret adopted from the deployed functions{differed} ({where})")
    elif state.callback_secret:
        dep.changes.unchanged(f"callback secret ({where})")
        return
    else:
        dep.changes.note(f"+ callback secret (generated, {where}, mode 0600)")
        if not dep.changes.apply:
            return
        state.callback_secret = generate()
    if dep.changes.apply:
        state.save()


def converge_functions(dep: Deployment, observed: Observation) -> str | None:
    """Every function and its triggers; the function URL (None in a plan of a new one)."""
    url: str | None = None
    for key in dep.manifest.function_keys():
        spec: FunctionSpec = dep.spec(key, url)
        function = converge_function(dep, spec, dep.environment(spec), observed.functions[key])
        triggers = converge_triggers(dep, spec, exists=function is not None)
        if spec.trigger("http") is not None:
            url = read_function_url(dep, spec, triggers.get("http")) or url
    return url


def run_up(
    dep: Deployment,
    media: MediaProcessing,
    policy_template: str,
    generate: Callable[[], str] = new_secret,
) -> list[str]:
    """Converge (``dep.changes.apply``) or plan; the summaries of the changes and the stops."""
    observed = observe(dep, media, policy_template)
    for problem in stops(dep, observed):
        dep.changes.stop(problem)
    if dep.changes.stops and dep.changes.apply:
        raise DriftError(
            "up changed nothing: "
            + " | ".join(dep.changes.stops)
            + " (--update-iam lets up make the role and policy match)"
        )
    ensure_secret(dep, observed, generate)
    apply_iam(dep, observed.iam, observed.wanted_policy)
    if not observed.media_enabled and dep.enable_media_processing:
        enable_media_processing(dep, media)
    converge_functions(dep, observed)
    state = dep.state
    if dep.changes.apply and state.previous_secrets and state.rotation_started_at is None:
        state.rotation_started_at = dep.waits.clock()  # the functions now mint with the new one
        state.save()
    return dep.changes.summaries
