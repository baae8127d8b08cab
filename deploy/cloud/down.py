"""``down``: remove what ``up`` created; ask before touching anything it did not create.

Order: each function's triggers, then the function (waiting until SCF no longer lists it), the
function URL's function last; then our policy (detached, deleted) and the role. A resource the
state file does not record as created by this tool (a role that existed before, a function the
framework deployed) is removed only after a yes to ``confirm`` (interactive y/N, or ``--yes``).
Media processing stays enabled (Cloud Infinite documents no call to turn it off; it does nothing
while no job is submitted). When everything is gone the state file (and so the secret) is deleted.
"""

from __future__ import annotations

from collections.abc import Callable

from deploy.cloud.deployment import Deployment
from deploy.cloud.functions import delete_function, function_id, get_function
from deploy.cloud.iam import attached_policies, find_policy_id, find_role, policy_name
from deploy.cloud.manifest import FunctionSpec
from deploy.cloud.media_processing import describe
from deploy.cloud.triggers import list_triggers

Confirm = Callable[[str], bool]


def _allowed(dep: Deployment, resource: str, what: str, confirm: Confirm) -> bool:
    if resource in dep.state.created:
        return True
    if confirm(f"{what} was not created by `python -m deploy up`: delete it?"):
        return True
    dep.report(f"  = kept {what}")
    return False


def remove_function(dep: Deployment, spec: FunctionSpec, confirm: Confirm) -> bool:
    """True when the function is gone (or was never there)."""
    if get_function(dep, spec.name, spec.namespace) is None:
        dep.changes.unchanged(f"SCF function {spec.name} (not deployed)")
        return True
    if not _allowed(dep, function_id(spec), f"SCF function {spec.name}", confirm):
        return False
    for trigger in list_triggers(dep, spec):
        params = {
            "FunctionName": spec.name,
            "Namespace": spec.namespace,
            "TriggerName": str(trigger.get("TriggerName")),
            "Type": str(trigger.get("Type")),
            "Qualifier": str(trigger.get("Qualifier") or "$DEFAULT"),
        }
        if trigger.get("Type") == "cos":  # SCF needs the COS trigger's description to delete it
            params["TriggerDesc"] = str(trigger.get("TriggerDesc") or "")
        summary = f"- {trigger.get('Type')} trigger {trigger.get('TriggerName')} of {spec.name}"
        dep.changes.write(summary, "scf", "DeleteTrigger", params)
    delete_function(dep, spec, f"- SCF function {spec.name}")
    return True


def _remove_policy(dep: Deployment, role_exists: bool, confirm: Confirm) -> bool:
    """Our policy, detached first; True when it is gone (or was never there)."""
    target, changes = dep.target, dep.changes
    name, policy_id = policy_name(target), find_policy_id(changes, policy_name(target))
    if policy_id is None:
        return True
    if not _allowed(dep, f"policy:{policy_id}", f"CAM policy {name}", confirm):
        return False
    if role_exists and policy_id in attached_policies(changes, target.role):
        params = {"PolicyId": policy_id, "DetachRoleName": target.role}
        changes.write(f"- detach {name} from {target.role}", "cam", "DetachRolePolicy", params)
    changes.write(f"- CAM policy {name}", "cam", "DeletePolicy", {"PolicyId": [policy_id]})
    dep.state.created -= {f"policy:{policy_id}", f"attachment:{policy_id}:{target.role}"}
    return True


def remove_iam(dep: Deployment, confirm: Confirm) -> bool:
    """Our policy and the role; True when both are gone."""
    role = dep.target.role
    role_exists = find_role(dep.changes, role) is not None
    policy_gone = _remove_policy(dep, role_exists, confirm)
    if not role_exists:
        return policy_gone
    if not _allowed(dep, f"role:{role}", f"CAM role {role}", confirm):
        return False
    dep.changes.write(f"- CAM role {role}", "cam", "DeleteRole", {"RoleName": role})
    dep.state.created.discard(f"role:{role}")
    return policy_gone


def run_down(dep: Deployment, confirm: Confirm) -> bool:
    """Remove everything (asking where needed); True when nothing of the deployment is left."""
    specs = [dep.spec(key) for key in dep.manifest.function_keys()]
    gone = [remove_function(dep, spec, confirm) for spec in reversed(specs)]
    iam_gone = remove_iam(dep, confirm)
    dep.report(f"  = {describe(dep.target)} stays on (no documented API turns it off)")
    complete = all(gone) and iam_gone
    if dep.changes.apply and complete:
        dep.state.remove()
        dep.report(f"  - state file {dep.state.path} (with the callback secret)")
    elif dep.changes.apply:
        dep.state.save()
    return complete
