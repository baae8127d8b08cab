"""Object key <-> result document key: one-to-one, reversible, and always a usable COS key.

Two forms, told apart by the segment after the bucket (docs/result-document.md "Names"):

    <prefix><bucket>/k/<escaped key>.json    readable; the object key comes back from the name
    <prefix><bucket>/h/<sha256 hex>.json     when the readable name would pass COS's 850 bytes

``<bucket>`` is the object's bucket (``<name>-<appid>``), so one location can serve several
buckets. Escaping keeps letters, digits, ``- . _ ( ) !`` and every printable character from
U+0100 up (CJK stays readable, three bytes each) and writes every other character as ``%XX`` of
its UTF-8 bytes: ``%`` itself, space, ``+``, ``#``, ``?``, the characters COS says to avoid or
handle specially, controls and U+0080-U+00FF. A ``/`` stays only between two non-empty segments
(``a//b``, a leading or a trailing ``/`` become ``%2F``) and a ``.`` or ``..`` segment becomes
``%2E``/``%2E%2E``, so a name never has an empty or a dot segment (clients that simplify paths,
e.g. the SDK's key check, leave it alone). Decoding is percent-decoding; a name this module would
not have produced decodes to None. The hashed form is SHA-256 of the key's UTF-8 bytes; its
document holds the key (``object.key``). Pure: no I/O.
"""

from __future__ import annotations

import hashlib
import re
import string
import unicodedata
from urllib.parse import unquote

from shared.errors import EventError
from shared.records import record

MAX_KEY_BYTES = 850  # COS: keys are 1-850 bytes of UTF-8 (research cos-facts.md section 8)
READABLE = "k"
HASHED = "h"
SUFFIX = ".json"
_SAFE_ASCII = frozenset(string.ascii_letters + string.digits + "-._()!")
_ESCAPE = re.compile(r"%[0-9A-F]{2}")
_HASH = re.compile(r"[0-9a-f]{64}")
_BUCKET = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,48}[a-z0-9])?-[0-9]{5,20}")


@record
class DocumentName:
    """What a document key says: the object's bucket, and its key unless the name is hashed."""

    bucket: str
    key: str | None
    hashed: bool


def _kept(char: str) -> bool:
    if char in _SAFE_ASCII:
        return True
    # U+0100 and up, but no controls, format characters, surrogates, private use, unassigned
    # code points or separators (categories C* and Z*): they would be invisible or ambiguous.
    return ord(char) >= 0x100 and unicodedata.category(char)[0] not in "CZ"


def _percent(char: str) -> str:
    return "".join(f"%{byte:02X}" for byte in char.encode("utf-8"))


def _kept_slash(key: str, at: int) -> bool:
    """A '/' stays only between two non-empty segments."""
    return 0 < at < len(key) - 1 and key[at - 1] != "/" and key[at + 1] != "/"


def escape_key(key: str) -> str:
    """The readable form of ``key`` (without prefix, bucket or suffix); module docstring."""
    try:
        key.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise EventError("the object key is not valid UTF-8") from exc
    out = []
    for at, char in enumerate(key):
        if char == "/":
            out.append("/" if _kept_slash(key, at) else "%2F")
        else:
            out.append(char if _kept(char) else _percent(char))
    segments = "".join(out).split("/")
    return "/".join(
        segment.replace(".", "%2E") if segment in (".", "..") else segment for segment in segments
    )


def unescape_key(escaped: str) -> str | None:
    """The key back from its readable form; None unless ``escape_key`` would produce it."""
    if "%" in _ESCAPE.sub("", escaped):
        return None  # a '%' that does not start an escape
    try:
        key = unquote(escaped, errors="strict")
    except UnicodeDecodeError:
        return None
    if not key or escape_key(key) != escaped:
        return None
    return key


def document_key(prefix: str, bucket: str, key: str) -> str:
    """The document key for ``key`` of ``bucket`` under ``prefix`` (which ends with '/')."""
    if not key:
        raise EventError("the object key is empty")
    readable = f"{prefix}{bucket}/{READABLE}/{escape_key(key)}{SUFFIX}"
    if len(readable.encode("utf-8")) <= MAX_KEY_BYTES:
        return readable
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()
    return f"{prefix}{bucket}/{HASHED}/{digest}{SUFFIX}"


def parse_document_key(prefix: str, name: str) -> DocumentName | None:
    """What a document key under ``prefix`` names; None for any other key."""
    if not name.startswith(prefix) or not name.endswith(SUFFIX):
        return None
    bucket, _, rest = name[len(prefix) : -len(SUFFIX)].partition("/")
    form, _, body = rest.partition("/")
    if not _BUCKET.fullmatch(bucket):
        return None
    if form == HASHED and _HASH.fullmatch(body):
        return DocumentName(bucket, None, True)
    key = unescape_key(body) if form == READABLE else None
    if key is None or document_key(prefix, bucket, key) != name:
        return None  # not ours, or a readable name for a key that must be hashed
    return DocumentName(bucket, key, False)
