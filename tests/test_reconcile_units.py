"""``shared.reconcile.service`` against typed fakes: which job is applied, what is read, what is
written.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest

from shared.decision_log import DecisionLog
from shared.errors import CiError, CosError
from shared.models import Job
from shared.ports import MediaJobs, ObjectStore
from shared.reconcile.service import Reconciler, ReconcileSummary, ReconcileWindow
from shared.records import replace
from shared.time_window import ci_time
from tests.callback_helpers import (
    BUCKET,
    ETAG,
    EXPECTED_OK_TAGS,
    KEY,
    REGION,
    SIZE,
    LineCollector,
    collected_lines,
    job_from_detail,
)
from tests.fakes import FakeMediaJobs, FakeObjectStore

WINDOW = ReconcileWindow(1_732_500_000.0, 1_732_503_600.0)
FAILED_TAGS = (("media:status", "failed:InternalError"), ("media:etag", ETAG))


def job(job_id: str, created: str, **detail: Any) -> Job:
    return replace(job_from_detail(job_id=job_id, **detail), creation_time=created)


def listing_jobs(pages: Sequence[Sequence[Job]]) -> FakeMediaJobs:
    """CI whose GET /jobs?tag=MediaInfo answers ``pages`` in turn, chained by tokens."""
    return FakeMediaJobs(pages=pages, forbid=("submit",))  # reconcile never submits


def object_store() -> FakeObjectStore:
    return FakeObjectStore(forbid=("list",))  # reconcile never lists objects


@pytest.fixture
def lines() -> Iterator[LineCollector]:
    with collected_lines("tests.reconcile") as collector:
        yield collector


def reconcile(
    store: FakeObjectStore,
    jobs: FakeMediaJobs,
    *,
    dry_run: bool = False,
    clock: Callable[[], float] = lambda: 0.0,
    deadline: float | None = None,
) -> ReconcileSummary:
    object_store: ObjectStore = store
    media_jobs: MediaJobs = jobs
    reconciler = Reconciler(
        object_store,
        media_jobs,
        DecisionLog("reconcile", "run-1", logger=logging.getLogger("tests.reconcile")),
        tag_prefix="media:",
        tag_fields=("status", "etag", "duration", "resolution", "vcodec", "acodec", "fps",
                    "bitrate", "container", "rotation"),
        dry_run=dry_run,
        clock=clock,
        deadline=deadline,
    )  # fmt: skip
    return reconciler.run(BUCKET, REGION, WINDOW)


def test_a_lost_result_is_written(lines: LineCollector) -> None:
    store = object_store()
    store.add()
    jobs = listing_jobs([[job("j1", "2024-11-25T10:00:00+0800")]])
    summary = reconcile(store, jobs)
    assert store.puts and sorted(store.puts[-1][1]) == sorted(EXPECTED_OK_TAGS)
    assert summary.outcomes == {"tagged": 1} and (summary.jobs, summary.objects) == (1, 1)
    assert jobs.described == [(BUCKET, REGION, "j1")]  # re-fetched like the callback does
    (line,) = lines.decisions()
    assert (line["outcome"], line["key"], line["job_id"]) == ("tagged", KEY, "j1")


def test_the_listing_asks_for_finished_jobs_of_the_window_on_every_page() -> None:
    store = object_store()
    store.add()
    pages = [
        [job("j3", "2024-11-25T10:00:03+0800")],
        [job("j2", "2024-11-25T10:00:02+0800")],
        [job("j1", "2024-11-25T10:00:01+0800")],
    ]
    jobs = listing_jobs(pages)
    summary = reconcile(store, jobs)
    assert [q["token"] for q in jobs.queries] == [None, "1", "2"]
    assert {q["states"] for q in jobs.queries} == {("Success", "Failed")}
    assert {(q["start"], q["end"]) for q in jobs.queries} == {
        ("2024-11-25T10:00:00+0800", "2024-11-25T11:00:00+0800")
    }
    assert ci_time(WINDOW.start) == "2024-11-25T10:00:00+0800"
    assert summary.jobs == 3 and summary.objects == 1


def test_an_object_that_carries_its_result_costs_one_read() -> None:
    store = object_store()
    store.add(tags=(("owner", "alice"), *EXPECTED_OK_TAGS))
    jobs = listing_jobs([[job("j1", "2024-11-25T10:00:00+0800")]])
    summary = reconcile(store, jobs)
    assert summary.outcomes == {"unchanged": 1}
    assert [call[0] for call in store.calls] == ["get_tagging"] and jobs.described == []


def test_the_newest_job_for_the_current_etag_wins() -> None:
    store = object_store()
    store.add()
    older_ok = job("j1", "2024-11-25T10:00:00+0800")
    newer_failed = job("j2", "2024-11-25T10:05:00+0800", state="Failed")
    summary = reconcile(store, listing_jobs([[older_ok, newer_failed]]))
    assert store.puts[-1][1] == FAILED_TAGS and summary.outcomes == {"tagged": 1}
    store = object_store()
    store.add()
    older_failed = job("j3", "2024-11-25T10:00:00+0800", state="Failed")
    newer_ok = job("j4", "2024-11-25T10:05:00+0800")
    reconcile(store, listing_jobs([[older_failed, newer_ok]]))
    assert sorted(store.puts[-1][1]) == sorted(EXPECTED_OK_TAGS)


def test_same_second_jobs_keep_the_listing_order_newest_first() -> None:
    store = object_store()
    store.add()
    same = "2024-11-25T10:00:00+0800"
    listed = [job("j2", same, state="Failed"), job("j1", same)]  # CI lists newest first
    reconcile(store, listing_jobs([listed]))
    assert store.puts[-1][1] == FAILED_TAGS


def test_a_newer_job_for_older_content_is_passed_over() -> None:
    store = object_store()
    store.add()  # current content: ETAG
    stale = job(
        "j2",
        "2024-11-25T10:05:00+0800",
        state="Failed",
        user_data="mt1;e=" + "9" * 32 + f";s={SIZE}",
    )
    current = job("j1", "2024-11-25T10:00:00+0800")
    summary = reconcile(store, listing_jobs([[stale, current]]))
    assert sorted(store.puts[-1][1]) == sorted(EXPECTED_OK_TAGS) and summary.outcomes == {
        "tagged": 1
    }


def test_no_job_for_the_current_content_is_stale_and_writes_nothing() -> None:
    store = object_store()
    store.add(etag="f" * 32)
    summary = reconcile(store, listing_jobs([[job("j1", "2024-11-25T10:00:00+0800")]]))
    assert summary.outcomes == {"skipped:stale": 1} and store.puts == []


def test_a_deleted_object_is_skipped() -> None:
    summary = reconcile(object_store(), listing_jobs([[job("j1", "2024-11-25T10:00:00+0800")]]))
    assert summary.outcomes == {"skipped:object-gone": 1}


def test_jobs_that_are_not_ours_are_logged_and_left_alone(lines: LineCollector) -> None:
    store = object_store()
    store.add()
    foreign = job("j9", "2024-11-25T10:00:00+0800", user_data="someone else's")
    other_bucket = job("j8", "2024-11-25T10:00:00+0800", bucket="other-1250000000")
    summary = reconcile(store, listing_jobs([[foreign, other_bucket]]))
    assert summary.objects == 0 and store.calls == []
    assert [(d["job_id"], d["reason"]) for d in lines.decisions()] == [
        ("j9", "unknown-provenance"),
        ("j8", "other-object"),
    ]


def test_dry_run_writes_nothing() -> None:
    store = object_store()
    store.add()
    summary = reconcile(
        store, listing_jobs([[job("j1", "2024-11-25T10:00:00+0800")]]), dry_run=True
    )
    assert summary.outcomes == {"would-tag": 1} and store.puts == []


def test_one_objects_failure_does_not_stop_the_others() -> None:
    store = object_store()
    store.add()
    store.add(key="b.mp4")
    jobs = listing_jobs(
        [
            [
                job("j1", "2024-11-25T10:00:00+0800"),
                job("j2", "2024-11-25T10:00:00+0800", key="b.mp4"),
            ]
        ]
    )
    jobs.jobs["j1"] = CiError(503, "ServiceUnavailable")
    summary = reconcile(store, jobs)
    assert summary.errors == 1 and summary.outcomes == {"error": 1, "tagged": 1}
    assert [obj.key for obj, _ in store.puts] == ["b.mp4"]


def test_a_job_that_names_another_object_is_rejected() -> None:
    store = object_store()
    store.add()
    listed = job("j1", "2024-11-25T10:00:00+0800")
    jobs = listing_jobs([[listed]])
    jobs.jobs["j1"] = job("j1", "2024-11-25T10:00:00+0800", key="elsewhere.mp4")
    summary = reconcile(store, jobs)
    assert summary.outcomes == {"rejected": 1} and summary.errors == 0 and store.puts == []


class Ticks:
    """A clock that advances one second on every reading."""

    def __init__(self) -> None:
        self.now = -1.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


def test_the_deadline_stops_before_the_next_object(lines: LineCollector) -> None:
    store = object_store()
    store.add()
    store.add(key="b.mp4")
    jobs = listing_jobs(
        [
            [
                job("j1", "2024-11-25T10:00:00+0800"),
                job("j2", "2024-11-25T10:00:00+0800", key="b.mp4"),
            ]
        ]
    )
    # readings: listing 0, object one 1 (+ 2, 3 around it), object two 4 >= 3.5: stop
    summary = reconcile(store, jobs, clock=Ticks(), deadline=3.5)
    assert summary.incomplete and summary.objects == 1
    assert [obj.key for obj, _ in store.puts] == [KEY]
    assert lines.decisions()[-1]["reason"] == "deadline"


def test_the_deadline_also_stops_the_listing() -> None:
    store = object_store()
    store.add()
    pages = [[job(f"j{n}", "2024-11-25T10:00:00+0800")] for n in range(3)]
    jobs = listing_jobs(pages)
    summary = reconcile(store, jobs, clock=Ticks(), deadline=1.5)
    assert len(jobs.queries) == 2 and summary.jobs == 2 and summary.incomplete


def test_a_cos_error_on_the_first_read_is_an_error_reply() -> None:
    store = object_store()
    store.add()
    store.errors["get_tagging"] = CosError(500, "InternalError")
    summary = reconcile(store, listing_jobs([[job("j1", "2024-11-25T10:00:00+0800")]]))
    assert summary.outcomes == {"error": 1} and summary.errors == 1


def test_the_timer_window_leaves_out_the_settling_minutes() -> None:
    window = ReconcileWindow.ending_at(10_000.0, 70 * 60, 5 * 60)
    assert (window.start, window.end) == (10_000.0 - 4200, 10_000.0 - 300)
