"""One SCF function: created or updated (code, then configuration) and waited on until Active.

Code is uploaded when the zip's SHA-256 differs from the one this tool uploaded last (state file),
when the handler changed, or when SCF's own CodeSha256 (GetFunctionAddress) changed since, i.e.
someone replaced the code outside this tool. Configuration (description, memory, timeout, role,
environment) is compared field by field and sent only when something differs. Every wait is
bounded (``Waits``); a failed state raises with SCF's reasons. A function left in CreateFailed by
this tool is deleted and created again (SCF cannot update it); one the tool did not create stops.
"""

from __future__ import annotations

import base64
from typing import Any

from deploy.cloud.deployment import CodePackage, Deployment
from deploy.cloud.errors import CloudApiError, FunctionFailedError, WaitTimeoutError
from deploy.cloud.function_config import (
    code_params,
    config_differences,
    config_params,
    create_params,
)
from deploy.cloud.manifest import FunctionSpec

TRANSITIONAL = frozenset({"Creating", "Updating", "Publishing", "Deleting"})
ACTIVE = "Active"
FUNCTION_NOT_FOUND = ("ResourceNotFound.Function", "ResourceNotFound.FunctionName")


def function_id(spec: FunctionSpec) -> str:
    return f"function:{spec.namespace}/{spec.name}"


def get_function(dep: Deployment, name: str, namespace: str) -> dict[str, Any] | None:
    try:
        return dep.changes.read(
            "scf", "GetFunction", {"FunctionName": name, "Namespace": namespace}
        )
    except CloudApiError as exc:
        if exc.is_code(*FUNCTION_NOT_FOUND):
            return None
        raise


def _reasons(function: dict[str, Any]) -> str:
    reasons = function.get("StatusReasons") or []
    text = "; ".join(f"{r.get('ErrorCode')}: {r.get('ErrorMessage')}" for r in reasons)
    return text or str(function.get("StatusDesc") or "no reason given")


def wait_settled(dep: Deployment, spec: FunctionSpec) -> dict[str, Any]:
    """GetFunction until its Status is not transitional (bounded); the last answer."""
    deadline = dep.waits.clock() + dep.waits.timeout_s
    while True:
        function = get_function(dep, spec.name, spec.namespace)
        if function is None:
            raise FunctionFailedError(f"function {spec.name} disappeared while waiting for it")
        status = str(function.get("Status"))
        if status not in TRANSITIONAL:
            return function
        if dep.waits.clock() >= deadline:
            raise WaitTimeoutError(
                f"function {spec.name} still {status} after {dep.waits.timeout_s:.0f} s; "
                "check the SCF console, then run `python -m deploy up` again"
            )
        dep.waits.sleep(dep.waits.interval_s)


def wait_active(dep: Deployment, spec: FunctionSpec) -> dict[str, Any]:
    function = wait_settled(dep, spec)
    if function.get("Status") != ACTIVE:
        raise FunctionFailedError(
            f"function {spec.name} is {function.get('Status')}: {_reasons(function)}. "
            "`python -m deploy up` retries; `python -m deploy down` removes it"
        )
    return function


def wait_gone(dep: Deployment, spec: FunctionSpec) -> None:
    deadline = dep.waits.clock() + dep.waits.timeout_s
    while get_function(dep, spec.name, spec.namespace) is not None:
        if dep.waits.clock() >= deadline:
            raise WaitTimeoutError(f"function {spec.name} still exists after deleting it")
        dep.waits.sleep(dep.waits.interval_s)


def platform_code_sha(dep: Deployment, spec: FunctionSpec) -> str | None:
    """SCF's CodeSha256 of the deployed code (opaque: only compared with itself)."""
    params = {"FunctionName": spec.name, "Namespace": spec.namespace, "Qualifier": "$LATEST"}
    try:
        answer = dep.changes.read("scf", "GetFunctionAddress", params)
    except CloudApiError:
        return None  # optional signal: without it, the state file's sha decides alone
    value = answer.get("CodeSha256")
    return str(value) if value else None


def delete_function(dep: Deployment, spec: FunctionSpec, summary: str) -> None:
    params = {"FunctionName": spec.name, "Namespace": spec.namespace}
    if dep.changes.write(summary, "scf", "DeleteFunction", params) is not None:
        wait_gone(dep, spec)
        dep.state.created.discard(function_id(spec))
        dep.state.functions.pop(spec.name, None)
        dep.state.save()


