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
    with pytest.raises(EventError):
        encode_user_data("%" * 400, 1)


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


@given(
    etag=st.text(min_size=1, max_size=80),
    size=st.integers(min_value=0, max_value=2**63),
    version=st.one_of(st.none(), st.text(min_size=1, max_size=60)),
)
def test_any_value_round_trips_as_printable_ascii(
    etag: str, size: int, version: str | None
) -> None:
    try:
        text = encode_user_data(etag, size, version)
    except EventError:
        return  # only when the encoded text would exceed 1024 characters
    assert len(text) <= 1024
    assert re.fullmatch(r"[\x20-\x7e]*", text)
    assert decode_user_data(text) == UserDataFacts(etag, size, version)
