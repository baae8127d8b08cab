"""SCF function-URL event and legacy API Gateway event -> one typed ``HttpRequest``.

Function URLs send ``httpMethod``, ``path``, lower-case ``headers``, ``queryString`` and a text
``body``; the legacy API Gateway event adds ``queryStringParameters``, ``requestContext`` and
``isBase64Encoded``. The body size cap is enforced here, before anything decodes or parses the
body. This module does no I/O and no authentication, and never logs (the query holds the token).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

from shared.errors import EventError, MalformedBodyError, PayloadTooLargeError
from shared.records import field, record

_BASE64_WHITESPACE = str.maketrans("", "", " \t\r\n")


@record
class HttpRequest:
    """One HTTP request as the function saw it. ``body`` is the raw bytes, already un-base64ed."""

    method: str
    path: str = "/"
    headers: Mapping[str, str] = field(default_factory=dict)
    query: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    source_ip: str | None = None


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        # A repeated parameter: joined so it can never equal a single well-formed token.
        return ",".join(_text(item) for item in value)
    return value if isinstance(value, str) else str(value)


def _string_map(value: Any, *, lower_keys: bool = False) -> dict[str, str]:
    if not isinstance(value, Mapping):
        return {}
    mapped: dict[str, str] = {}
    for key, item in value.items():
        name = _text(key)
        mapped[name.lower() if lower_keys else name] = _text(item)
    return mapped


def _query(event: Mapping[str, Any]) -> dict[str, str]:
    """``queryString`` (every parameter) wins over ``queryStringParameters`` (declared ones)."""
    query = _string_map(event.get("queryStringParameters"))
    query.update(_string_map(event.get("queryString")))
    return query


def _method(event: Mapping[str, Any]) -> str:
    context = event.get("requestContext")
    method = event.get("httpMethod")
    if not method and isinstance(context, Mapping):
        method = context.get("httpMethod")
    if not isinstance(method, str) or not method.strip():
        raise EventError("event has no httpMethod: not a function URL or API Gateway event")
    return method.strip().upper()


def _is_base64(event: Mapping[str, Any]) -> bool:
    flag = event.get("isBase64Encoded")
    return flag is True or (isinstance(flag, str) and flag.strip().lower() == "true")


def _body(event: Mapping[str, Any], max_bytes: int) -> bytes:
    raw = event.get("body")
    if raw is None:
        return b""
    if not isinstance(raw, str):
        raise MalformedBodyError("event body is not a string")
    if _is_base64(event):
        encoded = raw.translate(_BASE64_WHITESPACE)
        # Checked on the encoded length first so a huge body is refused without decoding it.
        if (len(encoded) // 4) * 3 > max_bytes + 2:
            raise PayloadTooLargeError(f"body larger than {max_bytes} bytes")
        try:
            body = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise MalformedBodyError("body is flagged base64 but is not valid base64") from exc
    else:
        if len(raw) > max_bytes:  # a character is at least one byte
            raise PayloadTooLargeError(f"body larger than {max_bytes} bytes")
        try:
            body = raw.encode("utf-8")
        except UnicodeEncodeError as exc:  # lone surrogates from a JSON "\ud800" escape
            raise MalformedBodyError("body is not encodable as UTF-8") from exc
    if len(body) > max_bytes:
        raise PayloadTooLargeError(f"body larger than {max_bytes} bytes")
    return body


def parse_http_event(event: Any, *, max_body_bytes: int) -> HttpRequest:
    """Typed request from a function-URL or API Gateway event; EventError subclasses on bad input
    (400 no method / bad base64 / non-text body, 413 body over ``max_body_bytes``)."""
    if not isinstance(event, Mapping):
        raise EventError("event is not a JSON object")
    headers = _string_map(event.get("headers"), lower_keys=True)
    context = event.get("requestContext")
    source_ip = headers.get("x-scf-remote-addr")
    if source_ip is None and isinstance(context, Mapping):
        source_ip = _text(context.get("sourceIp")) or None
    return HttpRequest(
        method=_method(event),
        path=_text(event.get("path")) or "/",
        headers=headers,
        query=_query(event),
        body=_body(event, max_body_bytes),
        source_ip=source_ip,
    )
