"""BatchDrain over typed fakes: the cursor never leaves a job behind, a pass resumes from the
saved record (kill -9 mid-drain loses nothing), and a batch is drained only once it is final
and every job is applied.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from typing import Any, cast

import pytest

from shared.batch_jobs import BatchInput, BatchJob
from shared.models import Job
from shared.reconcile import batch_drain as drain_module
from shared.reconcile.batch_apply import BatchJobApplier
from shared.reconcile.batch_drain import BatchDrain
from shared.reconcile.batch_record import (
    BatchFilters,
    BatchRecord,
    DrainCursor,
    load_record,
    record_from_json,
    save_record,
)
from shared.results.batch_writer import BatchFacts
from shared.results.reply import CallbackReply, skipped
from tests.batch_fakes import (
    T0,
    FakeBatchEngine,
    FakeBodies,
    KilledError,
    batch_job,
    jobs_in_seconds,
)

BUCKET, REGION, BATCH_ID = "media-1250000000", "ap-guangzhou", "b" + "0" * 31 + "1"


class RecordingApplier:
    """Stands in for BatchJobApplier: counts applications, answers 503 for ``failing`` ids."""

    def __init__(self) -> None:
        self.applied: Counter[str] = Counter()
        self.failing: set[str] = set()
        self.facts: list[BatchFacts] = []
        self.lock = threading.Lock()

    def apply(self, bucket: str, region: str, job: Job, batch: BatchFacts) -> CallbackReply:
        with self.lock:
            self.facts.append(batch)
            if job.job_id in self.failing:
                return CallbackReply(503, "error", "upstream-unavailable", job.job_id)
            self.applied[job.job_id] += 1
        return CallbackReply(200, "tagged", "ok", job.job_id, job.input.object, 7)


def fresh_record() -> BatchRecord:
    return BatchRecord(
        BUCKET, REGION, BATCH_ID, "r1", "mtb1;r=r1", BatchInput("Prefix", "k/"),
        BatchFilters(("mp4",)),
    )  # fmt: skip


def make_drain(
    engine: FakeBatchEngine, bodies: FakeBodies, applier: RecordingApplier, **options: Any
) -> BatchDrain:
    options.setdefault("save_every_s", 0.0)
    return BatchDrain(engine, bodies, cast(BatchJobApplier, applier), concurrency=4, **options)


def setup(jobs: list[Job], state: str = "Success", **options: Any) -> tuple[Any, ...]:
    engine, bodies, applier = FakeBatchEngine(), FakeBodies(), RecordingApplier()
    engine.batches[BATCH_ID] = BatchJob(BATCH_ID, state)
    engine.jobs[BATCH_ID] = list(jobs)
    return engine, bodies, applier, make_drain(engine, bodies, applier, **options)


def test_one_pass_applies_every_finished_job_and_drains_a_final_batch() -> None:
    _engine, bodies, applier, drain = setup(list(jobs_in_seconds(250, per_second=40)))
    record, report = drain.drain(fresh_record())
    assert len(applier.applied) == 250 and set(applier.applied.values()) == {1}
    assert record.drained and report.drained and report.pages == 3
    assert record.counts == {"tagged": 250}
    assert record.cursor.watermark_s == T0 + 249 // 40
    assert set(record.cursor.seen) == {f"j{n:032d}" for n in range(240, 250)}  # the last second
    assert applier.facts[0] == BatchFacts(BATCH_ID, "mtb1;r=r1")
    assert load_record(bodies, BUCKET, REGION, BATCH_ID) == record


def test_an_unfinished_job_holds_the_watermark_and_nothing_is_done_twice() -> None:
    jobs = list(jobs_in_seconds(30, per_second=10))
    jobs[12] = batch_job(12, second=1, state="Running")
    engine, _, applier, drain = setup(jobs, state="Running")
    record, report = drain.drain(fresh_record())
    assert len(applier.applied) == 29 and not record.drained
    assert record.cursor.watermark_s == T0 + 1 and report.waiting_for == f"j{12:032d}"
    assert len(record.cursor.seen) == 19  # 10..29 but 12: applied at or after the watermark
    engine.finish(BATCH_ID, 12)
    engine.batches[BATCH_ID] = BatchJob(BATCH_ID, "Success")
    record, report = drain.drain(record)
    assert set(applier.applied.values()) == {1} and len(applier.applied) == 30
    assert record.drained and report.outcomes == Counter({"tagged": 1})
    assert engine.queries[-1]["start"] == "2023-11-15T06:13:21+0800"  # from the watermark


def test_a_running_batch_is_not_drained_even_when_its_jobs_are() -> None:
    engine, _, _, drain = setup(list(jobs_in_seconds(5, per_second=5)), state="Running")
    record, _ = drain.drain(fresh_record())
    assert not record.drained and record.batch_state == "Running"
    engine.jobs[BATCH_ID].append(batch_job(5, second=3))  # created while the batch ran
    engine.batches[BATCH_ID] = BatchJob(BATCH_ID, "Success")
    record, report = drain.drain(record)
    assert record.drained and report.outcomes == Counter({"tagged": 1})


def test_a_transient_error_is_tried_again_on_the_next_pass() -> None:
    _engine, _, applier, drain = setup(list(jobs_in_seconds(20, per_second=4)))
    applier.failing.add(f"j{6:032d}")
    record, report = drain.drain(fresh_record())
    assert report.errors == 1 and not record.drained and record.cursor.watermark_s == T0 + 1
    applier.failing.clear()
    record, report = drain.drain(record)
    assert record.drained and len(applier.applied) == 20 and set(applier.applied.values()) == {1}


def test_a_batch_ci_no_longer_knows_is_drained_with_what_it_listed() -> None:
    engine, _, applier, drain = setup(list(jobs_in_seconds(3, per_second=3)))
    del engine.batches[BATCH_ID]
    record, _ = drain.drain(fresh_record())
    assert record.drained and record.batch_state == "Unknown" and len(applier.applied) == 3


def test_the_deadline_stops_a_pass_and_the_next_one_goes_on() -> None:
    now = [0.0]

    def clock() -> float:
        now[0] += 1.0
        return now[0]

    jobs = list(jobs_in_seconds(500, per_second=50))
    engine, bodies, applier, drain = setup(jobs, clock=clock, deadline=4.5)
    record, report = drain.drain(fresh_record())
    assert report.stopped == "deadline" and not record.drained and 0 < len(applier.applied) < 500
    record, _ = make_drain(engine, bodies, applier).drain(record)  # the next invocation
    assert record.drained and set(applier.applied.values()) == {1} and len(applier.applied) == 500


def test_a_kill_mid_drain_loses_nothing_and_redoes_at_most_the_unsaved_pages() -> None:
    jobs = list(jobs_in_seconds(1000, per_second=25))
    _engine, bodies, applier, drain = setup(jobs)
    save_record(bodies, fresh_record())
    bodies.fail_put_after = 4  # the fifth PUT of the record never lands
    with pytest.raises(KilledError):
        drain.drain(fresh_record())
    bodies.fail_put_after = None
    saved = load_record(bodies, BUCKET, REGION, BATCH_ID)
    assert saved is not None and saved.cursor.watermark_s is not None
    record, _ = drain.drain(saved)
    assert record.drained and set(applier.applied) == {job.job_id for job in jobs}
    assert sum(applier.applied.values()) - 1000 <= 100  # one page is redone, no more


def test_too_many_jobs_behind_an_unfinished_one_stop_the_pass(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(drain_module, "MAX_REMEMBERED", 150)
    jobs = [batch_job(0, second=0, state="Running"), *jobs_in_seconds(400, per_second=400)[1:]]
    _engine, _, applier, drain = setup(jobs, state="Running")
    record, report = drain.drain(fresh_record())
    assert report.stopped == "waiting" and report.waiting_for == f"j{0:032d}"
    assert len(applier.applied) == 199 and len(record.cursor.seen) == 199


def test_the_record_round_trips_and_refuses_other_documents() -> None:
    record = BatchRecord(
        BUCKET, REGION, BATCH_ID, "r1", "mtb1;r=r1", BatchInput("Manifest", "https://x/m.json"),
        BatchFilters(None, ("in/",), (".private/",)),
        DrainCursor(T0, {"j1": T0}), {"tagged": 3}, "Running", False,
    )  # fmt: skip
    assert record_from_json(json.loads(json.dumps(record.to_json()))) == record
    for bad in ({}, {**record.to_json(), "format": "x"}, {**record.to_json(), "counts": []}):
        with pytest.raises(ValueError, match=r"format|counts|document"):
            record_from_json(bad)
    bodies = FakeBodies()
    bodies.objects[(BUCKET, f".media-tagger/batches/{BATCH_ID}.json")] = b"{nope"
    with pytest.raises(ValueError, match="not JSON"):
        load_record(bodies, BUCKET, REGION, BATCH_ID)


def test_unknown_reply_reasons_are_counted_by_outcome() -> None:
    assert drain_module.outcome_name(skipped("stale", "x")) == "skipped:stale"
    assert drain_module.outcome_name(CallbackReply(200, "tagged", "ok")) == "tagged"
    failed = CallbackReply(200, "tagged", "failed:ResourceNotSupported")
    assert drain_module.outcome_name(failed) == "tagged:failed"
