"""shared.results.writer.JobResultWriter directly: the incarnation check and the fresh tag read.

The callback service builds its writer with the real monotonic clock; here the writer gets a
manual clock and an executor that runs each read at once, so the order of the reads (and of
their clock readings) is fixed: GET ?tagging, then GET /jobs/<id> on the calling thread.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any, TypeVar

import pytest

from shared.media.tag_format import DEFAULT_TAG_FIELDS
from shared.models import ObjectRef
from shared.results.reply import CallbackReply
from shared.results.writer import JobResultWriter
from tests.callback_helpers import BUCKET, EXPECTED_OK_TAGS, JOB_ID, KEY, REGION, job_from_detail
from tests.fakes import FakeMediaJobs, FakeObjectStore

_T = TypeVar("_T")
OBJECT = ObjectRef(BUCKET, REGION, KEY)
# The job (callback_helpers) was created and started at 2022-06-30 10:45:14 UTC.
STARTED_HTTP = "Thu, 30 Jun 2022 10:45:14 GMT"


class InlineExecutor(Executor):
    """Runs every submitted call at once, on the calling thread."""

    def submit(self, fn: Callable[..., _T], /, *args: Any, **kwargs: Any) -> Future[_T]:
        future: Future[_T] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as exc:
            future.set_exception(exc)
        return future


class ManualClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def apply(store: FakeObjectStore, jobs: FakeMediaJobs, clock: ManualClock) -> CallbackReply:
    writer = JobResultWriter(
        store,
        jobs,
        tag_prefix="media:",
        tag_fields=DEFAULT_TAG_FIELDS,
        executor=InlineExecutor(),
        clock=clock,
    )
    return writer.apply(OBJECT, JOB_ID)


@pytest.mark.parametrize(
    ("last_modified", "outcome"),
    [
        ("Thu, 30 Jun 2022 10:45:15 GMT", "tagged"),  # written 1 s after the read began: skew
        ("Thu, 30 Jun 2022 10:45:16 GMT", "skipped"),  # 2 s after: an earlier incarnation
        (STARTED_HTTP, "tagged"),
    ],
)
def test_a_job_that_began_before_the_current_content_was_written_is_stale(
    last_modified: str, outcome: str
) -> None:
    store, jobs = FakeObjectStore(), FakeMediaJobs({JOB_ID: job_from_detail()})
    store.add(last_modified=last_modified)
    reply = apply(store, jobs, ManualClock())
    assert reply.outcome == outcome
    if outcome == "skipped":
        assert reply.reason == "stale" and store.puts == []
        assert "began reading before" in reply.detail


def test_a_tag_read_older_than_a_round_trip_is_read_again_before_the_put() -> None:
    store, jobs, clock = (
        FakeObjectStore(),
        FakeMediaJobs({JOB_ID: job_from_detail()}),
        ManualClock(),
    )
    store.add()

    def slow_get_jobs() -> None:  # GET /jobs answers 2 s after the tag read; a user tags meanwhile
        clock.now += 2.0
        store.set_tags(KEY, (("owner", "bob"),))

    jobs.before_read = slow_get_jobs
    reply = apply(store, jobs, clock)
    assert reply.outcome == "tagged"
    assert store.keys_called("get_tagging") == [KEY, KEY]
    assert store.puts[0][1] == (("owner", "bob"), *EXPECTED_OK_TAGS)  # the user's tag survives


def test_a_fresh_tag_read_is_used_as_it_is() -> None:
    store, jobs, clock = (
        FakeObjectStore(),
        FakeMediaJobs({JOB_ID: job_from_detail()}),
        ManualClock(),
    )
    store.add(tags=(("owner", "alice"),))
    reply = apply(store, jobs, clock)
    assert reply.outcome == "tagged" and store.keys_called("get_tagging") == [KEY]
    assert store.puts[0][1] == (("owner", "alice"), *EXPECTED_OK_TAGS)
