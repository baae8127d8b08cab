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
from shared.media.tag_format import DEFAULT_TAG_FIELDS
from shared.models import Job, ObjectHead, ObjectRef
from shared.ports import MediaJobs, ObjectStore
from shared.reconcile.resubmit import Resubmit
from shared.reconcile.service import Reconciler, ReconcileSummary, ReconcileWindow
from shared.records import replace
from shared.results.reply import CallbackReply
from shared.time_window import ci_time
from tests.callback_helpers import (
    BUCKET,
    ETAG,
    EXPECTED_MEDIA_TAGS,
    KEY,
    REGION,
    SIZE,
    LineCollector,
    collected_lines,
    job_from_detail,
)
from tests.fakes import FakeMediaJobs, FakeObjectStore

WINDOW = ReconcileWindow(1_732_500_000.0, 1_732_503_600.0)
T10 = "2024-11-25T10:00:00+0800"  # = 20241125T020000Z


def stamp(created: str) -> str:
    """CI's +0800 time as the etag tag writes it (UTC), by hand: 'YYYY-MM-DDTHH:MM:SS+0800'."""
    day, clock = created[:10].replace("-", ""), created[11:19].replace(":", "")
    hours = int(clock[:2]) - 8
    assert hours >= 0, "the examples stay on one UTC day"
    return f"{day}T{hours:02d}{clock[2:]}Z"


def ok_tags(job_id: str, created: str = T10) -> tuple[tuple[str, str], ...]:
    applied = ("media:etag", f"{ETAG}/{stamp(created)}/{job_id}")
    return (("media:status", "ok"), applied, *EXPECTED_MEDIA_TAGS)


def failed_tags(code: str, job_id: str, created: str = T10) -> tuple[tuple[str, str], ...]:
    return (("media:status", f"failed:{code}"), ("media:etag", f"{ETAG}/{stamp(created)}/{job_id}"))


def job(job_id: str, created: str, **detail: Any) -> Job:
    return replace(
        job_from_detail(job_id=job_id, **detail), creation_time=created, start_time=created
    )


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
    resubmit: Resubmit | None = None,
) -> ReconcileSummary:
    object_store: ObjectStore = store
    media_jobs: MediaJobs = jobs
    reconciler = Reconciler(
        object_store,
        media_jobs,
        DecisionLog("reconcile", "run-1", logger=logging.getLogger("tests.reconcile")),
        tag_prefix="media:",
        tag_fields=DEFAULT_TAG_FIELDS,
        dry_run=dry_run,
        clock=clock,
        deadline=deadline,
        resubmit=resubmit,
    )
    return reconciler.run(BUCKET, REGION, WINDOW)


def test_a_lost_result_is_written(lines: LineCollector) -> None:
    store = object_store()
    store.add()
    jobs = listing_jobs([[job("j1", T10)]])
    summary = reconcile(store, jobs)
    assert store.puts and store.puts[-1][1] == ok_tags("j1")
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
    assert {q["states"] for q in jobs.queries} == {("Submitted", "Running", "Success", "Failed")}
    assert {(q["start"], q["end"]) for q in jobs.queries} == {
        ("2024-11-25T10:00:00+0800", "2024-11-25T11:00:00+0800")
    }
    assert ci_time(WINDOW.start) == "2024-11-25T10:00:00+0800"
    assert summary.jobs == 3 and summary.objects == 1


def test_an_object_that_carries_its_result_costs_one_read() -> None:
    store = object_store()
    store.add(tags=(("owner", "alice"), *ok_tags("j1")))
    jobs = listing_jobs([[job("j1", T10)]])
    summary = reconcile(store, jobs)
    assert summary.outcomes == {"unchanged": 1}
    assert [call[0] for call in store.calls] == ["get_tagging"] and jobs.described == []


def test_the_newest_final_result_for_the_current_content_is_applied() -> None:
    five = "2024-11-25T10:05:00+0800"
    cases = [
        # (listed jobs, what is written): a success for the content wins over any failure
        ([job("j1", T10), job("j2", five, state="Failed", code="ResourceNotSupported")],
         ok_tags("j1")),
        ([job("j3", T10, state="Failed", code="ResourceNotSupported"), job("j4", five)],
         ok_tags("j4", five)),
        ([job("j5", T10), job("j6", five)], ok_tags("j6", five)),
        ([job("j7", T10, state="Failed", code="ResourceNotSupported"),
          job("j8", five, state="Failed", code="ResourceNotSupported")],
         failed_tags("ResourceNotSupported", "j8", five)),
        # a failure not about the content is not final: the success stands
        ([job("j9", T10), job("ja", five, state="Failed", code="InternalError")], ok_tags("j9")),
    ]  # fmt: skip
    for listed, expected in cases:
        store = object_store()
        store.add()
        summary = reconcile(store, listing_jobs([listed]))
        assert store.puts[-1][1] == expected and summary.outcomes == {"tagged": 1}


