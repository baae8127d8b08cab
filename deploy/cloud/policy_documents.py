"""CAM documents as data: the SCF trust policy, deploy/cam-policy.json rendered for one bucket, and
a comparison that says exactly what an existing document grants beyond (or lacks against) ours.

With result documents on (MEDIA_TAGGER_RESULT_DOCUMENT in the functions' environment) the rendered
policy also grants ``cos:PutObject`` and ``cos:HeadObject`` on ``<prefix>*`` of the document
bucket, and nothing else; with it off there is no PutObject anywhere in the policy.

Documents are compared as sets of grants (effect, action, resource, condition), so statement
order and grouping do not matter, and CAM's read-back spellings (``name/cos:HeadObject``, a
string for a one-item list, a URL-encoded document) compare equal to ours. Pure: no I/O.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import unquote

from deploy.cloud.errors import SetupError
from shared.errors import ConfigError
from shared.settings.functions import RESULT_DOCUMENT, result_document_setting
from shared.settings.result_document import ResultLocation

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
DOCUMENT_ACTIONS = ("cos:HeadObject", "cos:PutObject")


def result_location_of(environments: Sequence[Mapping[str, str]]) -> ResultLocation | None:
    """The functions' MEDIA_TAGGER_RESULT_DOCUMENT; they must agree: the upload function must
    know the location the callback writes to, or a document could start a job (a loop)."""
    values = {environment.get(RESULT_DOCUMENT, "").strip() for environment in environments}
    if len(values) > 1:
        raise SetupError(
            f"serverless.yml: every function needs the same {RESULT_DOCUMENT} (or none): the "
            "upload function refuses what is under it, reconcile writes there like the callback"
        )
    value = values.pop() if values else ""
    try:
        return result_document_setting({RESULT_DOCUMENT: value})
    except ConfigError as exc:
        raise SetupError(f"serverless.yml: {exc}") from exc


def document_statement(location: ResultLocation, region: str, appid: str) -> dict[str, Any]:
    """The grant result documents need: write and stamp-read under the prefix, nothing more."""
    if location.bucket.rsplit("-", 1)[1] != appid:
        raise SetupError(
            f"{RESULT_DOCUMENT}: the document bucket must belong to this account (appid {appid})"
        )
    resource = f"qcs::cos:{region}:uid/{appid}:{location.bucket}/{location.prefix}*"
    return {"effect": "allow", "action": list(DOCUMENT_ACTIONS), "resource": [resource]}


def render_policy(
    template: str,
    region: str,
    appid: str,
    bucket: str,
    owner_uin: str,
    *,
    namespace: str = "",
    upload_function: str = "",
    result_document: ResultLocation | None = None,
) -> dict[str, Any]:
    """deploy/cam-policy.json with its placeholders filled in (``upload_function`` and
    ``namespace`` name the function that may invoke itself to hand records on), and the
    document grant when result documents are on."""
    text = template
    values = (region, appid, bucket, owner_uin, namespace, upload_function)
    for placeholder, value in zip(PLACEHOLDERS, values):
        if value:
            text = text.replace(placeholder, value)
    leftover = _LEFTOVER.search(text)
    if leftover:
        raise SetupError(f"deploy/cam-policy.json has an unknown placeholder {leftover.group()}")
    document: dict[str, Any] = json.loads(text)
    if result_document is not None:
        document["statement"].append(document_statement(result_document, region, appid))
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
