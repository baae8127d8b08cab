"""CiClient over a strict HTTP mock: submit (exact seed body), describe (NonExistJobIds, JobsDetail
list), list, input checks before sending, the CI token header, CI errors, retry on 429."""

from __future__ import annotations

import re
from typing import Any

import pytest
import responses

from shared.errors import CiError, EventError
from shared.models import Job, JobInput, JobOperation
from shared.ports import MediaInfoJobRequest, MediaJobs
from shared.tencent.ci_client import CiClient
from tests.client_helpers import (
    BUCKET,
    CI_HOST,
    JOB_ID,
    REGION,
    TOKEN,
    FakeClock,
    expected_headers,
    jobs_detail_xml,
    jobs_response,
    make_transport,
    match_request,
    strict_mock,
)

JOBS_URL = f"https://{CI_HOST}/jobs"
SEED_REQUEST = MediaInfoJobRequest(
    object_key="input/demo.mp4",
    user_data="req-42",
    job_level=0,
    callback_url="https://hooks.example.com/ci/callback?t=SECRET",
    callback_format="JSON",
)
# cos-ci-api.md section 2.2, the seed's body, whitespace between elements removed.
SEED_BODY = (
    b"<Request><Tag>MediaInfo</Tag><Input><Object>input/demo.mp4</Object></Input>"
    b"<Operation><UserData>req-42</UserData><JobLevel>0</JobLevel></Operation>"
    b"<CallBack>https://hooks.example.com/ci/callback?t=SECRET</CallBack>"
    b"<CallBackFormat>JSON</CallBackFormat></Request>"
)
XML = {"Content-Type": "application/xml"}


SUBMITTED = Job(
    job_id=JOB_ID,
    state="Submitted",
    tag="MediaInfo",
    code="Success",
    message=None,
    input=JobInput(BUCKET, "input/demo.mp4", REGION),
    operation=JobOperation(user_data="req-42", job_level=0),
    queue_id="p2242ab62c7c94486915508540933a2c6",
    creation_time="2022-06-27T15:23:10+0800",
)


def _client(**options: Any) -> CiClient:
    return CiClient(make_transport(**options))


def test_ci_client_satisfies_the_media_jobs_port() -> None:
    jobs: MediaJobs = _client()
    assert isinstance(jobs, CiClient)


def test_submit_sends_the_seed_body_with_the_ci_token() -> None:
    extra = {**XML, "x-ci-security-token": TOKEN}
    headers = expected_headers("POST", JOBS_URL, CI_HOST, key="/jobs", extra=extra, body=SEED_BODY)
    with strict_mock() as mock:
        mock.add(
            responses.POST,
            JOBS_URL,
            body=jobs_response(jobs_detail_xml()),
            match=match_request(headers=headers, body=SEED_BODY),
        )
        job = _client(token=TOKEN).submit_media_info_job(BUCKET, REGION, SEED_REQUEST)
    assert job == SUBMITTED
    assert mock.calls[0].request.url == JOBS_URL
    assert (
        "q-header-list=content-length;content-type;host;x-ci-security-token&"
        in (headers["Authorization"])
    )
    assert "x-cos-security-token" not in mock.calls[0].request.headers


def test_submit_escapes_xml_in_key_and_callback() -> None:
    request = MediaInfoJobRequest("a&b<c>.mp4", "id=1&x", 2, "https://h.example/cb?a=1&b=2", "XML")
    body = (
        b"<Request><Tag>MediaInfo</Tag><Input><Object>a&amp;b&lt;c&gt;.mp4</Object></Input>"
        b"<Operation><UserData>id=1&amp;x</UserData><JobLevel>2</JobLevel></Operation>"
        b"<CallBack>https://h.example/cb?a=1&amp;b=2</CallBack>"
        b"<CallBackFormat>XML</CallBackFormat></Request>"
    )
    headers = expected_headers("POST", JOBS_URL, CI_HOST, key="/jobs", extra=XML, body=body)
    with strict_mock() as mock:
        mock.add(
            responses.POST,
            JOBS_URL,
            body=jobs_response(jobs_detail_xml()),
            match=match_request(headers=headers, body=body),
        )
        _client().submit_media_info_job(BUCKET, REGION, request)


ASCII_ONLY = "UserData must contain printable ASCII characters only (0x20-0x7E)"


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"user_data": "x" * 1025}, "UserData is 1025 characters; CI accepts at most 1024"),
        ({"user_data": "caf\u00e9"}, ASCII_ONLY),
        ({"user_data": "line\nbreak"}, ASCII_ONLY),
        ({"user_data": "tab\there"}, ASCII_ONLY),
        ({"callback_format": "json"}, "callback format must be JSON or XML, not 'json'"),
        ({"job_level": 3}, "JobLevel must be 0, 1 or 2, not 3"),
    ],
)
def test_invalid_submit_input_is_refused_before_sending(
    changes: dict[str, Any], reason: str
) -> None:
    fields = {**SEED_REQUEST.__dict__, **changes}
    with strict_mock() as mock, pytest.raises(EventError, match=re.escape(reason)):
        _client().submit_media_info_job(BUCKET, REGION, MediaInfoJobRequest(**fields))
    assert len(mock.calls) == 0


def test_user_data_of_exactly_1024_printable_characters_is_sent() -> None:
    request = MediaInfoJobRequest("k.mp4", "~" * 1023 + " ", 0, "https://h.example/cb", "XML")
    with strict_mock() as mock:
        mock.add(responses.POST, JOBS_URL, body=jobs_response(jobs_detail_xml()))
        _client().submit_media_info_job(BUCKET, REGION, request)
    sent = mock.calls[0].request.body
    assert isinstance(sent, bytes)
    assert b"<UserData>" + b"~" * 1023 + b" </UserData>" in sent


def test_submit_answer_without_jobs_detail_is_a_ci_error() -> None:
    with strict_mock() as mock:
        mock.add(responses.POST, JOBS_URL, body=b"<Response/>", headers={"x-ci-request-id": "r1"})
        with pytest.raises(
            CiError, match="ci 200 MissingJobsDetail: POST /jobs answered without a JobsDetail"
        ) as caught:
            _client().submit_media_info_job(BUCKET, REGION, SEED_REQUEST)
    assert caught.value.request_id == "r1"


def test_submit_retries_429_then_succeeds() -> None:
    clock = FakeClock()
    slow = b"<Error><Code>SlowDown</Code><Message>slow</Message></Error>"
    with strict_mock(ordered=True) as mock:
        mock.add(responses.POST, JOBS_URL, status=429, body=slow)
        mock.add(responses.POST, JOBS_URL, body=jobs_response(jobs_detail_xml()))
        job = _client(clock=clock).submit_media_info_job(BUCKET, REGION, SEED_REQUEST)
    assert job.job_id == JOB_ID
    assert clock.sleeps == [0.2]
    assert mock.calls[0].request.body == mock.calls[1].request.body == SEED_BODY


def test_ci_error_body_is_translated() -> None:
    body = (
        b"<Error><Code>QueueSaturated</Code><Message>queue full</Message>"
        b"<RequestId>NjJmMDc2</RequestId><TraceId>t</TraceId></Error>"
    )
    with strict_mock() as mock:
        mock.add(responses.POST, JOBS_URL, status=403, body=body)
        with pytest.raises(CiError, match="ci 403 QueueSaturated: queue full") as caught:
            _client().submit_media_info_job(BUCKET, REGION, SEED_REQUEST)
    error = caught.value
    assert (error.service, error.status, error.code, error.message, error.request_id) == (
        "ci",
        403,
        "QueueSaturated",
        "queue full",
        "NjJmMDc2",
    )
