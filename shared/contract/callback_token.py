"""Callback URL tokens: an HMAC bound to one object, so a leaked URL cannot tag another object.

Two versions, both base64url(HMAC-SHA256(secret, message)) unpadded (43 characters, "mac"):

- v1 (legacy, query only): ``?token=<mac>``, message ``"media-tagger/v1\\n" bucket "\\n" key``.
  Jobs submitted before v2 still call back with it, so it keeps verifying.
- v2 (new submissions): the token ``v2.<mac>`` is the last path segment of the callback URL,
  message ``"media-tagger/v2\\n" region "\\n" bucket "\\n" key``: the region is bound too.

Why the path: whether CI keeps the CallBack URL's query string is undocumented (no Tencent sample
CallBack has a ``?``; cos-ci-api.md section 9 item 9), while a function URL always hands the
request ``path`` to the handler (scf-platform.md section 2.2). Region and bucket are host labels,
so they never contain the separator. Any secret verifies (current or previous, for rotation);
only the caller's current one mints. This module must not log, store or return a secret, and
compares tokens only with ``hmac.compare_digest`` over equal-length ASCII bytes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Sequence
from urllib.parse import urlsplit, urlunsplit

from shared.records import record

TOKEN_CONTEXT = b"media-tagger/v1\n"
TOKEN_V2_CONTEXT = b"media-tagger/v2\n"
TOKEN_PARAMETER = "token"  # noqa: S105 -- the query parameter name (v1, and v2 if sent there)
V2_PREFIX = "v2."
_MAC = r"[A-Za-z0-9_-]{43}"
_V1_TOKEN = re.compile(_MAC)
_V2_TOKEN = re.compile(re.escape(V2_PREFIX) + _MAC)
MALFORMED = 0  # the version of a presented token that fits no grammar: it matches nothing


@record
class PresentedToken:
    """A token as the caller presented it: where (``path``/``query``), which version, its MAC."""

    place: str
    version: int
    mac: str

    @property
    def kind(self) -> str:
        """``v2-path``, ``v1-query``, ``malformed-query``: what the decision log records."""
        return f"v{self.version}-{self.place}" if self.version else f"malformed-{self.place}"


def _mac(secret: str, message: bytes) -> str:
    digest = hmac.new(secret.encode("utf-8"), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _message(version: int, region: str, bucket: str, key: str) -> bytes | None:
    """The signed text, or None when no real object can have these names: a line break in
    region or bucket would blur the separators; a lone surrogate (a JSON "\\ud800" escape) is
    not UTF-8, and COS keys are."""
    if "\n" in region or "\n" in bucket:
        return None
    fields = f"{bucket}\n{key}" if version == 1 else f"{region}\n{bucket}\n{key}"
    try:
        text = fields.encode("utf-8")
    except UnicodeEncodeError:
        return None
    return (TOKEN_CONTEXT if version == 1 else TOKEN_V2_CONTEXT) + text


def _minted(secret: str, version: int, region: str, bucket: str, key: str) -> str:
    message = _message(version, region, bucket, key)
    if message is None:
        raise ValueError("no object has such a region, bucket or key")
    return _mac(secret, message)


def mint_callback_token(secret: str, bucket: str, key: str) -> str:
    """The v1 token (bare MAC) for ``bucket`` ("<name>-<appid>") and the raw object ``key``."""
    return _minted(secret, 1, "", bucket, key)


def mint_callback_token_v2(secret: str, region: str, bucket: str, key: str) -> str:
    """The v2 token, ``v2.<mac>``, bound to region, bucket and the raw object key."""
    return V2_PREFIX + _minted(secret, 2, region, bucket, key)


def callback_url_for(base_url: str, secret: str, bucket: str, key: str, *, region: str) -> str:
    """``base_url`` with ``/<v2 token>`` appended to its path; its own path and query are kept.

    ``https://h/`` -> ``https://h/v2.<mac>``; ``https://h/cb?env=prod`` ->
    ``https://h/cb/v2.<mac>?env=prod`` (the token is URL-safe as it is).
    """
    parts = urlsplit(base_url)
    path = parts.path.rstrip("/") + "/" + mint_callback_token_v2(secret, region, bucket, key)
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))


def path_token(path: str) -> str | None:
    """The v2 token in a request path (its last segment), or None when the path carries none."""
    last = path.rstrip("/").rsplit("/", 1)[-1]
    return last if last.startswith(V2_PREFIX) else None


def parse_presented(text: str, place: str) -> PresentedToken:
    """The grammar check (public, so no secret is involved): v1 ``<mac>`` (query only) or v2
    ``v2.<mac>``. Anything else is a ``MALFORMED`` token, which matches no object."""
    if place == "query" and _V1_TOKEN.fullmatch(text):
        return PresentedToken(place, 1, text)
    if _V2_TOKEN.fullmatch(text):
        return PresentedToken(place, 2, text[len(V2_PREFIX) :])
    return PresentedToken(place, MALFORMED, "")


def matching_secret(
    secrets: Sequence[str], token: PresentedToken, region: str, bucket: str, key: str
) -> int | None:
    """Index in ``secrets`` (current first) of the secret that minted ``token`` for this object,
    or None. Every secret is compared (no early exit), always over 43 ASCII bytes."""
    message = _message(token.version, region, bucket, key) if token.version else None
    if message is None:
        return None
    presented = token.mac.encode("ascii")
    found: int | None = None
    for index, secret in enumerate(secrets):
        expected = _mac(secret, message).encode("ascii")
        if hmac.compare_digest(expected, presented) and found is None:
            found = index
    return found


def secret_label(index: int) -> str:
    """``current`` or ``previous-<n>`` (1 = the newest previous secret): logged, never the value."""
    return "current" if index == 0 else f"previous-{index}"
