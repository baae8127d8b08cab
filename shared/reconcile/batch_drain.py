"""Drain a CI batch: list its per-object jobs and apply each finished one, resumably.

One pass of ``BatchDrain.drain``: GET /inventorytriggerjob/<id> (the batch's state, read before
the listing), then GET /jobs?inventoryTriggerJobId=<id>&orderByTime=Asc from the record's
watermark (``shared.reconcile.batch_record``), 100 jobs a page, every ``nextToken``. The
finished jobs of a page not yet in the cursor are applied concurrently (``concurrency`` threads,
``BatchJobApplier``); then the cursor moves: the watermark follows the page while every job so
far is applied and stops at the first one that is not (still running, or an error worth another
try), so no job is ever left behind. The record is saved (PUT) at most every ``save_every_s``
and at the end of the pass, so a kill loses at most that much work, which the next pass redoes
(``unchanged``). The batch is ``drained`` once a pass that began with the batch final (Success,
Failed, Cancel, or unknown to CI) found no job left to apply. A pass stops early at the
``deadline``, or when ``MAX_REMEMBERED`` applied jobs pile up behind one unfinished job (the
record stays small; the next pass goes on once that job ends). No HTTP here: the ports do it.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from shared.batch_jobs import BatchEngine, ObjectBodies
from shared.models import Job
from shared.reconcile.batch_apply import BatchJobApplier
from shared.reconcile.batch_record import BatchRecord, DrainCursor, save_record
from shared.records import replace
from shared.results.batch_writer import BatchFacts
from shared.results.ordering import job_stamp
from shared.results.reply import CallbackReply
from shared.time_window import ci_time

PAGE_SIZE = 100
MAX_PAGES_PER_PASS = 200_000  # 20 million jobs; a runaway nextToken loop stops here
MAX_REMEMBERED = 50_000
DEFAULT_CONCURRENCY = 8
UNKNOWN_TO_CI = "Unknown"


@dataclass
class DrainReport:
    """What one pass did (filled in as it goes)."""

    batch_id: str
    batch_state: str
    outcomes: Counter[str] = field(default_factory=Counter)
    pages: int = 0
    errors: int = 0  # jobs whose apply failed transiently (tried again next pass)
    drained: bool = False
    stopped: str | None = None  # "deadline" or "waiting" when the pass ended early
    waiting_for: str | None = None  # the oldest job not applied yet


def outcome_name(reply: CallbackReply) -> str:
    """``tagged``, ``tagged:failed`` (a final failure written as the status), ``skipped:<why>``,
    ``unchanged``, ``resubmitted``, ``error``: what the progress line and the record count."""
    if reply.outcome == "skipped":
        return f"skipped:{reply.reason}"
    if reply.outcome == "tagged" and reply.reason.startswith("failed:"):
        return "tagged:failed"
    return reply.outcome


def _second(job: Job) -> int | None:
    return job_stamp(job).created_s


class _Pass:
    """The cursor's movement over one pass (pages in order, oldest job first)."""

    def __init__(self, cursor: DrainCursor) -> None:
        self.watermark = cursor.watermark_s
        self.seen = dict(cursor.seen)
        self.frozen = False
        self.waiting_for: str | None = None

    def settle(self, job: Job, done: bool) -> None:
        second = _second(job)
        if done:
            self.seen[job.job_id] = second if second is not None else (self.watermark or 0)
        if self.frozen:
            return
        if not done:
            self.frozen, self.waiting_for = True, job.job_id
        if second is not None:
            self.watermark = second

    def cursor(self) -> DrainCursor:
        mark = self.watermark
        kept = {job: s for job, s in self.seen.items() if mark is None or s >= mark}
        return DrainCursor(mark, kept)


class BatchDrain:
    """Drains batch records of one bucket; ``drain`` runs one pass over one record."""

    def __init__(
        self,
        engine: BatchEngine,
        bodies: ObjectBodies,
        applier: BatchJobApplier,
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        deadline: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        save_every_s: float = 1.0,
        on_page: Callable[[BatchRecord, DrainReport], None] | None = None,
    ) -> None:
        self._engine = engine
        self._bodies = bodies
        self._applier = applier
        self._concurrency = max(1, concurrency)
        self._deadline = deadline
        self._clock = clock
        self._save_every_s = save_every_s
        self._on_page = on_page

    def _out_of_time(self) -> bool:
        return self._deadline is not None and self._clock() >= self._deadline

    def drain(self, batch: BatchRecord) -> tuple[BatchRecord, DrainReport]:
        """One pass; the record as saved at its end, and what the pass did."""
        described = self._engine.describe_batch(
            batch.bucket, batch.region, batch.batch_id, deadline=self._deadline
        )
        state = described.state if described is not None else UNKNOWN_TO_CI
        final_at_start = described is None or described.is_final
        batch = replace(batch, batch_state=state)
        report = DrainReport(batch.batch_id, state)
        walk = _Pass(batch.cursor)
        with ThreadPoolExecutor(self._concurrency, thread_name_prefix="batch-drain") as pool:
            batch = self._pages(batch, walk, report, pool)
        complete = report.stopped is None and not walk.frozen
        batch = replace(batch, cursor=walk.cursor(), drained=final_at_start and complete)
        report.drained, report.waiting_for = batch.drained, walk.waiting_for
        save_record(self._bodies, batch, deadline=self._deadline)
        return batch, report

    def _pages(
        self, batch: BatchRecord, walk: _Pass, report: DrainReport, pool: ThreadPoolExecutor
    ) -> BatchRecord:
        start = None if walk.watermark is None else ci_time(walk.watermark)
        token: str | None = None
        saved_at = self._clock()
        for _ in range(MAX_PAGES_PER_PASS):
            if self._out_of_time():
                report.stopped = "deadline"
                break
            page = self._engine.list_batch_jobs(
                batch.bucket,
                batch.region,
                batch.batch_id,
                start_creation_time=start,
                next_token=token,
                size=PAGE_SIZE,
                deadline=self._deadline,
            )
            batch = batch.counted(self._apply_page(batch, page.jobs, walk, report, pool))
            report.pages += 1
            if self._clock() - saved_at >= self._save_every_s:
                batch = replace(batch, cursor=walk.cursor())
                save_record(self._bodies, batch, deadline=self._deadline)
                saved_at = self._clock()
            if self._on_page is not None:
                self._on_page(batch, report)
            if len(walk.seen) > MAX_REMEMBERED:
                report.stopped = "waiting"
                break
            if not page.next_token or page.next_token == token or not page.jobs:
                break
            token = page.next_token
        return batch

    def _apply_page(
        self,
        batch: BatchRecord,
        jobs: Sequence[Job],
        walk: _Pass,
        report: DrainReport,
        pool: ThreadPoolExecutor,
    ) -> Counter[str]:
        facts = BatchFacts(batch.batch_id, batch.user_data)
        todo = [job for job in jobs if job.is_finished and job.job_id not in walk.seen]
        replies = dict(
            zip(
                (job.job_id for job in todo),
                pool.map(
                    lambda job: self._applier.apply(batch.bucket, batch.region, job, facts), todo
                ),
            )
        )
        outcomes: Counter[str] = Counter()
        for job in jobs:
            reply = replies.get(job.job_id)
            if reply is not None:
                outcomes[outcome_name(reply)] += 1
                report.outcomes[outcome_name(reply)] += 1
                report.errors += reply.status >= 500
            done = job.job_id in walk.seen or (reply is not None and reply.status < 500)
            walk.settle(job, done)
        return outcomes
