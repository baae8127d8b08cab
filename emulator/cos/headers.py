"""Which request headers COS keeps with an object, and which headers GET/HEAD answer with.

Stored at PUT Object and Initiate Multipart Upload (COS PUT Object / Initiate docs): Content-Type,
``x-cos-meta-*`` and the standard headers Cache-Control, Content-Disposition, Content-Encoding,
Expires and Content-Language. Content-Language is not on the PUT Object page but the Object Lock
overview lists it among stored headers and the SDK maps ContentLanguage to it: UNCERTAIN in
/work/research/cos-facts.md section 6, stored here as the likelier behaviour. GET (never HEAD:
the HEAD Object page lists no ``response-*`` parameter) applies the six ``response-*`` overrides
of the GET Object doc. Values are kept byte for byte; Content-Encoding is metadata only (the body
is never decoded). Malformed Content-MD5 (400 InvalidDigest) and x-cos-tagging (400 InvalidTag)
are refused here. This module reads and builds header lists; it does no I/O.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from email.utils import formatdate

from emulator.cos.store import StoredObject, Tags
from emulator.cos.tagging import TagRules, parse_tagging_header
from emulator.wire import ServiceError

DEFAULT_CONTENT_TYPE = "application/octet-stream"
META_PREFIX = "x-cos-meta-"
CRC64_HEADER = "x-cos-hash-crc64ecma"  # lower case: cos-python-sdk-v5 looks it up by this name
STANDARD_HEADERS = (
    "Cache-Control",
    "Content-Disposition",
    "Content-Encoding",
    "Content-Language",
    "Expires",
)
RESPONSE_OVERRIDES = {
    "response-cache-control": "Cache-Control",
    "response-content-disposition": "Content-Disposition",
    "response-content-encoding": "Content-Encoding",
    "response-content-language": "Content-Language",
    "response-content-type": "Content-Type",
    "response-expires": "Expires",
}


def http_date(epoch: float) -> str:
    return formatdate(epoch, usegmt=True)


def stored_headers(request_headers: Mapping[str, str]) -> dict[str, str]:
    """The standard headers of a PUT/Initiate request (lower-case names in) by canonical name."""
    return {
        name: request_headers[name.lower()]
        for name in STANDARD_HEADERS
        if name.lower() in request_headers
    }


def user_meta(request_headers: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in request_headers.items() if k.startswith(META_PREFIX)}


def content_type(request_headers: Mapping[str, str]) -> str:
    # Default when none is sent: UNCERTAIN in cos-facts.md section 6 (the doc marks it required);
    # application/octet-stream is what the SDKs document as the default.
    return request_headers.get("content-type") or DEFAULT_CONTENT_TYPE


def content_md5(request_headers: Mapping[str, str]) -> bytes | None:
    """The raw digest of Content-MD5, None when absent; 400 InvalidDigest when malformed."""
    value = request_headers.get("content-md5")
    if value is None:
        return None
    try:
        digest = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        digest = b""
    if len(digest) != 16:
        raise ServiceError(400, "InvalidDigest", "The Content-MD5 you specified is not valid.")
    return digest


def request_tags(request_headers: Mapping[str, str], rules: TagRules) -> Tags:
    """The tags of ``x-cos-tagging`` (checked against COS's limits); () when absent."""
    if "x-cos-tagging" not in request_headers:
        return ()
    tags = parse_tagging_header(request_headers["x-cos-tagging"])
    rules.validate(tags)
    return tags


def object_headers(obj: StoredObject) -> list[tuple[str, str]]:
    """What a 200 GET/HEAD carries about ``obj`` (names spelled as COS sends them)."""
    headers = [
        ("Content-Type", obj.content_type),
        ("ETag", f'"{obj.etag}"'),
        ("Last-Modified", http_date(obj.last_modified)),
        ("Accept-Ranges", "bytes"),
    ]
    headers.extend((name, obj.headers[name]) for name in STANDARD_HEADERS if name in obj.headers)
    headers.extend(sorted(obj.meta.items()))
    if obj.crc64 is not None:
        headers.append((CRC64_HEADER, obj.crc64))
    if obj.tags:
        headers.append(("x-cos-tagging-count", str(len(obj.tags))))
    if obj.version_id:
        headers.append(("x-cos-version-id", obj.version_id))
    return headers


def with_overrides(
    headers: list[tuple[str, str]], params: list[tuple[str, str]]
) -> list[tuple[str, str]]:
    """``headers`` with every ``response-*`` query parameter replacing (or adding) its header."""
    overrides: dict[str, str] = {}
    for name, value in params:
        header = RESPONSE_OVERRIDES.get(name.lower())
        if header is not None:
            overrides.setdefault(header, value)
    if not overrides:
        return headers
    kept = [(name, value) for name, value in headers if name not in overrides]
    return kept + list(overrides.items())
