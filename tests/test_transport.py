"""Transport: headers and signing per attempt, token headers, errors, retries, deadline, session."""

from __future__ import annotations

import pytest
import requests
import responses

from shared.errors import (
    CiError,
    CiNotFoundError,
    CosError,
    CosNotFoundError,
    EventError,
)
from shared.tencent import transport as transport_module
from shared.tencent.endpoints import Endpoint
from shared.tencent.transport import shared_session
from tests.client_helpers import (
    CI_HOST,
    COS_HOST,
    TOKEN,
    expected_headers,
    make_transport,
    match_request,
    strict_mock,
)

URL = f"https://{COS_HOST}/input/demo.mp4"
COS_ERROR = (
    b"<?xml version='1.0' encoding='utf-8' ?><Error><Code>AccessDenied</Code>"
    b"<Message>Access Denied.</Message><Resource>examplebucket-1250000000.cos.ap-guangzhou"
    b".myqcloud.com/input/demo.mp4</Resource><RequestId>NjQ2ZDc0_body</RequestId>"
    b"<TraceId>OGVmYzZiMmQ=</TraceId></Error>"
)
CI_ERROR = (
    b"<Error><Code>InvalidArgument</Code><Message>bad tag</Message>"
    b"<RequestId>ci-req-body</RequestId><TraceId>t</TraceId></Error>"
)


def _get(mock: responses.RequestsMock, status: int, **kwargs: object) -> None:
    mock.add(responses.GET, URL, status=status, **kwargs)  # type: ignore[arg-type]


def test_sends_host_user_agent_and_an_oracle_equal_signature() -> None:
    headers = expected_headers("GET", URL, COS_HOST, key="input/demo.mp4")
    with strict_mock() as mock:
        mock.add(responses.GET, URL, body=b"ok", match=match_request(headers=headers))
        response = make_transport().request("cos", "GET", COS_HOST, "input/demo.mp4")
    assert response.content == b"ok"
    assert mock.calls[0].request.url == URL


@pytest.mark.parametrize(
    ("service", "host", "token_header"),
    [("cos", COS_HOST, "x-cos-security-token"), ("ci", CI_HOST, "x-ci-security-token")],
)
def test_token_header_depends_on_the_service_and_is_signed(
    service: str, host: str, token_header: str
) -> None:
    url = f"https://{host}/jobs"
    headers = expected_headers("GET", url, host, key="/jobs", extra={token_header: TOKEN})
    with strict_mock() as mock:
        mock.add(responses.GET, url, match=match_request(headers=headers))
        make_transport(token=TOKEN).request(service, "GET", host, "/jobs")  # type: ignore[arg-type]
    authorization = mock.calls[0].request.headers["Authorization"]
    assert f"q-header-list=host;{token_header}&" in authorization


def test_body_gets_xml_content_type_and_signed_length() -> None:
    body = b"<Request/>"
    headers = expected_headers(
        "POST", f"https://{CI_HOST}/jobs", CI_HOST, key="/jobs",
        extra={"Content-Type": "application/xml"}, body=body,
    )  # fmt: skip
    with strict_mock() as mock:
        mock.add(
            responses.POST,
            f"https://{CI_HOST}/jobs",
            match=match_request(headers=headers, body=body),
        )
        make_transport().request("ci", "POST", CI_HOST, "/jobs", body=body)
    authorization = mock.calls[0].request.headers["Authorization"]
    assert "q-header-list=content-length;content-type;host&" in authorization


def test_caller_headers_replace_defaults_case_insensitively() -> None:
    with strict_mock() as mock:
        mock.add(responses.PUT, URL)
        make_transport().request(
            "cos",
            "PUT",
            COS_HOST,
            "input/demo.mp4",
            headers={"content-type": "text/xml"},
            body=b"x",
        )
    sent = mock.calls[0].request.headers
    assert sent["Content-Type"] == "text/xml"
    assert [k for k in sent if k.lower() == "content-type"] == ["content-type"]


def test_override_sends_the_same_signed_request_to_the_emulator() -> None:
    override = "http://127.0.0.1:9000"
    headers = expected_headers(
        "GET", URL, COS_HOST, key="a b.mp4", params={"tagging": ""}
    )  # oracle signs the real URL: the signature must not depend on where the request goes
    with strict_mock() as mock:
        mock.add(
            responses.GET,
            f"{override}/a%20b.mp4",
            match=match_request(query={"tagging": ""}, headers=headers),
        )
        make_transport(endpoint=Endpoint(override)).request(
            "cos", "GET", COS_HOST, "a b.mp4", params={"tagging": ""}
        )
    assert mock.calls[0].request.url == f"{override}/a%20b.mp4?tagging="
    assert mock.calls[0].request.headers["Host"] == COS_HOST


