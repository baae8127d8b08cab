"""Callback URL tokens: an HMAC bound to one object, so a leaked URL cannot tag another object.

token = base64url(HMAC-SHA256(secret, b"media-tagger/v1\\n" + bucket + b"\\n" + key)), unpadded
(43 characters). The upload function appends it to the callback URL; the callback function
recomputes it for the bucket/key the body claims and compares in constant time. This module must
not log, store or return the secret, and never compares tokens with ``==``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from shared.errors import ForbiddenError, UnauthorizedError

TOKEN_CONTEXT = b"media-tagger/v1\n"
TOKEN_PARAMETER = "token"  # noqa: S105 -- the query parameter name


def mint_callback_token(secret: str, bucket: str, key: str) -> str:
    """The token for ``bucket`` ("<name>-<appid>") and the raw object ``key``."""
    message = TOKEN_CONTEXT + bucket.encode("utf-8") + b"\n" + key.encode("utf-8")
    digest = hmac.new(secret.encode("utf-8"), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def callback_url_for(base_url: str, secret: str, bucket: str, key: str) -> str:
    """``base_url`` with ``token=<token>`` appended (the token is URL-safe as is)."""
    separator = "&" if "?" in base_url else "?"
    return f"{base_url}{separator}{TOKEN_PARAMETER}={mint_callback_token(secret, bucket, key)}"


def verify_callback_token(secret: str, bucket: str, key: str, presented: str | None) -> None:
    """Raise UnauthorizedError when no token was presented, ForbiddenError when it is wrong."""
    if presented is None or not presented.strip():
        raise UnauthorizedError("callback token missing")
    expected = mint_callback_token(secret, bucket, key).encode("ascii")
    if not hmac.compare_digest(expected, presented.strip().encode("utf-8")):
        raise ForbiddenError("callback token does not match this object")
