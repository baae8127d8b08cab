"""``rotate-secret``: a new callback secret without refusing a single valid callback (issue 19).

Start (``rotate-secret``): the state file gets the new secret as current and the old one first
in the previous list (saved before any function changes, so an interrupted run resumes instead of
generating yet another secret). Then, on every function that carries MEDIA_TAGGER_CALLBACK_SECRET,
verifiers first: the callback function (function URL) gets the new secret plus
MEDIA_TAGGER_CALLBACK_SECRET_PREVIOUS=<old>, so it accepts tokens of both; only once it is Active
does the upload function get the new secret and start minting with it. The rotation clock starts
when the last of them is Active (recorded in the state file).

Finish (``rotate-secret --finish``): allowed only after the overlap (longest job time + reconcile
window, deploy/cloud/callback_secret.py: 7 h 10 min as shipped); removes the previous secrets.
Only the secret variables change: everything else on the functions stays as deployed.
"""

from __future__ import annotations

from collections.abc import Callable

from deploy.cloud.callback_secret import (
    CALLBACK_SECRET_PREVIOUS,
    describe_duration,
    fingerprint,
    new_secret,
    overlap_s,
    reconcile_window_s,
    usable_secret,
    utc_text,
)
from deploy.cloud.deployment import Deployment
from deploy.cloud.errors import RotationError
from deploy.cloud.function_config import deployed_environment, environment_param
from deploy.cloud.functions import get_function, wait_active
from deploy.cloud.manifest import FunctionSpec, secret_carriers
from shared.settings.functions import CALLBACK_SECRET


def _carriers(dep: Deployment) -> list[FunctionSpec]:
    """The functions carrying the secret, verifiers first; RotationError if one is missing."""
    carriers = secret_carriers(dep.specs(), CALLBACK_SECRET)
    if not carriers:
        raise RotationError(f"no function in serverless.yml carries {CALLBACK_SECRET}")
    for spec in carriers:
        if get_function(dep, spec.name, spec.namespace) is None:
            raise RotationError(f"function {spec.name} is not deployed: run `python -m deploy up`")
    return carriers


def apply_secrets(dep: Deployment, carriers: list[FunctionSpec]) -> None:
    """Patch the secret variables on each carrier, in order, waiting until each is Active."""
    state = dep.state
    for spec in carriers:
        function = wait_active(dep, spec)
        deployed = deployed_environment(function)
        wanted = dict(deployed)
        wanted[CALLBACK_SECRET] = state.callback_secret or ""
        if state.previous_secrets:
            wanted[CALLBACK_SECRET_PREVIOUS] = ",".join(state.previous_secrets)
        else:
            wanted.pop(CALLBACK_SECRET_PREVIOUS, None)
        if wanted == deployed:
            dep.changes.unchanged(
                f"{spec.name} secrets (current {fingerprint(state.callback_secret)})"
            )
            continue
        previous = ",".join(fingerprint(value) for value in state.previous_secrets) or "none"
        summary = (
            f"~ {spec.name}: {CALLBACK_SECRET} {fingerprint(state.callback_secret)}, "
            f"{CALLBACK_SECRET_PREVIOUS} {previous}"
        )
        params = {
            "FunctionName": spec.name,
            "Namespace": spec.namespace,
            "Environment": environment_param(wanted),
        }
        dep.changes.write(summary, "scf", "UpdateFunctionConfiguration", params)
        wait_active(dep, spec)


def _current_secret(dep: Deployment) -> str:
    if usable_secret(dep.state.callback_secret):
        return dep.state.callback_secret or ""
    raise RotationError(
        f"the state file {dep.state.path} has no callback secret: run `python -m deploy up` "
        "first (it adopts the deployed one)"
    )


def _adopt_deployed(dep: Deployment, verifier: FunctionSpec) -> None:
    """Rotate from what the callback function verifies with, not from a stale state file."""
    environment = deployed_environment(wait_active(dep, verifier))
    current = environment.get(CALLBACK_SECRET)
    previous = [p for p in environment.get(CALLBACK_SECRET_PREVIOUS, "").split(",") if p]
    if usable_secret(current) and current != dep.state.callback_secret:
        dep.state.callback_secret, dep.state.previous_secrets = current, previous
        dep.report(f"  = callback secret adopted from {verifier.name} instead of the state file's")


def start_rotation(dep: Deployment, generate: Callable[[], str] = new_secret) -> None:
    carriers = _carriers(dep)
    state = dep.state
    if state.previous_secrets and state.rotation_started_at is None:
        dep.report("  . resuming the rotation that was interrupted")
    else:
        _adopt_deployed(dep, carriers[0])
        old = _current_secret(dep)
        state.previous_secrets = [old, *(p for p in state.previous_secrets if p != old)]
        state.callback_secret = generate()
        state.rotation_started_at = None
        state.save()
    apply_secrets(dep, carriers)
    state.rotation_started_at = dep.waits.clock()
    state.save()
    overlap = overlap_s(reconcile_window_s(dep.specs()))
    dep.report(
        f"rotation started {utc_text(state.rotation_started_at)}: new secret "
        f"{fingerprint(state.callback_secret)} (kept in {state.path}); the previous one stays "
        f"valid for verification. Run `python -m deploy rotate-secret --finish` from "
        f"{utc_text(state.rotation_started_at + overlap)} (overlap {describe_duration(overlap)}: "
        "longest job time + reconcile window)"
    )


def finish_rotation(dep: Deployment) -> None:
    state = dep.state
    if not state.previous_secrets:
        raise RotationError("no rotation in progress: nothing to finish")
    if state.rotation_started_at is None:
        raise RotationError("the rotation's start did not complete: run `rotate-secret` again")
    overlap = overlap_s(reconcile_window_s(dep.specs()))
    allowed = state.rotation_started_at + overlap
    now = dep.waits.clock()
    if now < allowed:
        raise RotationError(
            f"too early: the previous secret must stay valid until {utc_text(allowed)} "
            f"(in {describe_duration(allowed - now)}; overlap {describe_duration(overlap)} = "
            "longest job time + reconcile window), or callbacks of jobs still running are refused"
        )
    carriers = _carriers(dep)
    state.previous_secrets = []
    apply_secrets(dep, carriers)
    state.rotation_started_at = None
    state.save()
    dep.report(f"rotation finished: only secret {fingerprint(state.callback_secret)} is accepted")
