"""Parity with the official SDK: SDK vectors reproduced by our clients, and requests equal to
what cos-python-sdk-v5 itself sends (URL, token header, Authorization) with the same clock."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import pytest
import responses
from requests.adapters import HTTPAdapter

from shared.models import ObjectRef
from shared.tencent.ci_client import CiClient
from shared.tencent.cos_client import CosClient
from tests.client_helpers import (
    BUCKET,
    COS_HOST,
    JOB_ID,
    KEY_WIRE_PATHS,
    REGION,
    TOKEN,
    FakeClock,
    frozen_sdk_clock,
    jobs_detail_xml,
    jobs_response,
    make_transport,
    sdk_client,
    strict_mock,
    vector,
)


def test_get_object_tagging_reproduces_the_sdk_vector_exactly() -> None:
    v = vector("get_object_tagging")
    clock = FakeClock(v["start"] + 60)
    transport = make_transport(clock, sign_expire_s=v["end"] - v["start"] - 60)
    with strict_mock() as mock:
        mock.add(responses.GET, v["url"], body=b"<Tagging><TagSet/></Tagging>")
        CosClient(transport).get_object_tagging(ObjectRef(BUCKET, REGION, v["path"]))
    request = mock.calls[0].request
    assert request.url == v["url"]
    assert request.headers["Authorization"] == v["authorization"]


def _sdk_sent(call: Any, method: str = responses.HEAD, body: bytes = b"") -> Any:
    """Run one official-SDK call against the mock; return the request it sent."""
    with strict_mock() as mock:
        mock.add(responses.Response(method=method, url=re.compile(".*"), body=body))
        with frozen_sdk_clock(1_700_000_060):
            call(sdk_client(TOKEN))
    return mock.calls[0].request


def _text(value: str | bytes) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else value  # the SDK sends bytes


SDK_ADDRESSABLE_KEYS = [key for key, wire in KEY_WIRE_PATHS if not wire.startswith("/%2F")]


@pytest.mark.parametrize("key", SDK_ADDRESSABLE_KEYS)
def test_head_object_request_equals_the_official_sdk_request(key: str) -> None:
    sdk_request = _sdk_sent(lambda sdk: sdk.head_object(Bucket=BUCKET, Key=key))
    clock = FakeClock(1_700_000_060)
    transport = make_transport(clock, token=TOKEN, sign_expire_s=10000)  # SDK's fixed expiry
    with strict_mock() as mock:
        mock.add(responses.HEAD, sdk_request.url, headers={"Content-Length": "0"})
        CosClient(transport).head_object(ObjectRef(BUCKET, REGION, key))
    ours = mock.calls[0].request
    assert ours.url == sdk_request.url
    for name in ("x-cos-security-token", "Authorization"):
        assert ours.headers[name] == _text(sdk_request.headers[name])


def test_a_leading_double_slash_key_is_signed_as_the_sdk_signs_it_and_arrives_intact() -> None:
    key = "//double/lead.txt"
    sdk_request = _sdk_sent(lambda sdk: sdk.head_object(Bucket=BUCKET, Key=key))
    adapter = HTTPAdapter()
    # the SDK asks for "//double/lead.txt", but requests puts "/double/lead.txt" on the request
    # line while the signature covers "//double/lead.txt": COS would answer 403 to the SDK
    assert urlsplit(sdk_request.url).path == "//double/lead.txt"
    assert adapter.request_url(sdk_request, {}) == "/double/lead.txt"
    clock = FakeClock(1_700_000_060)
    transport = make_transport(clock, token=TOKEN, sign_expire_s=10000)
    url = f"https://{COS_HOST}/%2Fdouble/lead.txt"
    with strict_mock() as mock:
        mock.add(responses.HEAD, url, headers={"Content-Length": "0"})
        CosClient(transport).head_object(ObjectRef(BUCKET, REGION, key))
    ours = mock.calls[0].request
    assert adapter.request_url(ours, {}) == "/%2Fdouble/lead.txt"  # decoded by COS: "//double/…"
    assert ours.headers["Authorization"] == _text(sdk_request.headers["Authorization"])


def test_describe_reproduces_the_sdk_vector() -> None:
    v = vector("ci_get_media_jobs")
    transport = make_transport(FakeClock(v["start"] + 60), sign_expire_s=v["end"] - v["start"] - 60)
    with strict_mock() as mock:
        mock.add(responses.GET, v["url"], body=jobs_response(jobs_detail_xml(job_id=v["path"][6:])))
        CiClient(transport).describe_job(BUCKET, REGION, v["path"][6:])
    assert mock.calls[0].request.url == v["url"]
    assert mock.calls[0].request.headers["Authorization"] == v["authorization"]


def test_get_tagging_of_a_version_equals_the_official_sdk_request() -> None:
    key, version = "视频/a b+c.mp4", "MTg0NDUx+/=="
    sdk_request = _sdk_sent(
        lambda sdk: sdk.get_object_tagging(Bucket=BUCKET, Key=key, VersionId=version),
        responses.GET,
        b"<Tagging><TagSet/></Tagging>",
    )
    transport = make_transport(FakeClock(1_700_000_060), token=TOKEN, sign_expire_s=10000)
    with strict_mock() as mock:
        mock.add(responses.GET, re.compile(".*"), body=b"<Tagging><TagSet/></Tagging>")
        CosClient(transport).get_object_tagging(ObjectRef(BUCKET, REGION, key, version))
    ours = mock.calls[0].request
    # requests encodes the SDK's query with quote_plus; the parameters and signature must agree
    assert ours.path_url.split("?")[0] == sdk_request.path_url.split("?")[0]
    assert ours.params == sdk_request.params  # type: ignore[attr-defined]
    assert ours.headers["Authorization"] == _text(sdk_request.headers["Authorization"])


def test_describe_with_token_equals_the_official_sdk_request() -> None:
    body = jobs_response(jobs_detail_xml())
    sdk_request = _sdk_sent(
        lambda sdk: sdk.ci_get_media_jobs(Bucket=BUCKET, JobIDs=JOB_ID), responses.GET, body
    )
    transport = make_transport(FakeClock(1_700_000_060), token=TOKEN, sign_expire_s=10000)
    with strict_mock() as mock:
        mock.add(responses.GET, sdk_request.url, body=body)
        CiClient(transport).describe_job(BUCKET, REGION, JOB_ID)
    ours = mock.calls[0].request
    assert ours.url == sdk_request.url
    assert "x-cos-security-token" not in ours.headers
    for name in ("x-ci-security-token", "Authorization"):
        assert ours.headers[name] == _text(sdk_request.headers[name])
