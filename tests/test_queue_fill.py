"""Backfill's view of CI's queue for the progress line: GET /queue for the figures, GET /jobs
for the counts (strict HTTP mocks through the real CiClient), the refresh cadence, failures
that never stop a backfill, and the progress line that shows it all."""

from __future__ import annotations

import io

import pytest
import responses

from emulator.ci.queue import MediaQueue as EmulatedQueue
from emulator.ci.queue_api import queue_nodes
from emulator.xmlreply import to_xml
from shared.errors import CiError
from shared.models import Job, JobsPage
from shared.ops.progress import Progress, ProgressPoint, describe
from shared.ops.queue_fill import QueueFill, QueueWatch
from shared.tencent.ci_client import CiClient
from shared.tencent.media_queue import MediaQueue, QueueCache, parse_queue_list
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

QUEUE_URL = f"https://{CI_HOST}/queue"
JOBS_URL = f"https://{CI_HOST}/jobs"
QUEUE_ID = "p4a17eeea29334bf499b7e20e2fbfd99d"
QUEUE_XML = (
    f"<Response><RequestId>r</RequestId><QueueList><QueueId>{QUEUE_ID}</QueueId>"
    "<Name>queue-1</Name><State>Active</State><MaxSize>200</MaxSize>"
    "<MaxConcurrent>10</MaxConcurrent><Category>Transcoding</Category></QueueList></Response>"
).encode()


def ci_get(
    mock: responses.RequestsMock, url: str, path: str, query: dict[str, str], body: bytes
) -> None:
    headers = expected_headers(
        "GET", url, CI_HOST, key=path, params=query, extra={"x-ci-security-token": TOKEN}
    )
    mock.add(responses.GET, url, body=body, match=match_request(query=query, headers=headers))


def listing(
    states: str, count: int, token: str = "", after: str = ""
) -> tuple[dict[str, str], bytes]:
    query = {"tag": "MediaInfo", "orderByTime": "Desc", "states": states, "size": "100"}
    if after:
        query["nextToken"] = after
    jobs = "".join(
        jobs_detail_xml(f"j{index:031d}", states.partition(",")[0]) for index in range(count)
    )
    more = f"<NextToken>{token}</NextToken>" if token else ""
    return query, jobs_response(jobs, more)


def test_the_fill_comes_from_get_queue_and_the_job_counts() -> None:
    watch = QueueWatch(CiClient(make_transport(token=TOKEN), queue_cache=QueueCache()))
    with strict_mock(ordered=True) as mock:
        describe_query = {"queueIds": "", "state": "All", "pageNumber": "1", "pageSize": "10"}
        ci_get(mock, QUEUE_URL, "/queue", describe_query, QUEUE_XML)
        ci_get(mock, JOBS_URL, "/jobs", *listing("Submitted,Pause", 100, token="t2"))
        ci_get(mock, JOBS_URL, "/jobs", *listing("Submitted,Pause", 37, after="t2"))
        ci_get(mock, JOBS_URL, "/jobs", *listing("Running", 10))
        watch.refresh_if_due(BUCKET, REGION)
    assert watch.text() == "queue Active 137/200 waiting, 10/10 running"


class FakeLookup:
    """GET /queue and GET /jobs as typed fakes: ``pages`` of waiting jobs, a fixed running count."""

    def __init__(self, pages: int = 1, per_page: int = 100) -> None:
        self.queue = MediaQueue(QUEUE_ID, "Paused", "Transcoding", 10_000, 10)
        self.pages, self.per_page = pages, per_page
        self.calls: list[str] = []
        self.error: Exception | None = None

    def describe_media_queue(
        self, bucket: str, region: str, *, deadline: float | None = None
    ) -> MediaQueue | None:
        self.calls.append("queue")
        if self.error is not None:
            raise self.error
        return self.queue

    def list_jobs(self, bucket: str, region: str, *, states: object = (), size: int = 100,
                  next_token: str | None = None) -> JobsPage:  # fmt: skip
        self.calls.append(f"jobs {states} {next_token}")
        if states == ("Running",):
            return JobsPage(tuple(Job(f"r{n}", "Running") for n in range(3)))
        page = int(next_token or "1")
        jobs = tuple(Job(f"w{n}", "Pause") for n in range(self.per_page))
        return JobsPage(jobs, next_token=str(page + 1) if page < self.pages else None)