def test_same_second_jobs_without_an_id_time_are_ordered_by_id() -> None:
    """Job ids that are not UUIDv1 cannot be placed inside a second: the larger id wins, so
    every listing order and every arrival order ends with the same tags."""
    for listed in ([job("j2", T10), job("j1", T10)], [job("j1", T10), job("j2", T10)]):
        store = object_store()
        store.add()
        reconcile(store, listing_jobs([listed]))
        assert store.puts[-1][1] == ok_tags("j2")


def test_an_object_whose_only_job_failed_transiently_is_resubmitted() -> None:
    store = object_store()
    store.add()
    asked: list[tuple[str, int]] = []

    def resubmit(obj: ObjectRef, head: ObjectHead, attempt: int) -> CallbackReply:
        asked.append((obj.key, attempt))
        return CallbackReply(200, "resubmitted", f"attempt {attempt}", "jnew", obj.key)

    failed = job("j1", T10, state="Failed", code="InternalError")
    summary = reconcile(store, listing_jobs([[failed]]), resubmit=resubmit)
    assert asked == [(KEY, 2)] and store.puts == []
    assert summary.outcomes == {"resubmitted": 1}
    summary = reconcile(store, listing_jobs([[failed]]))  # without upload settings
    assert summary.outcomes == {"skipped:transient-failure": 1} and store.puts == []


def test_the_last_allowed_attempt_writes_the_failure() -> None:
    store = object_store()
    store.add()
    last = job("j1", T10, state="Failed", code="InternalError",
               user_data=f"mt1;e={ETAG};s={SIZE};a=3")  # fmt: skip
    summary = reconcile(store, listing_jobs([[last]]))
    assert store.puts[-1][1] == failed_tags("InternalError", "j1")
    assert summary.outcomes == {"tagged": 1}


def test_a_running_job_for_the_object_waits_for_its_callback() -> None:
    store = object_store()
    store.add()
    running = job("j2", "2024-11-25T10:05:00+0800", state="Running")
    summary = reconcile(store, listing_jobs([[running, job("j1", T10)]]))
    assert summary.outcomes == {"skipped:in-flight": 1} and store.calls == []


def test_a_newer_job_for_older_content_is_passed_over() -> None:
    store = object_store()
    store.add()  # current content: ETAG
    stale = job(
        "j2",
        "2024-11-25T10:05:00+0800",
        state="Failed",
        user_data="mt1;e=" + "9" * 32 + f";s={SIZE}",
    )
    current = job("j1", T10)
    summary = reconcile(store, listing_jobs([[stale, current]]))
    assert store.puts[-1][1] == ok_tags("j1") and summary.outcomes == {"tagged": 1}


def test_same_etag_but_another_size_is_not_the_current_content() -> None:
    store = object_store()
    store.add(size=SIZE + 1)
    jobs = listing_jobs([[job("j1", T10)]])
    summary = reconcile(store, jobs)
    assert summary.outcomes == {"skipped:stale": 1} and store.puts == []
    assert jobs.described == []  # not a candidate: its result is never fetched
    asked: list[tuple[str, int, int]] = []

    def resubmit(obj: ObjectRef, head: ObjectHead, attempt: int) -> CallbackReply:
        asked.append((obj.key, head.size, attempt))
        return CallbackReply(200, "resubmitted", f"attempt {attempt}", "jnew", obj.key)

    summary = reconcile(store, listing_jobs([[job("j1", T10)]]), resubmit=resubmit)
    assert asked == [(KEY, SIZE + 1, 1)]  # the new content gets its own first job
    assert summary.outcomes == {"resubmitted": 1} and store.puts == []


def test_a_running_job_of_the_same_etag_but_another_size_is_not_waited_for() -> None:
    """For finished jobs the writer's content check compares the size again; for a job still
    running only the candidate choice does: it must not count as the current content's job."""
    store = object_store()
    store.add(size=SIZE + 1)
    other = job("j2", "2024-11-25T10:05:00+0800", user_data="mt1;e=" + "9" * 32 + f";s={SIZE}")
    old_size = job("j1", T10, state="Running")  # UserData: ETAG and SIZE
    summary = reconcile(store, listing_jobs([[other, old_size]]))
    assert summary.outcomes == {"skipped:stale": 1} and store.puts == []


def test_ten_foreign_tags_report_the_tag_limit_not_unchanged() -> None:
    store = object_store()
    store.add(tags=tuple((f"user{i}", "v") for i in range(10)))
    summary = reconcile(store, listing_jobs([[job("j1", T10)]]))
    assert summary.outcomes == {"skipped:tag-limit": 1} and store.puts == []


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
