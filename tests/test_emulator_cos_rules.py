"""COS rules a client can see, driven with cos-python-sdk-v5 (IP/Port mode and as an HTTP proxy).

Raw request targets (a key starting with '//'), COS's key rules (850 bytes, no leading '/' or
'\\', no control characters), GET Bucket with a delimiter across pages (compared with the S3
rule every entry sorts after the marker), and tag limits counted in bytes with the API page's
charset. Our own client is held to the SDK's addressing of the same keys.
"""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
import requests
from qcloud_cos import CosConfig, CosS3Client  # noqa: TID251 -- test-only oracle
from qcloud_cos.cos_exception import CosServiceError  # noqa: TID251 -- test-only oracle

from emulator.fidelity import Fidelity
from shared.errors import CosError
from shared.models import ObjectRef
from shared.tencent.cos_client import CosClient
from shared.tencent.credentials import credential_from_environ
from shared.tencent.endpoints import Endpoint
from shared.tencent.signing import authorization
from shared.tencent.transport import Transport
from shared.tencent.xml_answers import parse_error_body
from tests.emulator_fixtures import BUCKET, COS_HOST, REGION, Harness, md5_hex, start_harness

pytestmark = pytest.mark.e2e
DOUBLE = "//double/lead.txt"  # the SDK key; COS key "/double/lead.txt" (one '/' is the path's)


def sdk(harness: Harness, mode: str) -> CosS3Client:
    """The SDK against the emulator: IP/Port, or the real host name through it as a proxy."""
    credentials = harness.client.credentials
    options: dict[str, Any] = (
        {"IP": "127.0.0.1", "Port": harness.server.port}
        if mode == "ip"
        else {"Proxies": {"http": harness.server.endpoint_url}}
    )
    config = CosConfig(
        Region=REGION,
        SecretId=credentials.secret_id,
        SecretKey=credentials.secret_key,
        Token=credentials.token,
        Scheme="http",
        **options,
    )
    return CosS3Client(config, retry=0)


def refusal(call: Any) -> tuple[int, str, str]:
    with pytest.raises(CosServiceError, match=r"'code': '\w+'") as caught:
        call()
    error = caught.value
    return error.get_status_code(), error.get_error_code(), error.get_resource_location()


@pytest.fixture
def strict(tmp_path: Path) -> Iterator[Harness]:
    running = start_harness(tmp_path / "strict")
    yield running
    running.server.stop()


@pytest.fixture
def lenient(tmp_path: Path) -> Iterator[Harness]:
    running = start_harness(tmp_path / "lenient", fidelity=Fidelity(leading_slash_keys=True))
    yield running
    running.server.stop()


# -- item 1: the raw request target -----------------------------------------------------------
def raw_request(harness: Harness, method: str, target: str, body: bytes = b"") -> tuple[int, str]:
    """One request with exactly ``target`` on the request line (as curl, Go or Java clients send
    it; requests would rewrite a leading '//'), signed over the decoded path by our signer."""
    path = unquote(target.split("?", 1)[0])
    headers = {"Host": COS_HOST, "Content-Length": str(len(body))}
    if harness.client.credentials.token:
        headers["x-cos-security-token"] = harness.client.credentials.token
    now = int(harness.client.clock())  # the emulator's clock
    signed = {k.lower(): v for k, v in headers.items()}
    headers["Authorization"] = authorization(
        harness.client.credentials.secret_id,
        harness.client.credentials.secret_key,
        method,
        path,
        {},
        signed,
        now - 60,
        now + 600,
    )
    connection = http.client.HTTPConnection("127.0.0.1", harness.server.port, timeout=10)
    try:
        connection.request(method, target, body=body, headers=headers)
        response = connection.getresponse()
        payload = response.read()
    finally:
        connection.close()
    error = parse_error_body(payload) if payload else None
    return response.status, error.code if error else ""


def test_a_double_slash_origin_form_target_is_signed_routed_and_stored_as_sent(
    strict: Harness, lenient: Harness
) -> None:
    # http.server rewrites "//double/lead.txt" in self.path; the emulator reads the raw line
    assert raw_request(strict, "PUT", "//double/lead.txt", b"x") == (400, "InvalidObjectName")
    assert raw_request(lenient, "PUT", "//double/lead.txt", b"x") == (200, "")
    assert raw_request(lenient, "PUT", "/a//b.txt", b"y") == (200, "")
    assert [event.key for event in lenient.events] == ["/double/lead.txt", "a//b.txt"]
    assert raw_request(lenient, "GET", "//double/lead.txt") == (200, "")
    assert lenient.server.store.head(BUCKET, "double/lead.txt") is None  # nothing collapsed


