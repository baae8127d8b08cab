"""Hosts, wire paths and query strings as cos-python-sdk-v5 builds them; the endpoint override."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.errors import ConfigError, EventError
from shared.tencent.endpoints import (
    Endpoint,
    ci_host,
    cos_host,
    encode_query,
    sign_path,
    wire_path,
)
from tests.client_helpers import BUCKET, COS_HOST, REGION, load_vectors

# cos-ci-api.md section 1.4, written out by hand: key -> (UriPathname, request-line path).
KEY_TABLE = [
    ("videos/my clip 01.mp4", "/videos/my clip 01.mp4", "/videos/my%20clip%2001.mp4"),
    ("in/a+b%20c 100%.mp4", "/in/a+b%20c 100%.mp4", "/in/a%2Bb%2520c%20100%25.mp4"),
    (
        "视频/测试 文件.mp4",
        "/视频/测试 文件.mp4",
        "/%E8%A7%86%E9%A2%91/%E6%B5%8B%E8%AF%95%20%E6%96%87%E4%BB%B6.mp4",
    ),
    ("odd/name#1?x=y.mp4", "/odd/name#1?x=y.mp4", "/odd/name%231%3Fx%3Dy.mp4"),
    (
        "/a/b/c/d/e/f/g/deep.file.mov",
        "/a/b/c/d/e/f/g/deep.file.mov",
        "/a/b/c/d/e/f/g/deep.file.mov",
    ),
    ("dir/./x/../y.mp4", "/dir/./x/../y.mp4", "/dir/.%2Fx/..%2Fy.mp4"),
    ("../up.mp4", "/../up.mp4", "/..%2Fup.mp4"),
    # The doc writes ( ) unescaped; the SDK's quote() escapes them.
    (
        "exampleobject(腾讯云)",
        "/exampleobject(腾讯云)",
        "/exampleobject%28%E8%85%BE%E8%AE%AF%E4%BA%91%29",
    ),
]
# Where our wire path differs from CosConfig.uri on purpose: requests rewrites a leading "//" to
# "/" after the SDK signed "//", so the second slash goes as %2F (COS decodes it; see wire_path).
DOUBLE_SLASH_KEYS = [
    ("//double/lead.txt", "//double/lead.txt", "/%2Fdouble/lead.txt"),
    ("///x", "///x", "/%2F/x"),
]
# URLs of "sdk_auth_direct" vectors were written by the vector script, not by CosConfig.uri.
COS_VECTORS = [
    v for v in load_vectors()["vectors"] if ".cos." in v["url"] and v["mode"] == "sdk_method"
]


def _sdk_uri(key: str) -> str:
    from qcloud_cos import CosConfig  # noqa: TID251 -- test-only oracle

    conf = CosConfig(Region=REGION, SecretId="id", SecretKey="key")
    return str(conf.uri(bucket=BUCKET, path=key))


def _sent_path(url: str) -> str:
    """The request-line target requests really sends for ``url`` (after its adapter)."""
    prepared = requests.Request("GET", url).prepare()
    return str(requests.adapters.HTTPAdapter().request_url(prepared, {}))


def test_hosts() -> None:
    assert cos_host(BUCKET, REGION) == "examplebucket-1250000000.cos.ap-guangzhou.myqcloud.com"
    assert ci_host(BUCKET, REGION) == "examplebucket-1250000000.ci.ap-guangzhou.myqcloud.com"


@pytest.mark.parametrize(
    ("bucket", "region", "reason"),
    [
        ("evil.com/x", REGION, "invalid bucket name 'evil.com/x'"),
        ("Upper-1", REGION, "invalid bucket name 'Upper-1'"),
        ("", REGION, "invalid bucket name ''"),
        (BUCKET, "ap guangzhou", "invalid region 'ap guangzhou'"),
        (BUCKET, "", "invalid region ''"),
    ],
)
def test_hosts_refuse_values_that_would_change_the_host(
    bucket: str, region: str, reason: str
) -> None:
    with pytest.raises(EventError, match=re.escape(reason)):
        cos_host(bucket, region)
    with pytest.raises(EventError, match=re.escape(reason)):
        ci_host(bucket, region)


@pytest.mark.parametrize(("key", "signed", "wire"), KEY_TABLE + DOUBLE_SLASH_KEYS)
def test_key_table_paths(key: str, signed: str, wire: str) -> None:
    assert sign_path(key) == signed
    assert wire_path(key) == wire


@pytest.mark.parametrize(("key", "signed", "wire"), KEY_TABLE)
def test_key_table_agrees_with_the_sdk_uri(key: str, signed: str, wire: str) -> None:
    assert _sdk_uri(key) == f"https://{COS_HOST}{wire}"


@pytest.mark.parametrize("v", COS_VECTORS, ids=[v["name"] for v in COS_VECTORS])
def test_vector_urls_are_rebuilt_exactly(v: dict[str, Any]) -> None:
    parts = urlsplit(v["url"])
    assert wire_path(v["path"]) == parts.path
    assert sign_path(v["path"]) == v["sign_path"]
    query = encode_query(v["params"])
    rebuilt = Endpoint(None).url(parts.netloc, wire_path(v["path"]), query)
    assert rebuilt == v["url"]


@pytest.mark.parametrize(("key", "signed", "wire"), KEY_TABLE + DOUBLE_SLASH_KEYS)
def test_requests_sends_the_wire_path_unchanged(key: str, signed: str, wire: str) -> None:
    url = Endpoint(None).url(COS_HOST, wire_path(key), encode_query({"tagging": ""}))
    assert _sent_path(url) == f"{wire}?tagging="


@pytest.mark.parametrize(("key", "signed", "wire"), DOUBLE_SLASH_KEYS)
def test_the_sdk_url_of_a_leading_double_slash_key_loses_a_slash_on_the_wire(
    key: str, signed: str, wire: str
) -> None:
    sdk_url = _sdk_uri(key)
    assert urlsplit(sdk_url).path == signed  # the SDK signs this path ...
    assert _sent_path(sdk_url) == "/" + signed.lstrip("/")  # ... and requests sends another


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=30))
def test_wire_path_agrees_with_the_sdk_for_any_key(key: str) -> None:
    try:
        ours = wire_path(key)
    except EventError:
        return  # dot-segment tails: see the test below
    sdk = _sdk_uri(key)
    prefix = f"https://{COS_HOST}"
    if sdk.startswith(prefix + "//"):  # where we differ on purpose (DOUBLE_SLASH_KEYS)
        sdk = prefix + "/%2F" + sdk[len(prefix) + 2 :]
    assert f"{prefix}{ours}" == sdk
    assert _sent_path(prefix + ours) == ours


@pytest.mark.parametrize("key", ["a/..", "a/.", ".", "..", "/..", "x/y/.."])
def test_keys_ending_in_a_dot_segment_are_refused(key: str) -> None:
    # urllib3 would rewrite them (/a/.. -> /), so the request would address another object.
    with pytest.raises(EventError, match="ends in a dot segment the HTTP stack would rewrite"):
        wire_path(key)


def test_root_path() -> None:
    assert wire_path("/") == "/"
    assert sign_path("/") == "/"
    assert sign_path("") == "/"


def test_encode_query_uses_percent_20_and_keeps_empty_values() -> None:
    assert encode_query({"tagging": ""}) == "tagging="
    assert encode_query({"tagging": "", "versionId": "MTg0NDUx"}) == "tagging=&versionId=MTg0NDUx"
    assert encode_query({"prefix": "a b+c/测", "max-keys": "10"}) == (
        "prefix=a%20b%2Bc%2F%E6%B5%8B&max-keys=10"
    )
    assert encode_query({}) == ""


def test_endpoint_without_override_uses_https_virtual_host() -> None:
    endpoint = Endpoint(None)
    assert not endpoint.overridden
    assert endpoint.url(COS_HOST, "/a%20b", "tagging=") == f"https://{COS_HOST}/a%20b?tagging="
    assert endpoint.url(COS_HOST, "/a") == f"https://{COS_HOST}/a"


@pytest.mark.parametrize(
    ("override", "base"),
    [
        ("http://127.0.0.1:9000", "http://127.0.0.1:9000"),
        ("http://127.0.0.1:9000/", "http://127.0.0.1:9000"),
        ("https://localhost", "https://localhost"),
        ("http://[::1]:8080", "http://[::1]:8080"),
        ("http://cos-emulator:9000", "http://cos-emulator:9000"),
    ],
)
def test_endpoint_override_keeps_path_and_query(override: str, base: str) -> None:
    endpoint = Endpoint(override)
    assert endpoint.overridden
    assert endpoint.url(COS_HOST, "/a%20b", "tagging=") == f"{base}/a%20b?tagging="


@pytest.mark.parametrize(
    "override",
    [
        "ftp://127.0.0.1:9000",
        "127.0.0.1:9000",
        "http://10.0.0.8:9000",
        "http://user:pw@localhost:9000",
        "http://localhost:9000/base",
        "http://localhost:9000?x=1",
        "http://localhost:9000#frag",
        "http://localhost:notaport",
        "http://bad_host:9000",
        "http://",
    ],
)
def test_endpoint_override_refuses_anything_else(override: str) -> None:
    with pytest.raises(
        ConfigError,
        match=r"MEDIA_TAGGER_ENDPOINT_URL: must be http\(s\)://<loopback address or host name>",
    ) as caught:
        Endpoint(override)
    assert caught.value.variable == "MEDIA_TAGGER_ENDPOINT_URL"
