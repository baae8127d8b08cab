"""serverless.yml's ``instances`` as the deploy tool's function and trigger specs.

The single source of truth for both routes: name, description, handler, runtime, memory, timeout,
namespace, role, environment variables and events of every function come from the instance's
``inputs``; ``${app}``/``${stage}`` and ``${env:NAME}`` are resolved the way Serverless Cloud
Framework resolves them, from the values the caller passes (DEPLOY_*, the environment/.env, and
the tool's own MEDIA_TAGGER_CALLBACK_SECRET / _PREVIOUS / _URL). A variable added to serverless.yml
is deployed without a code change here; an unresolved ``${env:NAME}`` is an error naming it, and an
input key this tool does not apply is reported by ``unapplied_inputs`` (tests/test_deployment.py
fails on one). Pure: no I/O.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from deploy.cloud.errors import SetupError
from deploy.runtime import instance_inputs

APPLIED_INPUTS = frozenset(
    {
        "name",
        "description",
        "handler",
        "runtime",
        "memorySize",
        "timeout",
        "namespace",
        "type",
        "role",
        "region",
        "environment",
        "events",
    }
)
NOT_APPLIED_INPUTS = {
    "src": "the code is build/<function>.zip from `make package` (the same tree)",
    "retryNum": "async retry count: SCF's default (2) applies, as with the framework",
    "msgTTL": "async event age: SCF's default (21600 s) applies, as with the framework",
}
TRIGGER_KINDS = ("http", "cos", "timer")
DEFAULT_QUALIFIER = "$DEFAULT"
HTTP_TRIGGER_NAME = "url-trigger"  # the framework toolkit's name for a function URL trigger
TIMER_TRIGGER_NAME = "timer"
_REFERENCE = re.compile(r"\$\{(?:(env):)?([A-Za-z0-9_]+)\}")


@dataclass(frozen=True)
class TriggerSpec:
    """One trigger as CreateTrigger takes it; ``description`` is TriggerDesc before encoding."""

    kind: str
    name: str
    qualifier: str
    enabled: bool
    description: Any

    @property
    def description_text(self) -> str:
        if isinstance(self.description, str):
            return self.description  # a timer's bare cron expression
        return json.dumps(self.description, separators=(",", ":"))


@dataclass(frozen=True)
class FunctionSpec:
    """One SCF function as serverless.yml describes it, every reference resolved."""

    key: str
    name: str
    namespace: str
    description: str
    handler: str
    runtime: str
    memory_size: int
    timeout: int
    role: str
    environment: Mapping[str, str] = field(repr=False)
    triggers: tuple[TriggerSpec, ...]

    def trigger(self, kind: str) -> TriggerSpec | None:
        return next((trigger for trigger in self.triggers if trigger.kind == kind), None)


def _scalar_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class Manifest:
    """The parsed serverless.yml (deploy.runtime.load_manifest) for one stage."""

    def __init__(self, data: Mapping[str, Any], stage: str | None = None) -> None:
        self._data = data
        self._inputs = instance_inputs(data)
        self.app = str(data.get("app", ""))
        self.stage = stage or str(data.get("stage", "dev"))
        tops = {key: value for key, value in data.items() if isinstance(value, (str, int))}
        self._tops = {str(key): _scalar_text(value) for key, value in tops.items()}
        self._tops["stage"] = self.stage

    def function_keys(self) -> list[str]:
        """Instance keys, functions with a function URL first (the others may need its URL)."""
        keys = list(self._inputs)
        return sorted(keys, key=lambda key: (not self._has_event(key, "http"), keys.index(key)))

    def _has_event(self, key: str, kind: str) -> bool:
        events = self._inputs[key].get("events") or []
        return any(isinstance(event, dict) and kind in event for event in events)

    def function_name(self, key: str) -> str:
        return str(self._resolve(self._inputs[key]["name"], {}, key))

    def unapplied_inputs(self, key: str) -> list[str]:
        return sorted(set(self._inputs[key]) - APPLIED_INPUTS - set(NOT_APPLIED_INPUTS))

    def render(self, key: str, values: Mapping[str, str], region: str) -> FunctionSpec:
        """Instance ``key`` with every reference resolved; SetupError names what is missing."""
        inputs = self._resolve(self._inputs[key], values, key)
        if str(inputs.get("region", region)) != region:
            raise SetupError(f"serverless.yml: {key} is for region {inputs['region']}")
        if str(inputs.get("type", "event")).lower() != "event":
            raise SetupError(f"serverless.yml: {key} is not an event function")
        variables = (inputs.get("environment") or {}).get("variables") or {}
        environment = {str(k): _scalar_text(v) for k, v in variables.items() if v not in ("", None)}
        return FunctionSpec(
            key=key,
            name=str(inputs["name"]),
            namespace=str(inputs.get("namespace", "default")),
            description=str(inputs.get("description", "")),
            handler=str(inputs["handler"]),
            runtime=str(inputs["runtime"]),
            memory_size=int(inputs.get("memorySize", 128)),
            timeout=int(inputs.get("timeout", 3)),
            role=str(inputs.get("role", "")),
            environment=dict(sorted(environment.items())),
            triggers=tuple(_trigger(key, event) for event in inputs.get("events") or []),
        )

    def _resolve(self, value: Any, values: Mapping[str, str], key: str) -> Any:
        if isinstance(value, dict):
            return {name: self._resolve(item, values, key) for name, item in value.items()}
        if isinstance(value, list):
            return [self._resolve(item, values, key) for item in value]
        if not isinstance(value, str):
            return value

        def substitute(match: re.Match[str]) -> str:
            env, name = match.groups()
            found = values.get(name) if env else self._tops.get(name)
            if found is None:
                where = f"${{env:{name}}}" if env else f"${{{name}}}"
                raise SetupError(
                    f"serverless.yml: {key} uses {where}; set {name} in the environment or .env"
                )
            return found

        return _REFERENCE.sub(substitute, value)


def _trigger(key: str, event: Any) -> TriggerSpec:
    if not isinstance(event, dict) or len(event) != 1 or next(iter(event)) not in TRIGGER_KINDS:
        raise SetupError(f"serverless.yml: {key} has an event this tool cannot create: {event}")
    kind, given = next(iter(event.items()))
    body: dict[str, Any] = given if isinstance(given, dict) else {}
    parameters: dict[str, Any] = body.get("parameters") or {}
    qualifier = str(parameters.get("qualifier", DEFAULT_QUALIFIER))
    if kind == "http":
        net = parameters.get("netConfig") or {}
        description = {
            "AuthType": str(parameters.get("authType", "NONE")),
            "NetConfig": {
                "EnableIntranet": bool(net.get("enableIntranet", False)),
                "EnableExtranet": bool(net.get("enableExtranet", False)),
            },
        }
        name = str(parameters.get("name", HTTP_TRIGGER_NAME))
        return TriggerSpec(kind, name, qualifier, True, description)
    enabled = bool(parameters.get("enable", False))
    if kind == "cos":
        filters = parameters.get("filter") or {}
        description = {
            "event": str(parameters["events"]),
            "filter": {
                "Prefix": str(filters.get("prefix") or ""),
                "Suffix": str(filters.get("suffix") or ""),
            },
        }
        return TriggerSpec(kind, str(parameters["bucket"]), qualifier, enabled, description)
    name = str(parameters.get("name") or body.get("name") or TIMER_TRIGGER_NAME)
    return TriggerSpec(kind, name, qualifier, enabled, str(parameters["cronExpression"]))


def secret_carriers(specs: Sequence[FunctionSpec], variable: str) -> list[FunctionSpec]:
    """Functions that carry ``variable``, verifiers (function URL) first, then minters."""
    carriers = [spec for spec in specs if variable in spec.environment]
    return sorted(carriers, key=lambda spec: spec.trigger("http") is None)