def test_the_sdk_as_a_proxy_keeps_the_double_slash(strict: Harness, lenient: Harness) -> None:
    refused = refusal(lambda: sdk(strict, "proxy").put_object(Bucket=BUCKET, Key=DOUBLE, Body=b"x"))
    # the signature over "//double/lead.txt" verified (no 403); then COS's key rule refused it
    assert refused == (400, "InvalidObjectName", f"{COS_HOST}//double/lead.txt")
    assert strict.events == []
    client = sdk(lenient, "proxy")
    client.put_object(Bucket=BUCKET, Key=DOUBLE, Body=b"double")
    assert [item["Key"] for item in client.list_objects(Bucket=BUCKET)["Contents"]] == [
        "/double/lead.txt"
    ]
    body = client.get_object(Bucket=BUCKET, Key=DOUBLE)["Body"].get_raw_stream().read()
    assert body == b"double"


def test_the_sdk_in_ip_mode_loses_a_slash_and_is_refused_as_cos_would(lenient: Harness) -> None:
    # requests sends "/double/lead.txt" after the SDK signed "//double/lead.txt"
    status, code, _ = refusal(
        lambda: sdk(lenient, "ip").put_object(Bucket=BUCKET, Key=DOUBLE, Body=b"x")
    )
    assert (status, code) == (403, "SignatureDoesNotMatch")


def _our_cos_client(harness: Harness) -> CosClient:
    credentials = harness.client.credentials
    environ = {
        "TENCENTCLOUD_SECRETID": credentials.secret_id,
        "TENCENTCLOUD_SECRETKEY": credentials.secret_key,
        "TENCENTCLOUD_SESSIONTOKEN": credentials.token or "",
    }
    transport = Transport(
        lambda: credential_from_environ(environ), endpoint=Endpoint(harness.server.endpoint_url)
    )
    return CosClient(transport)


def test_our_client_addresses_a_double_slash_key(strict: Harness, lenient: Harness) -> None:
    sdk(lenient, "proxy").put_object(Bucket=BUCKET, Key=DOUBLE, Body=b"double")
    head = _our_cos_client(lenient).head_object(ObjectRef(BUCKET, REGION, DOUBLE))
    assert (head.etag, head.size) == (md5_hex(b"double"), 6)
    with pytest.raises(CosError, match="InvalidObjectName"):  # signed right, refused by the rule
        _our_cos_client(strict).get_object_tagging(ObjectRef(BUCKET, REGION, DOUBLE))


# -- item 2: COS key rules ------------------------------------------------------------------------
KEY_850 = "k/" + "视" * 282 + "a" * 2  # 2 + 846 + 2 = 850 UTF-8 bytes


@pytest.mark.parametrize(
    ("key", "code"),
    [
        (KEY_850 + "b", "KeyTooLong"),
        ("x" * 851, "KeyTooLong"),
        ("\\lead.txt", "InvalidObjectName"),
        ("a\x18b.mp4", "InvalidObjectName"),
        ("a\x1bb.mp4", "InvalidObjectName"),
        ("a\x00b.mp4", "InvalidObjectName"),
        ("line\r\nbreak.mp4", "InvalidObjectName"),
        ("line\nbreak.mp4", "InvalidObjectName"),
    ],
    ids=["851-bytes-cjk", "851-bytes", "backslash", "CAN", "ESC", "NUL", "CRLF", "LF"],
)
def test_keys_cos_refuses(strict: Harness, key: str, code: str) -> None:
    client = sdk(strict, "ip")
    status, got, _ = refusal(lambda: client.put_object(Bucket=BUCKET, Key=key, Body=b"x"))
    assert (status, got) == (400, code)
    assert strict.events == [] and strict.server.store.head(BUCKET, key) is None


def test_a_key_of_850_bytes_is_accepted(strict: Harness) -> None:
    assert len(KEY_850.encode("utf-8")) == 850
    client = sdk(strict, "ip")
    keys = [KEY_850, "x" * 850, "a\x7fb"]  # DEL (0x7F) is advice only in the overview
    for key in keys:
        client.put_object(Bucket=BUCKET, Key=key, Body=b"x")
    assert [event.key for event in strict.events] == keys


def test_a_path_that_is_not_utf8_is_invalid_uri(strict: Harness) -> None:
    response = requests.get(
        f"{strict.server.endpoint_url}/bad%FFbyte.mp4", headers={"Host": COS_HOST}, timeout=10
    )
    error = parse_error_body(response.content)
    assert (response.status_code, error and error.code) == (400, "InvalidURI")


# -- item 3: GET Bucket with a delimiter, page by page ------------------------------------------
LISTED_KEYS = [
    "a.mp4",
    "dir1/x.mp4",
    "dir1/y.mp4",
    "dir1/sub/z.mp4",
    "dir2/x.mp4",
    "dir3/x.mp4",
    "dir3/y/z.mp4",
    "m.mp4",
    "视频/一.mp4",
    "z.mp4",
]


