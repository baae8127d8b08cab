"""Presigned URLs made by cos-python-sdk-v5, used by a plain HTTP client (a "browser").

The signature travels in the query string (q-sign-algorithm ... q-signature, and the STS token
as ``x-cos-security-token``, the way the SDK's presigned-URL doc passes it) and is checked with
the header rules: key time window (the emulator's clock is injected to step past it), signed
headers and parameters, token. URLs name the real host; the browser reaches the emulator as its
HTTP proxy. Error bodies are the COS captures of cos-facts.md section 5.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
import requests
from qcloud_cos import CosS3Client  # noqa: TID251 -- test-only oracle

from emulator import EmulatorCredentials
from shared.tencent.xml_answers import parse_error_body
from tests.client_helpers import frozen_sdk_clock
from tests.emulator_fixtures import BUCKET, Harness, start_harness
from tests.sdk_helpers import browser, md5_hex, presigning_client

pytestmark = pytest.mark.e2e
BODY = b"\x00\x00\x00\x18ftypmp42 pretend video bytes" * 50


NOW = 1_764_581_234.0  # 2025-12-01T09:27:14Z: the SDK signs at this second (frozen_sdk_clock)


class Clock:
    """The emulator's clock: starts where the SDK's frozen signing clock stands, then is stepped."""

    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def running(
    tmp_path: Path, clock: Clock
) -> Iterator[tuple[Harness, CosS3Client, requests.Session]]:
    harness = start_harness(tmp_path, clock=clock)
    session = browser(harness.server.endpoint_url)
    try:
        with frozen_sdk_clock(NOW):
            yield harness, presigning_client(harness.client.credentials), session
    finally:
        session.close()
        harness.server.stop()


def _error(response: requests.Response) -> tuple[int, str, str]:
    parsed = parse_error_body(response.content)
    assert parsed is not None, response.content
    return response.status_code, parsed.code, parsed.message


def _token(harness: Harness) -> dict[str, str]:
    return {"x-cos-security-token": harness.client.credentials.token or ""}


def test_presigned_put_then_get_work_without_an_authorization_header(
    running: tuple[Harness, CosS3Client, requests.Session],
) -> None:
    harness, sdk, session = running
    put_url = sdk.get_presigned_url(
        Bucket=BUCKET, Key="up/视频 a+b.mp4", Method="PUT", Params=_token(harness)
    )
    query = dict(parse_qsl(urlsplit(put_url).query))
    assert query["q-url-param-list"] == "x-cos-security-token"  # the token is signed
    stored = session.put(put_url, data=BODY, headers={"Content-Type": "video/mp4"}, timeout=10)
    assert stored.status_code == 200, stored.content
    assert stored.headers["ETag"] == f'"{md5_hex(BODY)}"'
    (event,) = harness.events
    assert (event.key, event.event_name) == ("up/视频 a+b.mp4", "cos:ObjectCreated:Put")
    assert event.content_type == "video/mp4"
    get_url = sdk.get_presigned_download_url(Bucket=BUCKET, Key="up/视频 a+b.mp4",
                                             Params=_token(harness))  # fmt: skip
    fetched = session.get(get_url, timeout=10)
    assert fetched.status_code == 200 and fetched.content == BODY


def test_unsigned_token_parameter_is_accepted_and_a_missing_one_refused(
    running: tuple[Harness, CosS3Client, requests.Session],
) -> None:
    harness, sdk, session = running
    url = sdk.get_presigned_url(Bucket=BUCKET, Key="t.mp4", Method="PUT")
    assert "x-cos-security-token" not in url  # the SDK never adds the token by itself
    assert _error(session.put(url, data=b"x", timeout=10))[:2] == (403, "InvalidAccessKeyId")
    appended = url + "&" + urlencode(_token(harness))  # as the signature doc shows it
    assert session.put(appended, data=b"x", timeout=10).status_code == 200
    wrong = url + "&" + urlencode({"x-cos-security-token": "other"})
    assert _error(session.put(wrong, data=b"x", timeout=10))[:2] == (403, "InvalidToken")


def test_expired_presigned_url_is_request_has_expired(
    running: tuple[Harness, CosS3Client, requests.Session], clock: Clock
) -> None:
    harness, sdk, session = running
    url = sdk.get_presigned_url(
        Bucket=BUCKET, Key="late.mp4", Method="PUT", Expired=120, Params=_token(harness)
    )
    clock.now += 119  # the SDK's window: now - 60 .. now + Expired
    assert session.put(url, data=b"x", timeout=10).status_code == 200
    clock.now += 120
    refused = session.put(url, data=b"y", timeout=10)
    assert _error(refused) == (403, "AccessDenied", "Request has expired")
    clock.now -= 400  # before the window's start
    assert _error(session.put(url, data=b"z", timeout=10))[:2] == (403, "AccessDenied")
    assert [event.size for event in harness.events] == [1]


def test_signed_parameters_and_headers_must_arrive_unchanged(
    running: tuple[Harness, CosS3Client, requests.Session],
) -> None:
    harness, sdk, session = running
    harness.client.send("PUT", "doc.pdf", body=BODY)
    params = {**_token(harness), "response-content-disposition": "attachment; filename=a.pdf"}
    url = sdk.get_presigned_download_url(Bucket=BUCKET, Key="doc.pdf", Params=params)
    ok = session.get(url, timeout=10)
    assert ok.headers["Content-Disposition"] == "attachment; filename=a.pdf"
    tampered = url.replace("a.pdf", "b.pdf")
    assert _error(session.get(tampered, timeout=10))[:2] == (403, "SignatureDoesNotMatch")
    extra = session.get(url + "&unsigned=1", timeout=10)
    assert extra.status_code == 200  # parameters outside q-url-param-list are not checked
    signature = dict(parse_qsl(urlsplit(url).query))["q-signature"]
    forged = url.replace(signature, "0" * 40)
    assert _error(session.get(forged, timeout=10))[:2] == (403, "SignatureDoesNotMatch")
    with_header = sdk.get_presigned_url(
        Bucket=BUCKET,
        Key="typed.mp4",
        Method="PUT",
        Params=_token(harness),
        Headers={"Content-Type": "video/mp4"},
    )
    assert "content-type" in dict(parse_qsl(urlsplit(with_header).query))["q-header-list"]
    without = session.put(with_header, data=b"x", timeout=10)
    assert _error(without)[:2] == (403, "SignatureDoesNotMatch")
    other = session.put(with_header, data=b"x", headers={"Content-Type": "text/html"}, timeout=10)
    assert _error(other)[:2] == (403, "SignatureDoesNotMatch")
    right = session.put(with_header, data=b"x", headers={"Content-Type": "video/mp4"}, timeout=10)
    assert right.status_code == 200


def test_presigned_url_of_another_key_or_secret_is_refused(tmp_path: Path) -> None:
    harness = start_harness(tmp_path)
    session = browser(harness.server.endpoint_url)
    try:
        credentials = harness.client.credentials
        stranger = EmulatorCredentials("AKIDSTRANGER", "stranger-key", credentials.token)
        params = _token(harness)
        foreign = presigning_client(stranger).get_presigned_url(
            Bucket=BUCKET, Key="a.mp4", Method="PUT", Params=params
        )
        assert _error(session.put(foreign, data=b"x", timeout=10))[:2] == (
            403,
            "InvalidAccessKeyId",
        )
        wrong_key = EmulatorCredentials(credentials.secret_id, "wrong", credentials.token)
        bad = presigning_client(wrong_key).get_presigned_url(
            Bucket=BUCKET, Key="a.mp4", Method="PUT", Params=params
        )
        assert _error(session.put(bad, data=b"x", timeout=10))[:2] == (403, "SignatureDoesNotMatch")
        good = presigning_client(credentials).get_presigned_url(
            Bucket=BUCKET, Key="a.mp4", Method="PUT", Params=params
        )
        moved = good.replace("/a.mp4?", "/b.mp4?")  # the path is signed
        assert _error(session.put(moved, data=b"x", timeout=10))[:2] == (
            403,
            "SignatureDoesNotMatch",
        )
        as_get = session.get(good, timeout=10)  # the method is signed
        assert as_get.status_code == 403
        half = good.split("&q-signature=")[0]  # q-signature missing: not a signature at all
        assert _error(session.put(half, data=b"x", timeout=10))[:2] == (403, "AccessDenied")
        assert harness.events == []
    finally:
        session.close()
        harness.server.stop()
