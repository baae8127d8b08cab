"""SCF request parameters for one function, and what differs between it and the deployed one.

CreateFunction takes everything; UpdateFunctionCode the code and handler;
UpdateFunctionConfiguration the description, memory, timeout, role and the whole environment (it
replaces the set; an empty set is sent as one blank pair, SCF's way to clear it). Differences
name fields and variable names, never a variable's value. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from deploy.cloud.manifest import FunctionSpec

_ROLE_ARN_MARK = ":roleName/"


def environment_param(environment: Mapping[str, str]) -> dict[str, Any]:
    variables = [{"Key": key, "Value": value} for key, value in sorted(environment.items())]
    return {"Variables": variables or [{"Key": "", "Value": ""}]}


def config_params(spec: FunctionSpec, environment: Mapping[str, str]) -> dict[str, Any]:
    return {
        "FunctionName": spec.name,
        "Namespace": spec.namespace,
        "Description": spec.description,
        "MemorySize": spec.memory_size,
        "Timeout": spec.timeout,
        "Role": spec.role,
        "Environment": environment_param(environment),
    }


def create_params(
    spec: FunctionSpec, environment: Mapping[str, str], zip_base64: str
) -> dict[str, Any]:
    return {
        **config_params(spec, environment),
        "Handler": spec.handler,
        "Runtime": spec.runtime,
        "Type": "Event",
        "Code": {"ZipFile": zip_base64},
    }


def code_params(spec: FunctionSpec, zip_base64: str) -> dict[str, Any]:
    return {
        "FunctionName": spec.name,
        "Namespace": spec.namespace,
        "Handler": spec.handler,
        "Code": {"ZipFile": zip_base64},
    }


def deployed_environment(function: Mapping[str, Any]) -> dict[str, str]:
    """GetFunction's Environment.Variables as a dict (blank keys dropped)."""
    variables = (function.get("Environment") or {}).get("Variables") or []
    return {
        str(item.get("Key")): str(item.get("Value") or "")
        for item in variables
        if isinstance(item, dict) and item.get("Key")
    }


def role_name(value: object) -> str:
    """A role as GetFunction may return it (name, or qcs::cam::uin/<uin>:roleName/<name>)."""
    text = str(value or "")
    return text.split(_ROLE_ARN_MARK, 1)[1] if _ROLE_ARN_MARK in text else text


def environment_differences(wanted: Mapping[str, str], deployed: Mapping[str, str]) -> list[str]:
    changed = sorted(
        name for name in wanted.keys() & deployed.keys() if wanted[name] != deployed[name]
    )
    added = sorted(wanted.keys() - deployed.keys())
    removed = sorted(deployed.keys() - wanted.keys())
    parts = [
        f"{label} {', '.join(names)}"
        for label, names in (("changed", changed), ("added", added), ("removed", removed))
        if names
    ]
    return [f"environment: {'; '.join(parts)}"] if parts else []


def config_differences(
    spec: FunctionSpec, environment: Mapping[str, str], function: Mapping[str, Any]
) -> list[str]:
    """What UpdateFunctionConfiguration would change, e.g. ``MemorySize 128 -> 256``."""
    pairs = (
        ("Description", spec.description, str(function.get("Description") or "")),
        ("MemorySize", spec.memory_size, function.get("MemorySize")),
        ("Timeout", spec.timeout, function.get("Timeout")),
        ("Role", spec.role, role_name(function.get("Role"))),
    )
    found = [f"{name} {have!r} -> {want!r}" for name, want, have in pairs if want != have]
    return found + environment_differences(environment, deployed_environment(function))
