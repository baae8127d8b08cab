"""The readings of an object key CI echoes back: as it is, and percent-decoded.

Whether ``Input.Object`` in a callback body and in GET /jobs answers is the raw key or its
percent-encoding is undocumented (cos-ci-api.md section 9 item 10; Tencent's demos never decode
it). So a key is read at most two ways: raw first, then RFC 3986 percent-decoded as strict UTF-8
(``unquote``, not ``unquote_plus``: a '+' in a key is a '+'). Never more than those two: every
extra reading would be one more object a token could be checked against. Pure, no I/O.
"""

from __future__ import annotations

from urllib.parse import unquote

RAW = "raw"
DECODED = "decoded"


def decoded_key(key: str) -> str | None:
    """``key`` percent-decoded, or None when that reading does not exist or changes nothing."""
    if "%" not in key:
        return None
    try:
        decoded = unquote(key, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:  # e.g. "%FF": not the encoding of any UTF-8 key
        return None
    return decoded if decoded != key and decoded else None


def key_forms(key: str) -> tuple[tuple[str, str], ...]:
    """``((RAW, key),)`` plus ``(DECODED, decoded)`` when decoding changes the key; raw first."""
    decoded = decoded_key(key)
    return ((RAW, key),) if decoded is None else ((RAW, key), (DECODED, decoded))


def names_key(echoed: str | None, key: str) -> bool:
    """Whether a key CI echoed (raw or percent-encoded) names the object ``key``."""
    return echoed is not None and any(form == key for _, form in key_forms(echoed))
