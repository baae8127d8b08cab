"""q-sign-algorithm=sha1: SDK vectors and doc examples, intermediates, header choice, AuthBase."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st
from tencentcloud.common.credential import Credential

from shared.tencent import signing
from tests.client_helpers import REGION, SECRET_ID, SECRET_KEY, load_vectors, sdk_authorization

VECTORS: list[dict[str, Any]] = load_vectors()["vectors"]
DOC_EXAMPLES: list[dict[str, Any]] = load_vectors()["doc_examples"]
ALL = VECTORS + DOC_EXAMPLES


def _ids(items: list[dict[str, Any]]) -> list[str]:
    return [item["name"] for item in items]


def _signed_subset(v: dict[str, Any]) -> dict[str, str]:
    return {k: val for k, val in v["headers"].items() if k.lower() in v["signed_headers"]}


def test_sign_encoding_keeps_only_the_unreserved_four() -> None:
    # the signature doc's UrlEncode: UTF-8, upper-case hex, only - _ . ~ left as they are
    assert signing.sign_encode("a-b_c.d~e f/é+") == "a-b_c.d~e%20f%2F%C3%A9%2B"
    assert signing.canonical_pairs({"Prefix~X": "a~b", "A": ""}) == [("a", ""), ("prefix~x", "a~b")]


def test_the_fixture_holds_every_kind_of_vector() -> None:
    modes = {v["mode"] for v in VECTORS}
    assert modes == {"sdk_method", "sdk_auth_direct"}
    assert len(VECTORS) >= 15
    assert len(DOC_EXAMPLES) == 2


@pytest.mark.parametrize("v", ALL, ids=_ids(ALL))
def test_authorization_reproduces_every_vector(v: dict[str, Any]) -> None:
    got = signing.authorization(
        v["secret_id"],
        v["secret_key"],
        v["method"],
        v["path"],
        v["params"],
        _signed_subset(v),
        v["start"],
        v["end"],
    )
    assert got == v["authorization"]


@pytest.mark.parametrize("v", VECTORS, ids=_ids(VECTORS))
def test_intermediates_match_the_sdk_debug_output(v: dict[str, Any]) -> None:
    http = signing.http_string(v["method"], v["path"], v["params"], _signed_subset(v))
    assert http == v["http_string"]
    assert signing.string_to_sign(v["start"], v["end"], http) == v["string_to_sign"]
    assert signing.sign_key(v["secret_key"], v["start"], v["end"]) == v["sign_key"]
    assert signing.uri_pathname(v["path"]) == v["sign_path"]


def test_doc_example_sign_key_matches_the_documented_value() -> None:
    put = next(v for v in DOC_EXAMPLES if v["name"] == "doc_put_object")
    key = signing.sign_key(put["secret_key"], put["start"], put["end"])
    assert key == "eb2519b498b02ac213cb1f3d1a3d27a3b3c9bc5f"


def test_doc_example_http_string_hash_matches_the_documented_value() -> None:
    get = next(v for v in DOC_EXAMPLES if v["name"] == "doc_get_object")
    http = signing.http_string(get["method"], get["path"], get["params"], _signed_subset(get))
    assert "54ecfe22f59d3514fdc764b87a32d8133ea611e6" in signing.string_to_sign(
        get["start"], get["end"], http
    )


@pytest.mark.parametrize("v", VECTORS, ids=_ids(VECTORS))
def test_header_chooser_picks_what_the_sdk_signed(v: dict[str, Any]) -> None:
    chosen = signing.headers_to_sign(v["headers"], v["url"])
    assert sorted(name.lower() for name in chosen) == v["signed_headers"]


def test_header_chooser_takes_host_from_the_url_without_port_when_absent() -> None:
    chosen = signing.headers_to_sign(
        {"Content-Type": "text/plain", "Date": "x", "X-Ci-Foo": "1", "Range": "bytes=0-1"},
        "http://Bucket-1.cos.ap-x.myqcloud.com:8080/k",
    )
    assert chosen == {
        "Content-Type": "text/plain",
        "X-Ci-Foo": "1",
        "host": "bucket-1.cos.ap-x.myqcloud.com",
    }


def test_header_chooser_keeps_an_explicit_host_header() -> None:
    chosen = signing.headers_to_sign({"Host": "real.example"}, "http://127.0.0.1:9000/k")
    assert chosen == {"Host": "real.example"}


def _prepared_like_the_sdk(v: dict[str, Any], *, keep_host: bool) -> requests.PreparedRequest:
    headers = {
        k: val
        for k, val in v["headers"].items()
        # http.client adds Host after signing and requests adds Content-Length while preparing.
        if k.lower() != "content-length" and (keep_host or k.lower() != "host")
    }
    body = v.get("body")
    return requests.Request(
        v["method"], v["url"], headers=headers, data=body.encode("utf-8") if body else None
    ).prepare()


@pytest.mark.parametrize("keep_host", [False, True])
@pytest.mark.parametrize("v", VECTORS, ids=_ids(VECTORS))
def test_auth_base_reproduces_the_sdk_vectors(v: dict[str, Any], keep_host: bool) -> None:
    prepared = _prepared_like_the_sdk(v, keep_host=keep_host)
    signer = signing.CosRequestSigner(
        Credential(v["secret_id"], v["secret_key"], v.get("token")),
        v["sign_path"],
        v["params"],
        clock=lambda: v["start"] + 60.9,  # fractions are truncated like int(time.time())
        expire_s=v["end"] - v["start"] - 60,
    )
    signed = signer(prepared)
    assert signed.headers["Authorization"] == v["authorization"]
    if "Content-Length" in v["headers"]:
        assert signed.headers["Content-Length"] == v["headers"]["Content-Length"]


def test_auth_base_defaults_to_a_900_second_window_backdated_60() -> None:
    prepared = requests.Request("GET", "https://b-1.cos.ap-x.myqcloud.com/k").prepare()
    signing.CosRequestSigner(Credential("id", "key"), "k", {}, clock=lambda: 1000.0)(prepared)
    assert "q-sign-time=940;1900&q-key-time=940;1900&" in prepared.headers["Authorization"]


def test_empty_path_signs_as_root_and_leading_slash_is_not_doubled() -> None:
    assert signing.uri_pathname("") == "/"
    assert signing.uri_pathname("/a/b") == "/a/b"
    assert signing.uri_pathname("a/b") == "/a/b"


def test_values_are_percent_encoded_with_only_unreserved_left() -> None:
    pairs = signing.canonical_pairs({"X-Cos-Meta-A B": "a b+c/~é", "versionId": ""})
    assert pairs == [("versionid", ""), ("x-cos-meta-a%20b", "a%20b%2Bc%2F~%C3%A9")]


_TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), max_size=20)


@settings(max_examples=60, deadline=None)
@given(
    key=_TEXT.filter(bool),
    params=st.dictionaries(st.text("abcXYZ-_.~ %+", min_size=1, max_size=8), _TEXT, max_size=3),
    meta=st.text("abc xyz/+=%&", max_size=12).map(lambda s: f"m{s}m"),
)
def test_signer_agrees_with_the_sdk_oracle_on_arbitrary_input(
    key: str, params: dict[str, str], meta: str
) -> None:
    url = f"https://examplebucket-1250000000.cos.{REGION}.myqcloud.com/x"
    headers = {"x-cos-meta-note": meta, "Content-Type": "application/xml"}
    prepared = requests.Request("PUT", url, headers=headers, data=b"body").prepare()
    signing.CosRequestSigner(
        Credential(SECRET_ID, SECRET_KEY), key, params, clock=lambda: 1_700_000_060.0
    )(prepared)
    oracle = sdk_authorization("PUT", url, headers, key=key, params=params, body=b"body")
    assert prepared.headers["Authorization"] == oracle
