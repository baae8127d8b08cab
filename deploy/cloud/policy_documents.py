"""CAM documents as data: the SCF trust policy, deploy/cam-policy.json rendered for one bucket, and
a comparison that says exactly what an existing document grants beyond (or lacks against) ours.

Documents are compared as sets of grants (effect, action, resource, condition), so statement
order and grouping do not matter, and CAM's read-back spellings (``name/cos:HeadObject``, a
string for a one-item list, a URL-encoded document) compare equal to ours. Pure: no I/O.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

from deploy.cloud.errors import SetupError

SCF_SERVICE = "scf.qcloud.com"
TRUST_POLICY: dict[str, Any] = {
    "version": "2.0",
    "statement": [
        {
            "action": "name/sts:AssumeRole",
            "effect": "allow",
            "principal": {"service": [SCF_SERVICE]},
        }
    ],
}
PLACEHOLDERS = (
    "<region>", "<appid>", "<bucket>", "<owner-uin>", "<namespace>", "<upload-function>"
)  # fmt: skip
UPLOAD_FUNCTION_KEY = "submit_on_upload"  # serverless.yml's instance that invokes itself (hand-on)
_LEFTOVER = re.compile(r"<[a-z-]+>")
Grant = tuple[str, str, str, str]


def render_policy(
    template: str,
    region: str,
    appid: str,
    bucket: str,
    owner_uin: str,
    *,
    namespace: str = "",
    upload_function: str = "",
) -> dict[str, Any]:
    """deploy/cam-policy.json with its placeholders filled in (``upload_function`` and
    ``namespace`` name the function that may invoke itself to hand records on)."""
    text = template
    values = (region, appid, bucket, owner_uin, namespace, upload_function)
    for placeholder, value in zip(PLACEHOLDERS, values):
        if value:
            text = text.replace(placeholder, value)
    leftover = _LEFTOVER.search(text)
    if leftover:
        raise SetupError(f"deploy/cam-policy.json has an unknown placeholder {leftover.group()}")
    document: dict[str, Any] = json.loads(text)
    return document


def parse_document(text: object) -> dict[str, Any]:
    """A PolicyDocument as CAM returns it (JSON text, possibly URL-encoded)."""
    if isinstance(text, dict):
        return text
    raw = str(text or "")
    for candidate in (raw, unquote(raw)):
        try:
            parsed = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(parsed, dict):
            return parsed
    raise SetupError("CAM returned a policy document that is not JSON")


def _as_list(value: object) -> list[Any]:
    """CAM writes a one-item list as the item itself."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _items(value: object) -> list[str]:
    return [str(item) for item in _as_list(value)]


def _action(name: str) -> str:
    return name[len("name/") :] if name.startswith("name/") else name


def grants(document: dict[str, Any]) -> set[Grant]:
    """Every (effect, action, resource-or-principal, condition) the document states."""
    found: set[Grant] = set()
    for statement in _statements(document):
        effect = str(statement.get("effect", "")).lower()
        condition = json.dumps(statement.get("condition"), sort_keys=True)
        principal = statement.get("principal")
        targets = _items(statement.get("resource"))
        if isinstance(principal, dict):
            targets += [
                f"{kind}:{who}" for kind, value in principal.items() for who in _items(value)
            ]
        for action in _items(statement.get("action")):
            found.update(
                (effect, _action(action), target, condition) for target in targets or ["*"]
            )
    return found


def _statements(document: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for statement in _as_list(document.get("statement")):
        if isinstance(statement, dict):
            yield statement


def _describe(grant: Grant) -> str:
    effect, action, target, condition = grant
    suffix = f" if {condition}" if condition != "null" else ""
    return f"{effect} {action} on {target}{suffix}"


def differences(deployed: dict[str, Any], wanted: dict[str, Any]) -> list[str]:
    """Human-readable differences; empty when both grant exactly the same."""
    have, want = grants(deployed), grants(wanted)
    extra = [f"grants {_describe(grant)} (beyond ours)" for grant in sorted(have - want)]
    missing = [f"lacks {_describe(grant)}" for grant in sorted(want - have)]
    return extra + missing
