"""Callback tokens: the contract's two HMAC versions, the path URL, the grammar, and the
constant-time check over the current and previous secrets."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

import pytest

from shared.contract.callback_token import (
    MALFORMED,
    PresentedToken,
    callback_url_for,
    matching_secret,
    mint_callback_token,
    mint_callback_token_v2,
    parse_presented,
    path_token,
    secret_label,
)

SECRET = "0123456789abcdef0123456789abcdef"
OLD_SECRET = "fedcba9876543210fedcba9876543210-old"
BUCKET = "media-uploads-1250000000"
REGION = "ap-guangzhou"
KEY = "videos/2024/11/demo.mp4"
BASE = "https://1250000000-abc.ap-guangzhou.tencentscf.com"


def hand_mac(secret: str, message: bytes) -> str:
    raw = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def v2(secret: str = SECRET, region: str = REGION, bucket: str = BUCKET, key: str = KEY) -> str:
    return mint_callback_token_v2(secret, region, bucket, key)


def test_v1_token_matches_an_independent_computation() -> None:
    message = b"media-tagger/v1\nmedia-uploads-1250000000\nvideos/2024/11/demo.mp4"
    assert mint_callback_token(SECRET, BUCKET, KEY) == hand_mac(SECRET, message)


def test_v1_known_answer() -> None:
    # Computed once with `openssl dgst -sha256 -hmac ... -binary | base64`, base64url, unpadded.
    expected = "2QDLu4yq5LZ9_bsVnw69n0HekmrT8g4ZGlep1hO9DDY"
    assert mint_callback_token(SECRET, BUCKET, KEY) == expected


def test_v2_token_is_versioned_and_binds_the_region() -> None:
    message = b"media-tagger/v2\nap-guangzhou\nmedia-uploads-1250000000\nvideos/2024/11/demo.mp4"
    assert v2() == "v2." + hand_mac(SECRET, message)
    assert re.fullmatch(r"v2\.[A-Za-z0-9_-]{43}", v2(key="视频/a b+c%.mp4"))
    assert v2()[3:] != mint_callback_token(SECRET, BUCKET, KEY)  # versions never collide


@pytest.mark.parametrize(
    ("region", "bucket", "key"),
    [
        (REGION, BUCKET, "videos/2024/11/demo.mp5"),
        (REGION, "media-uploads-1250000001", KEY),
        ("ap-shanghai", BUCKET, KEY),
        (REGION, BUCKET, "/" + KEY),
    ],
)
def test_v2_token_is_bound_to_region_bucket_and_key(region: str, bucket: str, key: str) -> None:
    assert v2(region=region, bucket=bucket, key=key) != v2()


def test_a_line_break_in_region_or_bucket_cannot_be_minted() -> None:
    with pytest.raises(ValueError, match="no object has such"):
        v2(region="ap-guangzhou\nmedia")


@pytest.mark.parametrize(
    ("base", "expected_path", "expected_query"),
    [
        (BASE, "/", ""),
        (BASE + "/", "/", ""),
        (BASE + "/ci/callback/", "/ci/callback/", ""),
        (BASE + "/ci/callback?env=prod&x=1", "/ci/callback/", "?env=prod&x=1"),
    ],
)
def test_the_callback_url_carries_the_v2_token_in_its_path(
    base: str, expected_path: str, expected_query: str
) -> None:
    url = callback_url_for(base, SECRET, BUCKET, KEY, region=REGION)
    assert url == f"{BASE}{expected_path}{v2()}{expected_query}"
    assert path_token(url.split("?")[0][len(BASE) :]) == v2()


@pytest.mark.parametrize(
    ("path", "found"),
    [
        ("/v2.abc", "v2.abc"),
        ("/ci/callback/v2.abc/", "v2.abc"),
        ("/", None),
        ("", None),
        ("/ci/callback", None),
        ("/v3.abc", None),  # unknown versions are not token claims
        ("/v2.abc/more", None),  # only the last segment carries it
    ],
)
def test_path_token_is_the_last_segment(path: str, found: str | None) -> None:
    assert path_token(path) == found


def test_the_grammar_decides_the_version_and_the_place() -> None:
    mac = mint_callback_token(SECRET, BUCKET, KEY)
    assert parse_presented(mac, "query") == PresentedToken("query", 1, mac)
    assert parse_presented(v2(), "path") == PresentedToken("path", 2, v2()[3:])
    assert parse_presented(v2(), "query").kind == "v2-query"
    assert parse_presented(mac, "path").kind == "malformed-path"  # v1 never travels in the path


@pytest.mark.parametrize(
    "presented", ["A" * 42, "A" * 44, "not-a-token", "令牌", "x", "v2." + "A" * 42, "\ud800" * 43]
)
def test_malformed_tokens_match_nothing_without_a_comparison(
    presented: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_comparison(a: bytes, b: bytes) -> bool:
        raise AssertionError("a malformed token reached compare_digest")

    monkeypatch.setattr("shared.contract.callback_token.hmac.compare_digest", no_comparison)
    token = parse_presented(presented, "query")
    assert (token.version, token.kind) == (MALFORMED, "malformed-query")
    assert matching_secret((SECRET,), token, REGION, BUCKET, KEY) is None


def test_the_matching_secret_is_found_current_first() -> None:
    secrets = (SECRET, OLD_SECRET)
    token_now = parse_presented(v2(), "path")
    token_old = parse_presented(v2(secret=OLD_SECRET), "path")
    assert matching_secret(secrets, token_now, REGION, BUCKET, KEY) == 0
    assert matching_secret(secrets, token_old, REGION, BUCKET, KEY) == 1
    assert matching_secret((SECRET,), token_old, REGION, BUCKET, KEY) is None  # overlap over
    assert matching_secret(secrets, token_now, "ap-shanghai", BUCKET, KEY) is None
    legacy = parse_presented(mint_callback_token(OLD_SECRET, BUCKET, KEY), "query")
    assert matching_secret(secrets, legacy, "any-region", BUCKET, KEY) == 1  # v1 binds none


def test_keys_that_are_not_utf8_match_nothing() -> None:
    token = parse_presented(v2(), "path")
    assert matching_secret((SECRET,), token, REGION, BUCKET, "a\ud800.mp4") is None
    assert matching_secret((SECRET,), token, "ap-guangzhou\n", BUCKET, KEY) is None


def test_every_secret_is_compared_in_constant_time_over_equal_lengths(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        seen.append((a, b))
        return real(a, b)

    monkeypatch.setattr("shared.contract.callback_token.hmac.compare_digest", spy)
    third = "third-secret-0123456789abcdefghij"
    secrets = (SECRET, OLD_SECRET, third)
    presented = v2(secret=OLD_SECRET)
    assert matching_secret(secrets, parse_presented(presented, "path"), REGION, BUCKET, KEY) == 1
    message = b"media-tagger/v2\nap-guangzhou\nmedia-uploads-1250000000\nvideos/2024/11/demo.mp4"
    mac = presented[3:].encode()
    # no early exit (each secret's MAC against the presented one, in order), 43 bytes each
    assert seen == [(hand_mac(secret, message).encode(), mac) for secret in secrets]
    assert all(len(a) == len(b) == 43 for a, b in seen)


def test_a_secret_listed_twice_is_reported_at_its_first_place() -> None:
    # e.g. the current secret left in MEDIA_TAGGER_CALLBACK_SECRET_PREVIOUS after a rotation
    token = parse_presented(v2(), "path")
    assert matching_secret((SECRET, OLD_SECRET, SECRET), token, REGION, BUCKET, KEY) == 0


def test_secret_labels_never_carry_the_value() -> None:
    assert [secret_label(i) for i in range(3)] == ["current", "previous-1", "previous-2"]
