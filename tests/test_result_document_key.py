"""Object key <-> result document key (shared.contract.document_key): one-to-one, reversible,
always a COS key of at most 850 bytes without empty or dot segments, for hostile keys too."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.contract.document_key import (
    MAX_KEY_BYTES,
    DocumentName,
    document_key,
    escape_key,
    parse_document_key,
    unescape_key,
)
from shared.errors import EventError

PREFIX = "media-info/"
BUCKET = "media-uploads-1250000000"
HOSTILE_KEYS = [
    "video/clip.mp4",
    "My Holiday (2024).mp4",
    "a+b=c&d.mp4",
    "100%.mp4",
    "%2E%2E/%41.mp4",
    "视频/夏天 的 歌.mp4",
    "#hash?query.mp4",
    "a//b.mp4",
    "//leading.mp4",
    "folder/",
    "trailing//",
    ".",
    "..",
    "a/./b",
    "a/../b",
    "../../etc/passwd",
    "...",
    ".hidden",
    "tab\tand\nnewline\x01\x7f.mp4",
    "nbsp\u00a0é\u2028\u200b\ufeff.mp4",
    "emoji 🎬.mp4",
    "back\\slash~tilde*star`tick^{}[]|<>\"'.mp4",
    "a" * 850,
    "视" * 283,  # 849 bytes of UTF-8
    "x/" * 300,
]
_KEPT_ASCII = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._()!/%")


def _check_shape(name: str) -> None:
    assert len(name.encode("utf-8")) <= MAX_KEY_BYTES
    assert name.startswith(f"{PREFIX}{BUCKET}/") and name.endswith(".json")
    segments = name.split("/")
    assert all(segment not in ("", ".", "..") for segment in segments), name
    assert all(ch in _KEPT_ASCII or ord(ch) >= 0x100 for ch in name), name
    assert not re.search(r"%(?![0-9A-F]{2})", name)


@pytest.mark.parametrize("key", HOSTILE_KEYS, ids=range(len(HOSTILE_KEYS)))
def test_hostile_keys_map_to_usable_names_and_back(key: str) -> None:
    name = document_key(PREFIX, BUCKET, key)
    _check_shape(name)
    parsed = parse_document_key(PREFIX, name)
    if name.startswith(f"{PREFIX}{BUCKET}/h/"):
        assert parsed == DocumentName(BUCKET, None, True)
    else:
        assert parsed == DocumentName(BUCKET, key, False)


def test_the_mapping_is_one_to_one_over_the_hostile_keys() -> None:
    names = [document_key(PREFIX, BUCKET, key) for key in HOSTILE_KEYS]
    assert len(set(names)) == len(HOSTILE_KEYS)
    other_bucket = [document_key(PREFIX, "other-1250000000", key) for key in HOSTILE_KEYS]
    assert not set(names) & set(other_bucket)


def test_readable_names_read_like_the_key() -> None:
    assert document_key(PREFIX, BUCKET, "video/clip.mp4") == (
        "media-info/media-uploads-1250000000/k/video/clip.mp4.json"
    )
    assert escape_key("视频/a b+c.mp4") == "视频/a%20b%2Bc.mp4"
    assert escape_key("a//b/") == "a%2F%2Fb%2F"
    assert escape_key("a/../b") == "a/%2E%2E/b"
    assert escape_key("100%") == "100%25"


def test_a_key_too_long_for_a_readable_name_is_hashed() -> None:
    longest_readable = "a" * (MAX_KEY_BYTES - len(f"{PREFIX}{BUCKET}/k/.json"))
    assert "/k/" in document_key(PREFIX, BUCKET, longest_readable)
    hashed = document_key(PREFIX, BUCKET, longest_readable + "a")
    assert re.fullmatch(rf"{PREFIX}{BUCKET}/h/[0-9a-f]{{64}}\.json", hashed)
    # a short key whose escapes make it long is hashed too; two long keys never share a name
    assert "/h/" in document_key(PREFIX, BUCKET, " " * 300)
    assert document_key(PREFIX, BUCKET, "b" * 849) != document_key(PREFIX, BUCKET, "c" * 849)


@pytest.mark.parametrize(
    "name",
    [
        "media-info/media-uploads-1250000000/k/a%41.json",  # 'A' escaped: not canonical
        "media-info/media-uploads-1250000000/k/a%2.json",  # a broken escape
        "media-info/media-uploads-1250000000/k/a%FF.json",  # not UTF-8
        "media-info/media-uploads-1250000000/k/a b.json",  # a raw space
        "media-info/media-uploads-1250000000/k/a//b.json",  # an empty segment
        "media-info/media-uploads-1250000000/x/a.json",  # no such form
        "media-info/media-uploads-1250000000/h/abc.json",  # not a SHA-256
        "media-info/Not_A_Bucket/k/a.json",
        "media-info/media-uploads-1250000000/k/a.mp4",  # no .json
        "other/media-uploads-1250000000/k/a.json",  # another prefix
        "media-info/media-uploads-1250000000/k/" + "a" * 850 + ".json",  # must have been hashed
    ],
)
def test_names_this_module_would_not_write_parse_to_none(name: str) -> None:
    assert parse_document_key(PREFIX, name) is None


def test_keys_that_cannot_be_named_are_refused() -> None:
    with pytest.raises(EventError, match="empty"):
        document_key(PREFIX, BUCKET, "")
    with pytest.raises(EventError, match="not valid UTF-8"):
        document_key(PREFIX, BUCKET, "bad\udc80.mp4")
    assert unescape_key("") is None


@given(st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=300))
def test_every_key_round_trips(key: str) -> None:
    name = document_key(PREFIX, BUCKET, key)
    _check_shape(name)
    parsed = parse_document_key(PREFIX, name)
    assert parsed is not None
    assert parsed.key in (key, None) and parsed.hashed == (parsed.key is None)