def test_cos_xml_error_is_translated() -> None:
    with strict_mock() as mock:
        _get(mock, 403, body=COS_ERROR, headers={"x-cos-request-id": "from-header"})
        with pytest.raises(CosError, match=r"cos 403 AccessDenied: Access Denied\.") as caught:
            make_transport().request("cos", "GET", COS_HOST, "input/demo.mp4")
    error = caught.value
    assert type(error) is CosError
    assert (error.status, error.code, error.message) == (403, "AccessDenied", "Access Denied.")
    assert error.request_id == "NjQ2ZDc0_body"
    assert error.service == "cos"


def test_ci_xml_error_is_translated_with_header_request_id_fallback() -> None:
    url = f"https://{CI_HOST}/jobs"
    body = CI_ERROR.replace(b"<RequestId>ci-req-body</RequestId>", b"")
    with strict_mock() as mock:
        mock.add(responses.POST, url, status=400, body=body, headers={"x-ci-request-id": "ci-hdr"})
        with pytest.raises(CiError, match="ci 400 InvalidArgument: bad tag") as caught:
            make_transport().request("ci", "POST", CI_HOST, "/jobs", body=b"<Request/>")
    error = caught.value
    assert type(error) is CiError
    assert (error.status, error.code, error.message, error.request_id) == (
        400,
        "InvalidArgument",
        "bad tag",
        "ci-hdr",
    )


def test_head_404_without_body_is_a_typed_not_found() -> None:
    with strict_mock() as mock:
        mock.add(responses.HEAD, URL, status=404, headers={"x-cos-request-id": "rid-404"})
        with pytest.raises(CosNotFoundError, match="cos 404 NoSuchResource") as caught:
            make_transport().request("cos", "HEAD", COS_HOST, "input/demo.mp4")
    assert (caught.value.status, caught.value.code, caught.value.request_id) == (
        404,
        "NoSuchResource",
        "rid-404",
    )


def test_ci_404_is_ci_not_found() -> None:
    url = f"https://{CI_HOST}/jobs/x"
    with strict_mock() as mock:
        mock.add(responses.GET, url, status=404, body=b"<Error><Code>InvalidUrl</Code></Error>")
        with pytest.raises(CiNotFoundError, match="ci 404 InvalidUrl") as caught:
            make_transport().request("ci", "GET", CI_HOST, "/jobs/x")
    assert caught.value.code == "InvalidUrl"


def test_non_xml_error_body_keeps_the_status() -> None:
    with strict_mock() as mock:
        _get(mock, 418, body=b"<html>teapot</html>")
        with pytest.raises(CosError, match="cos 418 HTTP418: I'm a Teapot") as caught:
            make_transport().request("cos", "GET", COS_HOST, "input/demo.mp4")
    assert (caught.value.status, caught.value.code) == (418, "HTTP418")


def test_strict_mock_fails_closed_on_an_unused_response() -> None:
    with (
        pytest.raises(AssertionError, match="Not all requests have been executed"),
        strict_mock() as mock,
    ):
        _get(mock, 200)


def test_dot_segment_key_is_refused_before_sending() -> None:
    with (
        strict_mock() as mock,
        pytest.raises(EventError, match=r"object key 'a/\.\.' ends in a dot segment"),
    ):
        make_transport().request("cos", "GET", COS_HOST, "a/..")
    assert len(mock.calls) == 0


def test_shared_session_is_cached_and_ignores_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(transport_module, "_shared_session", None)
    first = shared_session()
    assert shared_session() is first
    assert first.trust_env is False
    adapter = first.get_adapter("https://x.cos.ap-guangzhou.myqcloud.com/")
    assert isinstance(adapter, requests.adapters.HTTPAdapter)
    assert adapter.max_retries.total == 0


def test_transport_without_session_uses_the_shared_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(transport_module, "_shared_session", None)
    transport = make_transport()
    transport._session = None
    with strict_mock() as mock:
        _get(mock, 200)
        transport.request("cos", "GET", COS_HOST, "input/demo.mp4")
    assert transport_module._shared_session is not None