def test_a_long_queue_is_counted_up_to_three_pages_and_shown_as_at_least() -> None:
    lookup = FakeLookup(pages=50)
    watch = QueueWatch(lookup, clock=lambda: 0.0)
    watch.refresh_if_due(BUCKET, REGION)
    assert watch.text() == "queue Paused >=300/10000 waiting, 3/10 running"
    assert lookup.calls == [
        "queue",
        "jobs ('Submitted', 'Pause') None",
        "jobs ('Submitted', 'Pause') 2",
        "jobs ('Submitted', 'Pause') 3",
        "jobs ('Running',) None",
    ]


def test_the_queue_is_looked_at_every_ten_seconds_at_most() -> None:
    now = [0.0]
    lookup = FakeLookup()
    watch = QueueWatch(lookup, clock=lambda: now[0])
    for moment in (0.0, 5.0, 9.9, 10.0, 12.0, 20.5):
        now[0] = moment
        watch.refresh_if_due(BUCKET, REGION)
    assert lookup.calls.count("queue") == 3  # at 0, 10 and 20.5


def test_failures_show_stale_or_unknown_and_a_403_stops_asking() -> None:
    now = [0.0]
    lookup = FakeLookup()
    watch = QueueWatch(lookup, clock=lambda: now[0])
    lookup.error = CiError(503, "ServiceUnavailable", "busy")
    watch.refresh_if_due(BUCKET, REGION)
    assert watch.text() == "queue ?"
    lookup.error, now[0] = None, 10.0
    watch.refresh_if_due(BUCKET, REGION)
    assert watch.text() == "queue Paused 100/10000 waiting, 3/10 running"
    lookup.error, now[0] = CiError(403, "AccessDenied", "no ci:DescribeMediaQueues"), 20.0
    watch.refresh_if_due(BUCKET, REGION)
    assert watch.text() == "queue Paused 100/10000 waiting, 3/10 running (stale)"
    now[0] = 1000.0
    watch.refresh_if_due(BUCKET, REGION)
    assert lookup.calls.count("queue") == 3  # not asked again after the 403


def test_unknown_figures_are_left_out() -> None:
    fill = QueueFill(MediaQueue(QUEUE_ID, None, None), waiting=4, running=1)
    assert fill.text() == "queue ? 4 waiting, 1 running"


def test_the_progress_line_carries_the_extra_parts_before_the_eta() -> None:
    point = ProgressPoint(10, 40, 8, [("submitted", 8)])
    assert describe(point, 4.0, ["pace 2.5/5 jobs/s", "queue Active 180/200 waiting"]) == (
        "10/40 objects (25%) | submitted 8 | 2.0 jobs/s | pace 2.5/5 jobs/s | "
        "queue Active 180/200 waiting | ETA 12s"
    )
    stream = io.StringIO()
    progress = Progress(stream, tty=False, clock=lambda: 4.0)
    progress.show_also(lambda: ["pace 1.0/5 jobs/s"])
    progress.update(point)
    assert stream.getvalue() == (
        "10/40 objects (25%) | submitted 8 | 0.0 jobs/s | pace 1.0/5 jobs/s | ETA ?\n"
    )


@pytest.mark.parametrize("state", ["Active", "Paused"])
def test_the_describe_call_is_what_the_emulator_serves(state: str) -> None:
    """Shape check against the emulator's own GET /queue answer (not a fake)."""
    emulated = EmulatedQueue(max_size=200, max_concurrent=10, clock=lambda: 1_700_000_000.0)
    view = emulated.configure(state=state)
    queues, _ = parse_queue_list(to_xml("Response", [("QueueList", queue_nodes(view))]))
    assert [(q.state, q.max_size, q.max_concurrent) for q in queues] == [(state, 200, 10)]


def test_a_refused_submit_shows_the_queue_full_or_paused_until_the_next_look() -> None:
    lookup = FakeLookup(pages=1, per_page=7)
    lookup.queue = MediaQueue(QUEUE_ID, "Active", "Transcoding", 200, 10)
    watch = QueueWatch(lookup, clock=lambda: 0.0)
    watch.saw("QueueSaturated")  # nothing looked at yet: nothing to correct
    assert watch.text() == "queue ?"
    watch.refresh_if_due(BUCKET, REGION)
    assert watch.text() == "queue Active 7/200 waiting, 3/10 running"
    watch.saw("QueueSaturated")
    assert watch.text() == "queue Active 200/200 waiting, 3/10 running"
    watch.saw("QueuePaused")
    assert watch.text() == "queue Paused 200/200 waiting, 3/10 running"
    watch.saw("SlowDown")  # says nothing about the queue
    assert watch.text() == "queue Paused 200/200 waiting, 3/10 running"
