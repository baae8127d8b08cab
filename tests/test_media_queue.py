"""The QueueId hedge in the CI client: a configured queue in POST /jobs and GET /jobs, and after
a missing-queue refusal one GET /queue per warm instance, then the retry (strict HTTP mocks)."""

from __future__ import annotations

import logging
from typing import Any

import pytest
import responses

from shared.errors import CiError
from shared.ports import MediaInfoJobRequest
from shared.tencent.ci_client import CiClient
from shared.tencent.media_queue import (
    MediaQueue,
    QueueCache,
    is_missing_queue_refusal,
    parse_queue_list,
    pick_media_queue,
)
from tests.client_helpers import (
    BUCKET,
    CI_HOST,
    REGION,
    TOKEN,
    expected_headers,
    jobs_detail_xml,
    jobs_response,
    make_transport,
    match_request,
    strict_mock,
)

JOBS_URL = f"https://{CI_HOST}/jobs"
QUEUE_URL = f"https://{CI_HOST}/queue"
QUEUE = "p2242ab62c7c94486915508540933a2c6"
REQUEST = MediaInfoJobRequest("input/demo.mp4", "req-42", 0, "https://h.example/v2.t", "JSON")
XML = {"Content-Type": "application/xml"}
LOOKUP_QUERY = {"queueIds": "", "state": "Active", "pageNumber": "1", "pageSize": "10"}
NEEDS_QUEUE = (
    b"<Error><Code>InvalidArgument</Code><Message>QueueId is required</Message>"
    b"<RequestId>r1</RequestId></Error>"
)


def body(queue_id: str | None = None) -> bytes:
    """The POST /jobs body; QueueId where the docs that require it put it (after Operation)."""
    queue = f"<QueueId>{queue_id}</QueueId>" if queue_id else ""
    return (
        "<Request><Tag>MediaInfo</Tag><Input><Object>input/demo.mp4</Object></Input>"
        "<Operation><UserData>req-42</UserData><JobLevel>0</JobLevel></Operation>"
        f"{queue}<CallBack>https://h.example/v2.t</CallBack>"
        "<CallBackFormat>JSON</CallBackFormat></Request>"
    ).encode()


def queue_list(*queues: tuple[str, str, str | None], extra: str = "") -> bytes:
    items = "".join(
        f"<QueueList><QueueId>{qid}</QueueId><Name>queue-1</Name><State>{state}</State>"
        + (f"<Category>{category}</Category>" if category else "")
        + "</QueueList>"
        for qid, state, category in queues
    )
    return f"<Response><RequestId>r</RequestId>{items}{extra}</Response>".encode()


def client(cache: QueueCache, queue_id: str | None = None) -> CiClient:
    return CiClient(make_transport(token=TOKEN), queue_id=queue_id, queue_cache=cache)


def ci_headers(method: str, url: str, path: str, **more: Any) -> dict[str, str]:
    extra = {**more.pop("extra", {}), "x-ci-security-token": TOKEN}
    return expected_headers(method, url, CI_HOST, key=path, extra=extra, **more)


def add_post(mock: responses.RequestsMock, queue_id: str | None, **reply: Any) -> None:
    sent = body(queue_id)
    headers = ci_headers("POST", JOBS_URL, "/jobs", extra=XML, body=sent)
    reply.setdefault("body", jobs_response(jobs_detail_xml()))
    mock.add(responses.POST, JOBS_URL, match=match_request(headers=headers, body=sent), **reply)


def add_lookup(mock: responses.RequestsMock, answer: bytes, status: int = 200) -> None:
    headers = ci_headers("GET", QUEUE_URL, "/queue", params=LOOKUP_QUERY)
    match = match_request(query=LOOKUP_QUERY, headers=headers)
    mock.add(responses.GET, QUEUE_URL, body=answer, status=status, match=match)


def add_list(mock: responses.RequestsMock, query: dict[str, str], **reply: Any) -> None:
    headers = ci_headers("GET", JOBS_URL, "/jobs", params=query)
    reply.setdefault("body", jobs_response(jobs_detail_xml(state="Success")))
    mock.add(responses.GET, JOBS_URL, match=match_request(query=query, headers=headers), **reply)


def test_a_configured_queue_goes_into_submit_and_list() -> None:
    with strict_mock() as mock:
        add_post(mock, QUEUE)
        query = {"tag": "MediaInfo", "queueId": QUEUE, "orderByTime": "Desc", "size": "100"}
        add_list(mock, query)
        ci = client(QueueCache(), QUEUE)
        assert ci.submit_media_info_job(BUCKET, REGION, REQUEST).job_id.startswith("j")
        assert len(ci.list_jobs(BUCKET, REGION).jobs) == 1


