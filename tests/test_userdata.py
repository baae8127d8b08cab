"""UserData: exact wire form, printable ASCII within 1024, tolerant decoding."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.contract.userdata import UserDataFacts, decode_user_data, encode_user_data
from shared.errors import EventError


def test_plain_object() -> None:
    text = encode_user_data("eb6cf523ae4d528e72f2d11f3a91cd40", 2561690)
    assert text == "mt1;e=eb6cf523ae4d528e72f2d11f3a91cd40;s=2561690"


def test_versioned_object() -> None:
    text = encode_user_data("abc-3", 10, "MTg0NDUxNTc1NjIzMTQ1MDAwODg")
    assert text == "mt1;e=abc-3;s=10;v=MTg0NDUxNTc1NjIzMTQ1MDAwODg"


def test_values_are_percent_encoded_outside_the_safe_set() -> None:
    text = encode_user_data('a;b=c "d"~', 0, "v/1+é")
    assert text == "mt1;e=a%3Bb%3Dc%20%22d%22%7E;s=0;v=v%2F1%2B%C3%A9"


def test_round_trip() -> None:
    facts = decode_user_data(encode_user_data('a;b=c "d"~', 7, "v/1+é"))
    assert facts == UserDataFacts(etag='a;b=c "d"~', size=7, version_id="v/1+é")


def test_too_long_is_refused() -> None:
    with pytest.raises(EventError, match="would be 1210 characters"):
        encode_user_data("%" * 400, 1)


def test_the_limit_is_1024_characters_exactly() -> None:
    # "mt1;e=" + etag + ";s=1": 10 characters around the ETag
    longest = encode_user_data("a" * 1014, 1)
    assert len(longest) == 1024
    assert decode_user_data(longest) == UserDataFacts("a" * 1014, 1)
    with pytest.raises(EventError, match="would be 1025 characters"):
        encode_user_data("a" * 1015, 1)
    assert decode_user_data("mt1;e=" + "a" * 1015 + ";s=1") is None  # one over: not ours


def test_negative_size_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        encode_user_data("x", -1)


@pytest.mark.parametrize(
    "text",
    [
        None,
        "",
        "src=videos/2024/11/demo.mp4",  # what the sample events carry: not ours
        "mt1",
        "mt1;",
        "mt2;e=abc;s=1",
        "mt1;e=abc",
        "mt1;s=1",
        "mt1;e=;s=1",
        "mt1;e=abc;s=-1",
        "mt1;e=abc;s=1.5",
        "mt1;e=abc;s=1;e=def",
        "mt1;e=a%2;s=1",
        "mt1;e=a%zz;s=1",
        "mt1;e=a%ff;s=1",  # lower-case hex is not our encoding
        "mt1;e=%FF;s=1",  # not UTF-8
        "mt1;e=a b;s=1",
        "mt1;e=abc;s=1;novalue",
        "mt1;e=abc;s=1" + ";x=y" * 300,
    ],
)
def test_not_ours_decodes_to_none(text: str | None) -> None:
    assert decode_user_data(text) is None


def test_decode_of_non_string_is_none() -> None:
    assert decode_user_data(42) is None  # type: ignore[arg-type]


def test_unknown_fields_are_ignored() -> None:
    assert decode_user_data("mt1;e=abc;s=1;z=later") == UserDataFacts("abc", 1, None)


SAFE = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-")


def encoded_length(value: str) -> int:
    """The contract's percent-encoding, counted: a safe character is 1, any other 3 per byte."""
    return sum(1 if char in SAFE else 3 * len(char.encode("utf-8")) for char in value)


@given(
    etag=st.text(min_size=1, max_size=80),
    size=st.integers(min_value=0, max_value=2**63),
    version=st.one_of(st.none(), st.text(min_size=1, max_size=60)),
)
def test_any_value_round_trips_as_printable_ascii_or_is_refused_for_its_length(
    etag: str, size: int, version: str | None
) -> None:
    expected = len("mt1;e=;s=") + encoded_length(etag) + len(str(size))
    if version:
        expected += len(";v=") + encoded_length(version)
    if expected > 1024:
        with pytest.raises(EventError, match=f"would be {expected} characters"):
            encode_user_data(etag, size, version)
        return
    text = encode_user_data(etag, size, version)
    assert len(text) == expected
    assert re.fullmatch(r"[\x20-\x7e]*", text)
    assert decode_user_data(text) == UserDataFacts(etag, size, version)
