"""Backfill's wait (shared/ops/wait.py): written, missing after the grace time, out of time."""

from __future__ import annotations

from typing import Any

from shared.errors import CosError
from shared.models import Job, ObjectRef, TagSet
from shared.ops.wait import ResultWait, SubmittedJob, result_written, wait_summary


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


class Store:
    """Tags per key, appearing at a given clock time; one read may fail transiently."""

    def __init__(self, clock: Clock, tags_at: dict[str, tuple[float, TagSet]]) -> None:
        self.clock, self.tags_at, self.reads = clock, tags_at, 0
        self.fail_once: set[str] = set()

    def get_object_tagging(self, obj: ObjectRef, *, deadline: float | None = None) -> TagSet:
        self.reads += 1
        if obj.key in self.fail_once:
            self.fail_once.discard(obj.key)
            raise CosError(503, "ServiceUnavailable", "try again", None)
        when, tags = self.tags_at.get(obj.key, (float("inf"), ()))
        return tags if self.clock.now >= when else ()


class Jobs:
    def __init__(self, clock: Clock, finished_at: dict[str, float]) -> None:
        self.clock, self.finished_at, self.calls = clock, finished_at, 0

    def describe_job(self, bucket: str, region: str, job_id: str, **_: Any) -> Job | None:
        self.calls += 1
        done = self.clock.now >= self.finished_at.get(job_id, float("inf"))
        return Job(job_id, "Success" if done else "Running")


OK = (("media:status", "ok"), ("media:etag", "e1"))
A, B, C = (
    SubmittedJob("a.mp4", "e1", "ja"),
    SubmittedJob("b.mp4", "e1", "jb"),
    SubmittedJob("c.mp4", "e1", "jc"),
)


def make(tags_at: dict[str, tuple[float, TagSet]], finished_at: dict[str, float]) -> Any:
    clock = Clock()
    store, jobs = Store(clock, tags_at), Jobs(clock, finished_at)
    wait = ResultWait(
        store, jobs, "b-1250000000", "ap-x", "media:", timeout_s=100, grace_s=10,
        clock=clock.clock, sleep=clock.sleep,
    )  # fmt: skip
    return wait, store, jobs, clock


def test_written_missing_and_unfinished_are_told_apart() -> None:
    wait, store, _, clock = make({"a.mp4": (3.0, OK)}, {"ja": 2.0, "jb": 1.0})
    store.fail_once.add("a.mp4")
    report = wait.wait([A, B, C])
    assert report.written == 1
    assert report.missing == ((B, "Success"),)  # finished at 1 s, nothing by 1 + 10 s
    assert report.unfinished == (C,)  # never finished within 100 s
    assert not report.complete and clock.now == 100.0


def test_all_written_ends_the_wait_at_once() -> None:
    wait, store, jobs, clock = make({"a.mp4": (0.0, OK), "b.mp4": (0.0, OK)}, {})
    report = wait.wait([A, B])
    assert report.complete and report.written == 2
    assert (store.reads, jobs.calls, clock.now) == (2, 0, 0.0)


def test_result_written_checks_the_etag_unless_user_tags_pushed_it_out() -> None:
    assert result_written(OK, "media:", "e1")
    assert not result_written(OK, "media:", "e2")  # an older result: still waiting
    assert result_written((("media:status", "ok"),), "media:", "e2")
    assert not result_written((("owner", "me"),), "media:", "e1")


def test_the_summary_says_what_to_do() -> None:
    wait, *_ = make({}, {"ja": 0.0})
    lines = wait_summary(wait.wait([A]))
    assert lines[0].endswith("0 written, 1 missing, 0 jobs not finished")
    assert "python -m shared reconcile" in lines[-1]
