"""CiClient describe and list: NonExistJobIds, a JobsDetail list, id checks, list parameters."""

from __future__ import annotations

from typing import Any

import pytest
import responses

from shared.errors import CiError, CiNotFoundError, EventError
from shared.tencent.ci_client import CiClient
from tests.client_helpers import (
    BUCKET,
    CI_HOST,
    JOB_ID,
    REGION,
    expected_headers,
    jobs_detail_xml,
    jobs_response,
    make_transport,
    match_request,
    strict_mock,
)

JOBS_URL = f"https://{CI_HOST}/jobs"


def _client(**options: Any) -> CiClient:
    return CiClient(make_transport(**options))


def test_describe_job_returns_the_job() -> None:
    url = f"{JOBS_URL}/{JOB_ID}"
    headers = expected_headers("GET", url, CI_HOST, key=f"/jobs/{JOB_ID}")
    with strict_mock() as mock:
        mock.add(
            responses.GET,
            url,
            body=jobs_response(jobs_detail_xml(state="Success")),
            match=match_request(headers=headers),
        )
        job = _client().describe_job(BUCKET, REGION, JOB_ID)
    assert job is not None
    assert (job.job_id, job.state, job.input.object) == (JOB_ID, "Success", "input/demo.mp4")


def test_describe_unknown_job_is_none() -> None:
    unknown = "jffffffffffffffffffffffffffffffff"
    with strict_mock() as mock:
        mock.add(
            responses.GET,
            f"{JOBS_URL}/{unknown}",
            body=jobs_response(f"<NonExistJobIds>{unknown}</NonExistJobIds>"),
        )
        assert _client().describe_job(BUCKET, REGION, unknown) is None


def test_describe_picks_the_job_from_a_jobs_detail_list() -> None:
    other = "j000000000000000000000000000000aa"
    body = jobs_response(
        jobs_detail_xml(job_id=other, obj="other.mp4"), jobs_detail_xml(state="Failed")
    )
    with strict_mock() as mock:
        mock.add(responses.GET, f"{JOBS_URL}/{JOB_ID}", body=body)
        job = _client().describe_job(BUCKET, REGION, JOB_ID)
    assert job is not None
    assert (job.job_id, job.state, job.input.object) == (JOB_ID, "Failed", "input/demo.mp4")


def test_describe_answer_about_another_job_is_a_ci_error() -> None:
    with strict_mock() as mock:
        mock.add(
            responses.GET,
            f"{JOBS_URL}/{JOB_ID}",
            body=jobs_response(jobs_detail_xml(job_id="jother")),
        )
        with pytest.raises(
            CiError,
            match="GET /jobs/j229ed9e2f60c11ec8525e36307395bf9 answered without that job",
        ):
            _client().describe_job(BUCKET, REGION, JOB_ID)


@pytest.mark.parametrize("job_id", ["", "../jobs", "a/b", "j1,j2", "j 1", "j%2F"])
def test_describe_refuses_ids_that_would_change_the_path(job_id: str) -> None:
    with strict_mock() as mock, pytest.raises(EventError, match="not a CI job id"):
        _client().describe_job(BUCKET, REGION, job_id)
    assert len(mock.calls) == 0


def test_describe_404_is_ci_not_found() -> None:
    with strict_mock() as mock:
        mock.add(responses.GET, f"{JOBS_URL}/{JOB_ID}", status=404)
        with pytest.raises(CiNotFoundError, match="ci 404 NoSuchResource"):
            _client().describe_job(BUCKET, REGION, JOB_ID)


@pytest.mark.parametrize(
    ("kwargs", "query", "url_query"),
    [
        (
            {},
            {"tag": "MediaInfo", "orderByTime": "Desc", "size": "100"},
            "tag=MediaInfo&orderByTime=Desc&size=100",
        ),
        (
            {
                "states": ("Success", "Failed"),
                "start_creation_time": "2024-01-01T00:00:00+0800",
                "end_creation_time": "2024-01-02T00:00:00+0800",
                "size": 10,
                "next_token": "tok 1",
                "order_by_time": "Asc",
            },
            {
                "tag": "MediaInfo",
                "orderByTime": "Asc",
                "states": "Success,Failed",
                "nextToken": "tok 1",
                "startCreationTime": "2024-01-01T00:00:00+0800",
                "endCreationTime": "2024-01-02T00:00:00+0800",
                "size": "10",
            },
            "tag=MediaInfo&orderByTime=Asc&states=Success%2CFailed&nextToken=tok%201"
            "&startCreationTime=2024-01-01T00%3A00%3A00%2B0800"
            "&endCreationTime=2024-01-02T00%3A00%3A00%2B0800&size=10",
        ),
    ],
)
def test_list_jobs(kwargs: dict[str, Any], query: dict[str, str], url_query: str) -> None:
    headers = expected_headers("GET", JOBS_URL, CI_HOST, key="/jobs", params=query)
    body = jobs_response(
        jobs_detail_xml(state="Success"), jobs_detail_xml(job_id="j2", state="Failed")
    )
    body = body.replace(b"</Response>", b"<NextToken>next-2</NextToken></Response>")
    with strict_mock() as mock:
        mock.add(
            responses.GET, JOBS_URL, body=body, match=match_request(query=query, headers=headers)
        )
        page = _client().list_jobs(BUCKET, REGION, **kwargs)
    assert [job.job_id for job in page.jobs] == [JOB_ID, "j2"]
    assert page.next_token == "next-2"
    assert mock.calls[0].request.url == f"{JOBS_URL}?{url_query}"  # %20 and %2B, never '+'
