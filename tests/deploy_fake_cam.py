"""The CAM half of the deploy tool's fake control plane: roles, custom policies, attachments.

Policies are read back in a CAM-like spelling (``name/`` action prefixes, a one-item list as a
plain string) so the tool's comparison is exercised on a document that is equal in meaning but
not in text; that spelling is a tolerance test, not a claim about CAM's exact output.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, ClassVar

from tests.deploy_fake_scf import APPID, FakeApiError

OWNER_UIN = "100000000001"


def cam_spelling(document_text: str) -> str:
    document = json.loads(document_text)
    for statement in document.get("statement", []):
        actions = statement.get("action")
        if isinstance(actions, list):
            actions = [a if a.startswith("name/") else f"name/{a}" for a in actions]
            statement["action"] = actions[0] if len(actions) == 1 else actions
    return json.dumps(document)


@dataclass
class FakeRole:
    role_id: str
    document: str
    attached: list[int] = field(default_factory=list)


class FakeCam:
    PARAMETERS: ClassVar[dict[str, tuple[set[str], set[str]]]] = {
        "GetUserAppId": (set(), set()),
        "GetRole": ({"RoleName"}, {"RoleName"}),
        "CreateRole": (
            {"RoleName", "PolicyDocument", "Description"},
            {"RoleName", "PolicyDocument"},
        ),
        "UpdateAssumeRolePolicy": ({"RoleName", "PolicyDocument"}, {"RoleName", "PolicyDocument"}),
        "DeleteRole": ({"RoleName"}, {"RoleName"}),
        "ListPolicies": ({"Keyword", "Scope", "Rp", "Page"}, set()),
        "GetPolicy": ({"PolicyId"}, {"PolicyId"}),
        "CreatePolicy": (
            {"PolicyName", "PolicyDocument", "Description"},
            {"PolicyName", "PolicyDocument"},
        ),
        "UpdatePolicy": ({"PolicyId", "PolicyDocument"}, {"PolicyId", "PolicyDocument"}),
        "DeletePolicy": ({"PolicyId"}, {"PolicyId"}),
        "AttachRolePolicy": ({"PolicyId", "AttachRoleName"}, {"PolicyId", "AttachRoleName"}),
        "DetachRolePolicy": ({"PolicyId", "DetachRoleName"}, {"PolicyId", "DetachRoleName"}),
        "ListAttachedRolePolicies": ({"RoleName", "Page", "Rp"}, {"RoleName"}),
    }

    def __init__(self) -> None:
        # SCF's service role exists in every account whose owner opened the SCF console once
        self.roles: dict[str, FakeRole] = {"SCF_QcsRole": FakeRole("4611686018427000000", "{}")}
        self.policies: dict[int, dict[str, str]] = {}
        self._ids = iter(range(90_000_001, 91_000_000))

    def add_policy(self, name: str, document: str) -> int:
        policy_id = next(self._ids)
        self.policies[policy_id] = {"PolicyName": name, "PolicyDocument": document}
        return policy_id

    def _role(self, name: str) -> FakeRole:
        if name not in self.roles:
            raise FakeApiError("InvalidParameter.RoleNotExist", "role not exist")
        return self.roles[name]

    def _policy(self, policy_id: int) -> dict[str, str]:
        if policy_id not in self.policies:
            raise FakeApiError("InvalidParameter.PolicyIdNotExist", "policy not exist")
        return self.policies[policy_id]

    def GetUserAppId(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"Uin": OWNER_UIN, "OwnerUin": OWNER_UIN, "AppId": int(APPID)}

    def GetRole(self, params: dict[str, Any]) -> dict[str, Any]:
        role = self._role(params["RoleName"])
        info = {
            "RoleId": role.role_id,
            "RoleName": params["RoleName"],
            "PolicyDocument": role.document,
        }
        return {"RoleInfo": info}

    def CreateRole(self, params: dict[str, Any]) -> dict[str, Any]:
        if params["RoleName"] in self.roles:
            raise FakeApiError("InvalidParameter.RoleNameInUse", "role name in use")
        role_id = str(next(self._ids))
        self.roles[params["RoleName"]] = FakeRole(role_id, params["PolicyDocument"])
        return {"RoleId": role_id}

    def UpdateAssumeRolePolicy(self, params: dict[str, Any]) -> dict[str, Any]:
        self._role(params["RoleName"]).document = params["PolicyDocument"]
        return {}

    def DeleteRole(self, params: dict[str, Any]) -> dict[str, Any]:
        if self._role(params["RoleName"]).attached:
            raise FakeApiError("FailedOperation.RoleHasPolicy", "detach policies first")
        del self.roles[params["RoleName"]]
        return {}

    def ListPolicies(self, params: dict[str, Any]) -> dict[str, Any]:
        keyword = params.get("Keyword", "")
        listed = [
            {"PolicyId": pid, "PolicyName": policy["PolicyName"], "Type": 1}
            for pid, policy in sorted(self.policies.items())
            if keyword in policy["PolicyName"]
        ]
        return {"List": listed, "TotalNum": len(listed)}

    def GetPolicy(self, params: dict[str, Any]) -> dict[str, Any]:
        policy = self._policy(params["PolicyId"])
        return {
            "PolicyName": policy["PolicyName"],
            "Type": 1,
            "PolicyDocument": cam_spelling(policy["PolicyDocument"]),
        }

    def CreatePolicy(self, params: dict[str, Any]) -> dict[str, Any]:
        if any(p["PolicyName"] == params["PolicyName"] for p in self.policies.values()):
            raise FakeApiError("FailedOperation.PolicyNameInUse", "policy name in use")
        return {"PolicyId": self.add_policy(params["PolicyName"], params["PolicyDocument"])}

    def UpdatePolicy(self, params: dict[str, Any]) -> dict[str, Any]:
        self._policy(params["PolicyId"])["PolicyDocument"] = params["PolicyDocument"]
        return {}

    def DeletePolicy(self, params: dict[str, Any]) -> dict[str, Any]:
        for policy_id in params["PolicyId"]:
            self._policy(policy_id)
            if any(policy_id in role.attached for role in self.roles.values()):
                raise FakeApiError("FailedOperation.PolicyInUse", "still attached")
            del self.policies[policy_id]
        return {}

    def AttachRolePolicy(self, params: dict[str, Any]) -> dict[str, Any]:
        self._policy(params["PolicyId"])
        role = self._role(params["AttachRoleName"])
        if params["PolicyId"] not in role.attached:
            role.attached.append(params["PolicyId"])
        return {}

    def DetachRolePolicy(self, params: dict[str, Any]) -> dict[str, Any]:
        role = self._role(params["DetachRoleName"])
        role.attached.remove(params["PolicyId"])
        return {}

    def ListAttachedRolePolicies(self, params: dict[str, Any]) -> dict[str, Any]:
        role = self._role(params["RoleName"])
        listed = [
            {"PolicyId": pid, "PolicyName": self.policies[pid]["PolicyName"], "PolicyType": "User"}
            for pid in role.attached
        ]
        return {"List": listed, "TotalNum": len(listed)}
