"""The job's UserData: what the callback needs to recognise stale results, in a compact form.

Wire form: ``mt1;e=<etag>;s=<size>`` plus ``;v=<version id>`` for versioned objects and ``;a=<n>``
for the object's n-th job when an earlier one failed for a reason not about the content; values are
percent-encoded (UTF-8, upper-case hex) outside ``[A-Za-z0-9._-]``, so the whole text is printable
ASCII as CI requires (at most 1024 characters). ``decode_user_data`` never raises: anything that
is not ours (older jobs, other tools, tampered text) is None. No I/O here.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

from shared.errors import EventError
from shared.records import record

USER_DATA_VERSION = "mt1"
MAX_USER_DATA_LENGTH = 1024
_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-")
_ENCODED_VALUE = re.compile(r"(?:[A-Za-z0-9._-]|%[0-9A-F]{2})*")
_SIZE = re.compile(r"[0-9]{1,20}")
_ATTEMPT = re.compile(r"[1-9][0-9]{0,2}")


@record
class UserDataFacts:
    """The object as it was when the job was submitted."""

    etag: str
    size: int
    version_id: str | None = None
    attempt: int = 1  # 1 for the upload's own job; a resubmission after a transient failure: 2..


def _encode_value(value: str) -> str:
    return "".join(
        char if char in _SAFE else "".join(f"%{byte:02X}" for byte in char.encode("utf-8"))
        for char in value
    )


def _decode_value(value: str) -> str | None:
    if not _ENCODED_VALUE.fullmatch(value):
        return None
    try:
        return unquote(value, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        return None


def encode_user_data(etag: str, size: int, version_id: str | None = None, attempt: int = 1) -> str:
    """UserData for one upload; EventError if it cannot fit CI's 1024-character limit."""
    if size < 0:
        raise ValueError("size must not be negative")
    if not 1 <= attempt <= 999:
        raise ValueError("attempt must be from 1 to 999")
    parts = [USER_DATA_VERSION, f"e={_encode_value(etag)}", f"s={size}"]
    if version_id:
        parts.append(f"v={_encode_value(version_id)}")
    if attempt > 1:
        parts.append(f"a={attempt}")
    text = ";".join(parts)
    if len(text) > MAX_USER_DATA_LENGTH:
        raise EventError(f"UserData would be {len(text)} characters (CI allows 1024)")
    return text


def _fields(text: str) -> dict[str, str] | None:
    head, _, rest = text.partition(";")
    if head != USER_DATA_VERSION or not rest:
        return None
    fields: dict[str, str] = {}
    for item in rest.split(";"):
        name, equals, value = item.partition("=")
        decoded = _decode_value(value)
        if not equals or decoded is None or name in fields:
            return None
        fields[name] = decoded
    return fields


def decode_user_data(text: str | None) -> UserDataFacts | None:
    """The facts in ``text``, or None when absent, not ours or malformed. Never raises."""
    if not isinstance(text, str) or len(text) > MAX_USER_DATA_LENGTH:
        return None
    fields = _fields(text)
    if fields is None or not fields.get("e") or not _SIZE.fullmatch(fields.get("s", "")):
        return None
    attempt = fields.get("a", "1")
    if not _ATTEMPT.fullmatch(attempt):
        return None
    # Unknown fields are ignored so a later writer can add some without breaking this reader.
    return UserDataFacts(
        etag=fields["e"],
        size=int(fields["s"]),
        version_id=fields.get("v") or None,
        attempt=int(attempt),
    )
