"""The SCF half of the deploy tool's fake control plane: functions with Status transitions,
environment variables, code hashes and triggers (function URL, COS, timer), kept in memory.

Each action lists the parameters it accepts (the SDK model's names we use) and those it requires;
anything else is recorded as a violation (the test fixture fails on one) and answered with an
error, because an exception raised here would reach the tool as a network error. Answers follow
the API 3.0 shapes of research/control-plane.md (TriggerDesc as read back: a timer's is
``{"cron": ...}``, a function URL's carries NetConfig.ExtranetUrl).
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, ClassVar

APPID = "1250000000"
REGION = "ap-guangzhou"


class FakeApiError(Exception):
    """An API error answer: ``{"Error": {"Code", "Message"}}``."""

    def __init__(self, code: str, message: str = "fake error") -> None:
        super().__init__(code)
        self.code = code
        self.message = message


@dataclass
class FakeFunction:
    name: str
    config: dict[str, Any]
    status: str = "Creating"
    pending: list[str] = field(default_factory=list)
    code_sha: str = ""
    mod_time: int = 0
    triggers: list[dict[str, Any]] = field(default_factory=list)
    reasons: list[dict[str, str]] = field(default_factory=list)

    def answer(self) -> dict[str, Any]:
        variables = [{"Key": k, "Value": v} for k, v in sorted(self.config["Environment"].items())]
        return {
            **{key: value for key, value in self.config.items() if key != "Environment"},
            "FunctionName": self.name,
            "Environment": {"Variables": variables},
            "Status": self.status,
            "StatusReasons": list(self.reasons),
            "ModTime": f"2026-12-01 10:{self.mod_time:02d}:00",
            "Triggers": [dict(trigger) for trigger in self.triggers],
        }

    def advance(self) -> None:
        if self.pending:
            self.status = self.pending.pop(0)


CONFIG_KEYS = ("Description", "MemorySize", "Timeout", "Role")


def _environment(given: dict[str, Any] | None) -> dict[str, str]:
    variables = (given or {}).get("Variables") or []
    return {item["Key"]: item["Value"] for item in variables if item.get("Key")}


class FakeScf:
    """SCF 2018-04-16 for one region and namespace."""

    PARAMETERS: ClassVar[dict[str, tuple[set[str], set[str]]]] = {
        # action: (accepted, required)
        "GetFunction": ({"FunctionName", "Namespace", "Qualifier"}, {"FunctionName"}),
        "GetFunctionAddress": ({"FunctionName", "Namespace", "Qualifier"}, {"FunctionName"}),
        "CreateFunction": (
            {
                "FunctionName",
                "Namespace",
                "Description",
                "MemorySize",
                "Timeout",
                "Role",
                "Environment",
                "Handler",
                "Runtime",
                "Type",
                "Code",
            },
            {"FunctionName", "Code", "Handler", "Runtime", "Role"},
        ),
        "UpdateFunctionCode": ({"FunctionName", "Namespace", "Handler", "Code"}, {"FunctionName"}),
        "UpdateFunctionConfiguration": (
            {"FunctionName", "Namespace", *CONFIG_KEYS, "Environment"},
            {"FunctionName"},
        ),
        "DeleteFunction": ({"FunctionName", "Namespace"}, {"FunctionName"}),
        "ListTriggers": ({"FunctionName", "Namespace", "Limit"}, {"FunctionName"}),
        "CreateTrigger": (
            {
                "FunctionName",
                "Namespace",
                "TriggerName",
                "Type",
                "TriggerDesc",
                "Qualifier",
                "Enable",
            },
            {"FunctionName", "TriggerName", "Type", "TriggerDesc", "Qualifier"},
        ),
        "UpdateTrigger": (
            {
                "FunctionName",
                "Namespace",
                "TriggerName",
                "Type",
                "TriggerDesc",
                "Qualifier",
                "Enable",
            },
            {"FunctionName", "TriggerName", "Type"},
        ),
        "DeleteTrigger": (
            {"FunctionName", "Namespace", "TriggerName", "Type", "TriggerDesc", "Qualifier"},
            {"FunctionName", "TriggerName", "Type", "Qualifier"},
        ),
    }

    def __init__(self) -> None:
        self.functions: dict[str, FakeFunction] = {}
        self.settle_polls = 1  # GetFunction answers before a transition ends
        self.create_outcome = "Active"
        self.url_ids = iter(f"url{index:04d}" for index in range(10_000))

    def function(self, params: dict[str, Any]) -> FakeFunction:
        found = self.functions.get(params["FunctionName"])
        if found is None or found.status == "Deleted":
            raise FakeApiError("ResourceNotFound.Function", "function not found")
        return found

    def _transition(self, function: FakeFunction, passing: str, final: str) -> None:
        function.status = passing
        function.pending = [passing] * (self.settle_polls - 1) + [final]
        function.mod_time += 1

    def _require_active(self, function: FakeFunction, action: str) -> None:
        if function.status != "Active":
            raise FakeApiError(f"FailedOperation.{action}", f"function is {function.status}")

    def GetFunction(self, params: dict[str, Any]) -> dict[str, Any]:
        function = self.function(params)
        answer = function.answer()
        function.advance()
        if function.status == "Deleted":
            del self.functions[function.name]
        return answer

    def GetFunctionAddress(self, params: dict[str, Any]) -> dict[str, Any]:
        function = self.function(params)
        return {
            "Url": "https://cos.example/code.zip",
            "CodeSha256": f"scf-{function.code_sha[:16]}",
        }

    def CreateFunction(self, params: dict[str, Any]) -> dict[str, Any]:
        if params["FunctionName"] in self.functions:
            raise FakeApiError("ResourceInUse.Function", "exists")
        config = {key: params.get(key) for key in (*CONFIG_KEYS, "Handler", "Runtime")}
        config["Environment"] = _environment(params.get("Environment"))
        function = FakeFunction(params["FunctionName"], config)
        function.code_sha = hashlib.sha256(base64.b64decode(params["Code"]["ZipFile"])).hexdigest()
        self._transition(function, "Creating", self.create_outcome)
        if self.create_outcome == "CreateFailed":
            function.reasons = [{"ErrorCode": "InternalError", "ErrorMessage": "image pull"}]
        self.functions[function.name] = function
        return {}

    def UpdateFunctionCode(self, params: dict[str, Any]) -> dict[str, Any]:
        function = self.function(params)
        self._require_active(function, "UpdateFunctionCode")
        function.code_sha = hashlib.sha256(base64.b64decode(params["Code"]["ZipFile"])).hexdigest()
        function.config["Handler"] = params.get("Handler", function.config["Handler"])
        self._transition(function, "Updating", "Active")
        return {}

    def UpdateFunctionConfiguration(self, params: dict[str, Any]) -> dict[str, Any]:
        function = self.function(params)
        self._require_active(function, "UpdateFunctionConfiguration")
        function.config.update({key: params[key] for key in CONFIG_KEYS if key in params})
        if "Environment" in params:
            function.config["Environment"] = _environment(params["Environment"])
        self._transition(function, "Updating", "Active")
        return {}

    def DeleteFunction(self, params: dict[str, Any]) -> dict[str, Any]:
        function = self.function(params)
        self._transition(function, "Deleting", "Deleted")
        return {}

    def ListTriggers(self, params: dict[str, Any]) -> dict[str, Any]:
        triggers = [dict(item) for item in self.function(params).triggers]
        return {"Triggers": triggers, "TotalCount": len(triggers)}

    def _stored_description(self, params: dict[str, Any]) -> str:
        if params["Type"] == "timer":
            return json.dumps({"cron": params["TriggerDesc"]})
        if params["Type"] != "http":
            return str(params["TriggerDesc"])
        description = json.loads(params["TriggerDesc"])
        url = f"https://{APPID}-{next(self.url_ids)}.{REGION}.tencentscf.com"
        description["NetConfig"]["ExtranetUrl"] = (
            url if description["NetConfig"]["EnableExtranet"] else ""
        )
        description["NetConfig"]["IntranetUrl"] = ""
        return json.dumps(description)

    def add_trigger(self, function: FakeFunction, params: dict[str, Any]) -> dict[str, Any]:
        trigger = {
            "Type": params["Type"],
            "TriggerName": params["TriggerName"],
            "TriggerDesc": self._stored_description(params),
            "Qualifier": params.get("Qualifier", "$LATEST"),
            "Enable": 1 if params.get("Enable", "OPEN") == "OPEN" else 0,
            "AvailableStatus": "Available",
        }
        function.triggers.append(trigger)
        return trigger

    def CreateTrigger(self, params: dict[str, Any]) -> dict[str, Any]:
        function = self.function(params)
        for trigger in function.triggers:
            if (trigger["Type"], trigger["TriggerName"]) == (params["Type"], params["TriggerName"]):
                raise FakeApiError("ResourceInUse.Trigger", "trigger exists")
        return {"TriggerInfo": dict(self.add_trigger(function, params))}

    def _find_trigger(self, params: dict[str, Any]) -> dict[str, Any]:
        for trigger in self.function(params).triggers:
            if (trigger["Type"], trigger["TriggerName"]) == (params["Type"], params["TriggerName"]):
                return trigger
        raise FakeApiError("ResourceNotFound.Trigger", "no such trigger")

    def UpdateTrigger(self, params: dict[str, Any]) -> dict[str, Any]:
        trigger = self._find_trigger(params)
        if "TriggerDesc" in params:
            old = json.loads(trigger["TriggerDesc"]) if params["Type"] == "http" else {}
            trigger["TriggerDesc"] = self._stored_description(params)
            if old:  # a function URL keeps its address
                kept = json.loads(trigger["TriggerDesc"])
                kept["NetConfig"]["ExtranetUrl"] = old["NetConfig"].get("ExtranetUrl", "")
                trigger["TriggerDesc"] = json.dumps(kept)
        if "Enable" in params:
            trigger["Enable"] = 1 if params["Enable"] == "OPEN" else 0
        return {}

    def DeleteTrigger(self, params: dict[str, Any]) -> dict[str, Any]:
        trigger = self._find_trigger(params)
        if trigger["Type"] == "cos" and params.get("TriggerDesc") != trigger["TriggerDesc"]:
            raise FakeApiError("InvalidParameterValue.TriggerDesc", "COS needs its TriggerDesc")
        self.function(params).triggers.remove(trigger)
        return {}