def settle_existing(
    dep: Deployment, spec: FunctionSpec, observed: dict[str, Any] | None
) -> dict[str, Any] | None:
    """The deployed function once it is not transitional; None when absent (or replaced)."""
    if observed is None:
        return None
    function = observed
    if str(observed.get("Status")) in TRANSITIONAL and dep.changes.apply:
        dep.report(f"  . function {spec.name} is {observed.get('Status')}: waiting")
        function = wait_settled(dep, spec)
    if function.get("Status") != "CreateFailed":
        return function
    if function_id(spec) not in dep.state.created:
        raise FunctionFailedError(
            f"function {spec.name} is CreateFailed ({_reasons(function)}) and was not created "
            "by this tool: delete it in the SCF console, then run `python -m deploy up`"
        )
    delete_function(dep, spec, f"- SCF function {spec.name} (CreateFailed: replaced)")
    return None


def _record_code(dep: Deployment, spec: FunctionSpec, package: CodePackage) -> None:
    record = dep.state.function(spec.name)
    record.code_sha256 = package.sha256
    record.platform_code_sha256 = platform_code_sha(dep, spec)
    dep.state.save()


def create_function(
    dep: Deployment, spec: FunctionSpec, environment: dict[str, str]
) -> dict[str, Any] | None:
    package = dep.package(spec.key)
    summary = (
        f"+ SCF function {spec.name} ({spec.runtime}, {spec.memory_size} MB, {spec.timeout} s, "
        f"{len(environment)} variables, code {package.short})"
    )
    params = create_params(spec, environment, package.zip_base64)
    if dep.changes.write(summary, "scf", "CreateFunction", params) is None:
        return None
    dep.state.created.add(function_id(spec))
    dep.state.function(spec.name).created = True
    dep.state.save()
    function = wait_active(dep, spec)
    _record_code(dep, spec, dep.package(spec.key))
    return function


def _is_local_sha(platform: str | None, sha256_hex: str) -> bool:
    """UNCERTAIN: CodeSha256's encoding is undocumented; if it is the zip's SHA-256 (hex or
    base64), a lost state file costs no upload."""
    if not platform:
        return False
    encoded = base64.b64encode(bytes.fromhex(sha256_hex)).decode()
    return platform.lower() == sha256_hex or platform == encoded


def _code_is_current(dep: Deployment, spec: FunctionSpec, deployed: dict[str, Any]) -> bool:
    record, local = dep.state.function(spec.name), dep.package(spec.key).sha256
    if deployed.get("Handler") != spec.handler:
        return False
    if record.code_sha256 != local:
        return record.code_sha256 is None and _is_local_sha(platform_code_sha(dep, spec), local)
    if record.platform_code_sha256 is None:
        return True
    return platform_code_sha(dep, spec) in (None, record.platform_code_sha256)


def update_function(
    dep: Deployment, spec: FunctionSpec, environment: dict[str, str], deployed: dict[str, Any]
) -> dict[str, Any]:
    function = deployed
    if not _code_is_current(dep, spec, deployed):
        package = dep.package(spec.key)
        summary = f"~ SCF function {spec.name}: code {package.short} ({spec.handler})"
        params = code_params(spec, package.zip_base64)
        if dep.changes.write(summary, "scf", "UpdateFunctionCode", params) is not None:
            function = wait_active(dep, spec)
            _record_code(dep, spec, package)
    found = config_differences(spec, environment, function)
    if not found:
        dep.changes.unchanged(f"SCF function {spec.name}")
        return function
    summary = f"~ SCF function {spec.name} configuration: {'; '.join(found)}"
    params = config_params(spec, environment)
    if dep.changes.write(summary, "scf", "UpdateFunctionConfiguration", params) is not None:
        function = wait_active(dep, spec)
    return function


def converge_function(
    dep: Deployment,
    spec: FunctionSpec,
    environment: dict[str, str],
    observed: dict[str, Any] | None,
) -> dict[str, Any] | None:
    """The function as serverless.yml says; its GetFunction answer (None in a plan of a new one)."""
    deployed = settle_existing(dep, spec, observed)
    if deployed is None:
        return create_function(dep, spec, environment)
    return update_function(dep, spec, environment, deployed)
