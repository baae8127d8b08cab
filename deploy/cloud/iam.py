"""The functions' execution role: SCF as the trusted service, and only deploy/cam-policy.json.

``observe_iam`` reads the role, our policy and the role's attachments; ``iam_stops`` lists every
difference that ``up`` must not change silently (another trusted principal, our policy's document
differing, another policy attached): exactly, grant by grant. ``up`` checks these before it writes
anything and stops, unless ``--update-iam`` says to make the role match (``apply_iam``).
Resources this creates are recorded in the state, so ``down`` removes them without asking.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from deploy.cloud.changes import ChangeSet
from deploy.cloud.deployment import Deployment
from deploy.cloud.errors import CloudApiError, SetupError
from deploy.cloud.policy_documents import (
    TRUST_POLICY,
    UPLOAD_FUNCTION_KEY,
    differences,
    parse_document,
    render_policy,
    result_location_of,
)
from deploy.cloud.target import DeployTarget

ROLE_NOT_FOUND = ("InvalidParameter.RoleNotExist", "ResourceNotFound")
# SCF's own service role: it writes the bucket's notification rule for a COS trigger (SCF doc
# 583/31444). The SCF console creates it the first time someone opens it; this tool only checks.
SCF_SERVICE_ROLE = "SCF_QcsRole"
LIST_PAGE_SIZE = 200


@dataclass(frozen=True)
class AccountIdentity:
    """The account the deploy keys belong to (CAM GetUserAppId)."""

    appid: str
    owner_uin: str


@dataclass
class IamObservation:
    """What CAM has now for this deployment's role and policy."""

    role: dict[str, Any] | None
    policy_id: int | None
    policy_document: dict[str, Any] | None
    attached: dict[int, str] = field(default_factory=dict)
    service_role_exists: bool = True


def policy_name(target: DeployTarget) -> str:
    return f"{target.role}-policy"


def _text(document: dict[str, Any]) -> str:
    return json.dumps(document, separators=(",", ":"))


def wanted_policy(dep: Deployment, template: str, identity: AccountIdentity) -> dict[str, Any]:
    """deploy/cam-policy.json for this deployment: its bucket, account and upload function, and
    the result documents' grant when the functions set MEDIA_TAGGER_RESULT_DOCUMENT."""
    target = dep.target
    upload = dep.spec(UPLOAD_FUNCTION_KEY)
    return render_policy(
        template,
        target.region,
        identity.appid,
        target.bucket,
        identity.owner_uin,
        namespace=upload.namespace,
        upload_function=upload.name,
        result_document=result_location_of([spec.environment for spec in dep.specs()]),
    )


def account_identity(changes: ChangeSet, target: DeployTarget) -> AccountIdentity:
    """GetUserAppId; SetupError when the bucket's APPID is not the account's."""
    answer = changes.read("cam", "GetUserAppId", {})
    identity = AccountIdentity(str(answer.get("AppId", "")), str(answer.get("OwnerUin", "")))
    if identity.appid != target.appid:
        raise SetupError(
            f"bucket {target.bucket} belongs to APPID {target.appid}, but the deploy keys are "
            f"of APPID {identity.appid}: check DEPLOY_BUCKET or the credentials"
        )
    return identity


def find_role(changes: ChangeSet, role: str) -> dict[str, Any] | None:
    try:
        answer = changes.read("cam", "GetRole", {"RoleName": role})
    except CloudApiError as exc:
        if exc.is_code(*ROLE_NOT_FOUND):
            return None
        raise
    info = answer.get("RoleInfo")
    return info if isinstance(info, dict) else None


def find_policy_id(changes: ChangeSet, name: str) -> int | None:
    params = {"Keyword": name, "Scope": "Local", "Rp": LIST_PAGE_SIZE, "Page": 1}
    for item in changes.read("cam", "ListPolicies", params).get("List") or []:
        if item.get("PolicyName") == name:
            return int(item["PolicyId"])
    return None


def attached_policies(changes: ChangeSet, role: str) -> dict[int, str]:
    params = {"RoleName": role, "Page": 1, "Rp": LIST_PAGE_SIZE}
    listed = changes.read("cam", "ListAttachedRolePolicies", params).get("List") or []
    return {int(item["PolicyId"]): str(item.get("PolicyName", "")) for item in listed}


def observe_iam(changes: ChangeSet, target: DeployTarget) -> IamObservation:
    role = find_role(changes, target.role)
    policy_id = find_policy_id(changes, policy_name(target))
    document = None
    if policy_id is not None:
        answer = changes.read("cam", "GetPolicy", {"PolicyId": policy_id})
        document = parse_document(answer.get("PolicyDocument"))
    attached = attached_policies(changes, target.role) if role is not None else {}
    service_role = find_role(changes, SCF_SERVICE_ROLE) is not None
    return IamObservation(role, policy_id, document, attached, service_role)