def test_a_missing_queue_refusal_is_followed_by_one_lookup_and_a_retry(
    caplog: pytest.LogCaptureFixture,
) -> None:
    cache = QueueCache()
    with strict_mock(ordered=True) as mock, caplog.at_level(logging.WARNING):
        add_post(mock, None, status=400, body=NEEDS_QUEUE)
        add_lookup(
            mock, queue_list(("pspeed", "Active", "SpeedTranscoding"), (QUEUE, "Active", None))
        )
        add_post(mock, QUEUE)
        add_post(mock, QUEUE)  # the next submission names the queue at once: no refusal, no lookup
        client(cache).submit_media_info_job(BUCKET, REGION, REQUEST)
        client(cache).submit_media_info_job(BUCKET, REGION, REQUEST)
    lines = [r.getMessage() for r in caplog.records if r.name == "shared.tencent.media_queue"]
    assert lines == [
        f"CI refused POST /jobs for a missing queue (400 InvalidArgument); GET /queue on {BUCKET} "
        f"found Active media queue {QUEUE}: retrying with it"
    ]
    assert TOKEN not in caplog.text


def test_a_list_refusal_is_retried_with_the_queue_id_too() -> None:
    with strict_mock(ordered=True) as mock:
        add_list(mock, {"tag": "MediaInfo", "orderByTime": "Desc", "size": "100"}, status=400,
                 body=NEEDS_QUEUE)  # fmt: skip
        add_lookup(mock, queue_list((QUEUE, "Active", "Transcoding")))
        add_list(mock, {"tag": "MediaInfo", "queueId": QUEUE, "orderByTime": "Desc", "size": "100"})
        page = client(QueueCache()).list_jobs(BUCKET, REGION)
    assert len(page.jobs) == 1


@pytest.mark.parametrize(
    ("status", "code", "message"),
    [
        (400, "InvalidArgument", "Input.Object is empty"),  # about something else
        (403, "QueueSaturated", "The queue is full"),
        (403, "QueuePaused", "The queue is suspended"),
        (400, "ResourceNotFound", "queue? no: the input"),
    ],
)
def test_other_refusals_are_raised_without_a_lookup(status: int, code: str, message: str) -> None:
    error = f"<Error><Code>{code}</Code><Message>{message}</Message></Error>".encode()
    with strict_mock() as mock:
        add_post(mock, None, status=status, body=error)
        with pytest.raises(CiError, match=code):
            client(QueueCache()).submit_media_info_job(BUCKET, REGION, REQUEST)


def test_a_configured_queue_is_never_second_guessed() -> None:
    refused = b"<Error><Code>InvalidQueueId</Code><Message>no such queue</Message></Error>"
    with strict_mock() as mock:
        add_post(mock, QUEUE, status=400, body=refused)
        with pytest.raises(CiError, match="InvalidQueueId"):
            client(QueueCache(), QUEUE).submit_media_info_job(BUCKET, REGION, REQUEST)


def test_no_active_queue_raises_the_refusal_and_is_not_looked_up_again(
    caplog: pytest.LogCaptureFixture,
) -> None:
    cache = QueueCache()
    with strict_mock(ordered=True) as mock, caplog.at_level(logging.WARNING):
        add_post(mock, None, status=400, body=NEEDS_QUEUE)
        add_lookup(mock, queue_list((QUEUE, "Paused", None)))
        add_post(mock, None, status=400, body=NEEDS_QUEUE)
        for _ in range(2):
            with pytest.raises(CiError, match="InvalidArgument"):
                client(cache).submit_media_info_job(BUCKET, REGION, REQUEST)
    assert "no Active media queue: not retrying" in caplog.text
    assert caplog.text.count("GET /queue") == 1  # once per warm instance


def test_a_failed_lookup_is_not_remembered() -> None:
    cache = QueueCache()
    with strict_mock(ordered=True) as mock:
        add_post(mock, None, status=400, body=NEEDS_QUEUE)
        add_lookup(mock, b"<Error><Code>AccessDenied</Code></Error>", status=403)
        add_post(mock, None, status=400, body=NEEDS_QUEUE)
        add_lookup(mock, queue_list((QUEUE, "Active", None)))
        add_post(mock, QUEUE)
        with pytest.raises(CiError, match="InvalidArgument"):
            client(cache).submit_media_info_job(BUCKET, REGION, REQUEST)
        client(cache).submit_media_info_job(BUCKET, REGION, REQUEST)


