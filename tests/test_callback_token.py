"""Callback tokens: the contract's HMAC, URL building, constant-time verification."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

import pytest

from shared.contract.callback_token import (
    callback_url_for,
    mint_callback_token,
    verify_callback_token,
)
from shared.errors import ForbiddenError, UnauthorizedError

SECRET = "0123456789abcdef0123456789abcdef"
BUCKET = "media-uploads-1250000000"
KEY = "videos/2024/11/demo.mp4"


def test_token_matches_an_independent_computation() -> None:
    # Written out by hand from contracts.md, not through the module.
    message = b"media-tagger/v1\nmedia-uploads-1250000000\nvideos/2024/11/demo.mp4"
    raw = hmac.new(SECRET.encode(), message, hashlib.sha256).digest()
    expected = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    assert mint_callback_token(SECRET, BUCKET, KEY) == expected


def test_known_answer() -> None:
    # Computed once with `openssl dgst -sha256 -hmac ... -binary | base64`, base64url, unpadded.
    expected = "2QDLu4yq5LZ9_bsVnw69n0HekmrT8g4ZGlep1hO9DDY"
    assert mint_callback_token(SECRET, BUCKET, KEY) == expected


def test_token_shape() -> None:
    token = mint_callback_token(SECRET, BUCKET, "视频/a b+c%.mp4")
    assert len(token) == 43
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", token)


@pytest.mark.parametrize(
    ("bucket", "key"),
    [
        (BUCKET, "videos/2024/11/demo.mp5"),
        ("media-uploads-1250000001", KEY),
        (BUCKET, "/" + KEY),
        ("media-uploads-1250000000\nvideos", "2024/11/demo.mp4"),  # separator is unambiguous
    ],
)
def test_token_is_bound_to_bucket_and_key(bucket: str, key: str) -> None:
    assert mint_callback_token(SECRET, bucket, key) != mint_callback_token(SECRET, BUCKET, KEY)


def test_token_depends_on_secret() -> None:
    other = "fedcba9876543210fedcba9876543210"
    assert mint_callback_token(other, BUCKET, KEY) != mint_callback_token(SECRET, BUCKET, KEY)


@pytest.mark.parametrize(
    ("base", "separator"),
    [
        ("https://1250000000-abc.ap-guangzhou.tencentscf.com/", "?"),
        ("https://1250000000-abc.ap-guangzhou.tencentscf.com/cb?env=prod", "&"),
    ],
)
def test_callback_url(base: str, separator: str) -> None:
    token = mint_callback_token(SECRET, BUCKET, KEY)
    assert callback_url_for(base, SECRET, BUCKET, KEY) == f"{base}{separator}token={token}"


def test_verify_accepts_the_right_token() -> None:
    verify_callback_token(SECRET, BUCKET, KEY, mint_callback_token(SECRET, BUCKET, KEY))


@pytest.mark.parametrize("presented", [None, "", "   "])
def test_missing_token_is_unauthorized(presented: str | None) -> None:
    with pytest.raises(UnauthorizedError):
        verify_callback_token(SECRET, BUCKET, KEY, presented)


@pytest.mark.parametrize(
    "presented",
    ["A" * 43, "not-a-token", "令牌", "x"],
)
def test_wrong_token_is_forbidden(presented: str) -> None:
    with pytest.raises(ForbiddenError):
        verify_callback_token(SECRET, BUCKET, KEY, presented)


def test_another_objects_token_is_forbidden() -> None:
    replayed = mint_callback_token(SECRET, BUCKET, "videos/other.mp4")
    with pytest.raises(ForbiddenError):
        verify_callback_token(SECRET, BUCKET, KEY, replayed)


def test_verify_uses_compare_digest(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        seen.append((a, b))
        return real(a, b)

    monkeypatch.setattr("shared.contract.callback_token.hmac.compare_digest", spy)
    verify_callback_token(SECRET, BUCKET, KEY, mint_callback_token(SECRET, BUCKET, KEY))
    assert len(seen) == 1