def service_role_stop(observed: IamObservation) -> str | None:
    if observed.service_role_exists:
        return None
    return (
        f"SCF's service role {SCF_SERVICE_ROLE} does not exist (SCF needs it to create the COS "
        "trigger): open the SCF console once (https://console.cloud.tencent.com/scf) and "
        "authorize the service role when asked, then run `python -m deploy up` again"
    )


def trust_differences(observed: IamObservation) -> list[str]:
    if observed.role is None:
        return []
    return differences(parse_document(observed.role.get("PolicyDocument")), TRUST_POLICY)


def other_attachments(observed: IamObservation) -> dict[int, str]:
    return {pid: name for pid, name in observed.attached.items() if pid != observed.policy_id}


def iam_stops(target: DeployTarget, observed: IamObservation, wanted: dict[str, Any]) -> list[str]:
    """Every difference between the existing role/policy and ours, stated exactly."""
    stops = []
    trust = trust_differences(observed)
    if trust:
        stops.append(f"CAM role {target.role} trust policy differs: {'; '.join(trust)}")
    if observed.policy_document is not None:
        found = differences(observed.policy_document, wanted)
        if found:
            name = policy_name(target)
            stops.append(
                f"CAM policy {name} differs from deploy/cam-policy.json: {'; '.join(found)}"
            )
    for pid, name in sorted(other_attachments(observed).items()):
        stops.append(
            f"CAM role {target.role} also has policy {name} ({pid}) attached, wider than "
            "deploy/cam-policy.json"
        )
    return stops


def _ensure_role(dep: Deployment, observed: IamObservation) -> None:
    changes, target = dep.changes, dep.target
    if observed.role is None:
        params = {
            "RoleName": target.role,
            "PolicyDocument": _text(TRUST_POLICY),
            "Description": f"{target.app} {target.stage}: SCF execution role (python -m deploy)",
        }
        summary = f"+ CAM role {target.role} (trusted service: SCF)"
        if changes.write(summary, "cam", "CreateRole", params) is not None:
            dep.state.created.add(f"role:{target.role}")
            dep.state.save()
    elif not trust_differences(observed):
        changes.unchanged(f"CAM role {target.role} (trusts SCF only)")
    elif dep.update_iam:  # else reported by iam_stops
        params = {"RoleName": target.role, "PolicyDocument": _text(TRUST_POLICY)}
        summary = f"~ CAM role {target.role}: trust SCF only"
        changes.write(summary, "cam", "UpdateAssumeRolePolicy", params)


def _create_policy(dep: Deployment, wanted: dict[str, Any]) -> int | None:
    name = policy_name(dep.target)
    params = {
        "PolicyName": name,
        "PolicyDocument": _text(wanted),
        "Description": f"{dep.target.app}: least privilege for bucket {dep.target.bucket}",
    }
    summary = f"+ CAM policy {name} (deploy/cam-policy.json)"
    answer = dep.changes.write(summary, "cam", "CreatePolicy", params)
    if answer is None:
        return None
    dep.state.created.add(f"policy:{int(answer['PolicyId'])}")
    dep.state.save()
    return int(answer["PolicyId"])


def _ensure_policy(dep: Deployment, observed: IamObservation, wanted: dict[str, Any]) -> int | None:
    if observed.policy_id is None:
        return _create_policy(dep, wanted)
    name = policy_name(dep.target)
    document = observed.policy_document
    if document is None or not differences(document, wanted):
        dep.changes.unchanged(f"CAM policy {name} (as deploy/cam-policy.json)")
    elif dep.update_iam:  # else reported by iam_stops
        params = {"PolicyId": observed.policy_id, "PolicyDocument": _text(wanted)}
        summary = f"~ CAM policy {name}: as deploy/cam-policy.json"
        dep.changes.write(summary, "cam", "UpdatePolicy", params)
    return observed.policy_id


def apply_iam(dep: Deployment, observed: IamObservation, wanted: dict[str, Any]) -> None:
    """Create what is missing and, with ``--update-iam``, change what differs."""
    _ensure_role(dep, observed)
    policy_id = _ensure_policy(dep, observed, wanted)
    changes, role, name = dep.changes, dep.target.role, policy_name(dep.target)
    if policy_id is None or policy_id not in observed.attached:
        params: dict[str, Any] = {"PolicyId": policy_id or 0, "AttachRoleName": role}
        summary = f"+ attach CAM policy {name} to role {role}"
        if changes.write(summary, "cam", "AttachRolePolicy", params) is not None:
            dep.state.created.add(f"attachment:{policy_id}:{role}")
            dep.state.save()
    else:
        changes.unchanged(f"CAM policy {name} attached to role {role}")
    for pid, other in sorted(other_attachments(observed).items()) if dep.update_iam else ():
        params = {"PolicyId": pid, "DetachRoleName": role}
        summary = f"- detach CAM policy {other} ({pid}) from role {role}"
        changes.write(summary, "cam", "DetachRolePolicy", params)