def s3_entries(keys: list[str], prefix: str, delimiter: str) -> list[str]:
    """What S3-style listing must return over all pages: each key, or the prefix it rolls up
    into, once, in UTF-8 byte order (written here from the rule, not from the emulator)."""
    entries = set()
    for key in keys:
        if not key.startswith(prefix):
            continue
        cut = key.find(delimiter, len(prefix)) if delimiter else -1
        entries.add(key[: cut + len(delimiter)] if cut >= 0 else key)
    return sorted(entries, key=lambda entry: entry.encode("utf-8"))


def sdk_pages(client: CosS3Client, prefix: str, delimiter: str, size: int) -> list[list[str]]:
    pages: list[list[str]] = []
    marker = ""
    for _ in range(len(LISTED_KEYS) + 2):
        answer = client.list_objects(
            Bucket=BUCKET, Prefix=prefix, Delimiter=delimiter, Marker=marker, MaxKeys=size
        )
        page = [item["Prefix"] for item in answer.get("CommonPrefixes") or []]
        page += [item["Key"] for item in answer.get("Contents") or []]
        pages.append(sorted(page, key=lambda entry: entry.encode("utf-8")))
        if answer["IsTruncated"] != "true":
            return pages
        marker = answer["NextMarker"]
        assert marker == pages[-1][-1]  # NextMarker is the page's last entry, prefix or key
    raise AssertionError("listing never ended")


@pytest.mark.parametrize("size", [1, 2, 3])
@pytest.mark.parametrize(("prefix", "delimiter"), [("", "/"), ("dir3/", "/"), ("", "")])
def test_delimiter_listing_pages_never_repeat_an_entry(
    strict: Harness, prefix: str, delimiter: str, size: int
) -> None:
    client = sdk(strict, "ip")
    for key in LISTED_KEYS:
        client.put_object(Bucket=BUCKET, Key=key, Body=b"x")
    pages = sdk_pages(client, prefix, delimiter, size)
    listed = [entry for page in pages for entry in page]
    assert listed == s3_entries(LISTED_KEYS, prefix, delimiter)
    assert all(len(page) <= size for page in pages)


def test_a_marker_inside_a_rolled_up_prefix_does_not_list_it_again(strict: Harness) -> None:
    client = sdk(strict, "ip")
    for key in LISTED_KEYS:
        client.put_object(Bucket=BUCKET, Key=key, Body=b"x")
    answer = client.list_objects(Bucket=BUCKET, Delimiter="/", Marker="dir1/x.mp4")
    prefixes = [item["Prefix"] for item in answer.get("CommonPrefixes") or []]
    assert prefixes == ["dir2/", "dir3/", "视频/"]  # "dir1/" sorts before the marker


# -- item 6: tag limits in bytes, the API page's charset --------------------------------------
def _tagging(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    return {"TagSet": {"Tag": [{"Key": key, "Value": value} for key, value in pairs]}}


@pytest.mark.parametrize(
    "pairs",
    [
        [("视" * 43, "v")],  # 43 characters, 129 bytes
        [("k", "视" * 86)],  # 86 characters, 258 bytes
        [("k", "")],
        [("owner", "alice@example")],
        [("媒体", "v")],
    ],
    ids=["key-129-bytes", "value-258-bytes", "empty-value", "at-sign", "cjk-letters"],
)
def test_tags_cos_refuses_under_the_api_page_rules(
    strict: Harness, pairs: list[tuple[str, str]]
) -> None:
    client = sdk(strict, "ip")
    client.put_object(Bucket=BUCKET, Key="t.mp4", Body=b"x")
    status, code, _ = refusal(
        lambda: client.put_object_tagging(Bucket=BUCKET, Key="t.mp4", Tagging=_tagging(pairs))
    )
    assert (status, code) == (400, "InvalidTag")
    assert strict.server.store.head(BUCKET, "t.mp4").tags == ()  # type: ignore[union-attr]


def test_the_overview_charset_is_a_setting(tmp_path: Path) -> None:
    running = start_harness(tmp_path, fidelity=Fidelity(tag_charset="overview"))
    try:
        client = sdk(running, "ip")
        client.put_object(Bucket=BUCKET, Key="t.mp4", Body=b"x")
        wide = [("媒体", "时长 42"), ("owner", "alice@example")]
        client.put_object_tagging(Bucket=BUCKET, Key="t.mp4", Tagging=_tagging(wide))
        answer = client.get_object_tagging(Bucket=BUCKET, Key="t.mp4")
        assert [(t["Key"], t["Value"]) for t in answer["TagSet"]["Tag"]] == wide
        status, code, _ = refusal(
            lambda: client.put_object_tagging(
                Bucket=BUCKET, Key="t.mp4", Tagging=_tagging([("视" * 43, "v")])
            )
        )
        assert (status, code) == (400, "InvalidTag")  # bytes count under either charset
    finally:
        running.server.stop()