@pytest.mark.parametrize(
    ("status", "code", "message", "expected"),
    [
        (400, "InvalidArgument", "QueueId is required", True),
        (400, "MissingParameter", "queueId", True),
        (400, "InvalidParameter", "队列不存在", True),
        (400, "InvalidQueueId", "", True),
        (400, "QueueIdRequired", "", True),
        (400, "InvalidArgument", "Object is invalid", False),
        (403, "QueueSaturated", "queue is full", False),
        (404, "InvalidQueueId", "", False),
        (500, "InternalError", "queue", False),
    ],
)
def test_what_counts_as_a_missing_queue_refusal(
    status: int, code: str, message: str, expected: bool
) -> None:
    assert is_missing_queue_refusal(CiError(status, code, message)) is expected


def test_both_documented_non_exist_shapes_and_the_2021_spelling_are_read() -> None:
    missing = "<NonExistPIDs>A</NonExistPIDs><NonExistPIDs>B</NonExistPIDs>"
    new = queue_list((QUEUE, "Active", "Transcoding"), extra=missing)
    old = (
        b"<Response><QueueList><QueueID>pold</QueueID><State>Active</State></QueueList>"
        b"<NonExistPIDs><QueueID>B</QueueID><QueueID>C</QueueID></NonExistPIDs></Response>"
    )
    assert parse_queue_list(new) == ((MediaQueue(QUEUE, "Active", "Transcoding"),), ("A", "B"))
    assert parse_queue_list(old) == ((MediaQueue("pold", "Active", None),), ("B", "C"))
    assert parse_queue_list(b"<Response/>") == ((), ())


def test_the_media_queue_picked_is_active_and_not_the_speed_queue() -> None:
    speed = MediaQueue("pspeed", "Active", "SpeedTranscoding")
    paused = MediaQueue("ppaused", "Paused", "Transcoding")
    assert pick_media_queue((speed, paused, MediaQueue(QUEUE, "Active", None))) == QUEUE
    assert pick_media_queue((speed, paused)) is None


DOC_SAMPLE = (  # the search-queue doc's sample (ci-facts.md 1.1), trimmed to one queue each
    b"<Response><RequestId>NjJmMzI5MmRfOTBmYTUwNjRfNjcwM18x</RequestId><TotalCount>2</TotalCount>"
    b"<PageNumber>1</PageNumber><PageSize>10</PageSize>"
    b"<QueueList><QueueId>pspeed</QueueId><Name>queue-2</Name><State>Active</State>"
    b"<MaxSize>100</MaxSize><MaxConcurrent>2</MaxConcurrent>"
    b"<Category>SpeedTranscoding</Category></QueueList>"
    b"<QueueList><QueueId>p4a17eeea29334bf499b7e20e2fbfd99d</QueueId><Name>queue-1</Name>"
    b"<State>Paused</State><NotifyConfig><Url>http://callback.demo.com</Url></NotifyConfig>"
    b"<MaxSize>10000</MaxSize><MaxConcurrent>10</MaxConcurrent>"
    b"<UpdateTime>2022-08-09T16:23:11+0800</UpdateTime>"
    b"<CreateTime>2022-08-09T16:23:11+0800</CreateTime><Category>Transcoding</Category>"
    b"</QueueList></Response>"
)


def add_describe(mock: responses.RequestsMock, ids: str, answer: bytes) -> None:
    query = {"queueIds": ids, "state": "All", "pageNumber": "1", "pageSize": "10"}
    headers = ci_headers("GET", QUEUE_URL, "/queue", params=query)
    mock.add(
        responses.GET, QUEUE_URL, body=answer, match=match_request(query=query, headers=headers)
    )


def test_describe_media_queue_gives_the_media_queue_in_any_state_with_its_figures() -> None:
    with strict_mock() as mock:
        add_describe(mock, "", DOC_SAMPLE)
        found = client(QueueCache()).describe_media_queue(BUCKET, REGION)
    assert found == MediaQueue(
        "p4a17eeea29334bf499b7e20e2fbfd99d", "Paused", "Transcoding", 10000, 10
    )


def test_describe_media_queue_asks_for_the_configured_queue_only() -> None:
    answer = queue_list((QUEUE, "Active", "Transcoding")).replace(
        b"</QueueList>", b"<MaxSize>200</MaxSize><MaxConcurrent>x</MaxConcurrent></QueueList>"
    )
    with strict_mock() as mock:
        add_describe(mock, QUEUE, answer)
        add_describe(
            mock,
            QUEUE,
            b"<Response><NonExistPIDs>" + QUEUE.encode() + b"</NonExistPIDs></Response>",
        )
        ci = client(QueueCache(), queue_id=QUEUE)
        assert ci.describe_media_queue(BUCKET, REGION) == MediaQueue(
            QUEUE,
            "Active",
            "Transcoding",
            200,
            None,  # a count that is not a number: unknown
        )
        assert ci.describe_media_queue(BUCKET, REGION) is None
