"""Follow the batches of a batch backfill: drain them until done, show progress, cancel them.

``BatchWatch.drain`` runs drain passes (``shared.reconcile.batch_runner.batch_drain``) over every
batch of the run whose record is not drained yet, ``poll_s`` apart, until all are drained or
``timeout_s`` has passed; each pass resumes from the record's saved cursor, so a kill -9 of this
process loses at most the last second of work (redone as ``unchanged``). The progress line counts
the run's jobs applied so far from the records (the timer's passes included): ``1200/2000
objects (60%) | tagged 1100 | skipped:stale 12 | ...``; a batch's state change is a line of its
own. ``cancel`` sends PUT ?cancel for every batch not final; results of jobs that finished are
still drained. No HTTP here: the ports do it.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence

from shared.decision_log import DecisionLog
from shared.ops.progress import Progress, ProgressPoint
from shared.reconcile.batch_drain import DrainReport
from shared.reconcile.batch_record import BatchRecord, load_record
from shared.reconcile.batch_runner import DrainClients, DrainSettings, batch_drain
from shared.reconcile.resubmit import Resubmit
from shared.records import record

NOT_APPLIED = frozenset({"skipped:not-finished", "error"})


@record
class WatchOutcome:
    drained: bool
    outcomes: Counter[str]
    states: tuple[tuple[str, str], ...]  # (batch id, last state seen)


def applied_total(counts: Counter[str] | dict[str, int]) -> int:
    return sum(n for name, n in counts.items() if name not in NOT_APPLIED)


class BatchWatch:
    def __init__(
        self,
        clients: DrainClients,
        settings: DrainSettings,
        log: DecisionLog,
        *,
        bucket: str,
        region: str,
        resubmit: Resubmit | None,
        progress: Progress | None = None,
        total: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._clients, self._settings, self._log = clients, settings, log
        self._bucket, self._region = bucket, region
        self._resubmit = resubmit
        self._progress = progress
        self._total = total
        self._clock, self._sleep = clock, sleep
        self._states: dict[str, str] = {}
        self._counts: dict[str, Counter[str]] = {}

    def _record(self, batch_id: str) -> BatchRecord:
        found = load_record(self._clients.bodies, self._bucket, self._region, batch_id)
        if found is None:
            raise ValueError(f"batch {batch_id} has no record in {self._bucket}")
        return found

    def cancel(self, batch_ids: Sequence[str]) -> None:
        """PUT ?cancel for each batch CI does not report final yet."""
        engine = self._clients.engine
        for batch_id in batch_ids:
            described = engine.describe_batch(self._bucket, self._region, batch_id)
            if described is None or described.is_final:
                continue
            engine.cancel_batch(self._bucket, self._region, batch_id)
            described = engine.describe_batch(self._bucket, self._region, batch_id)
            state = described.state if described is not None else "unknown"
            self._log.decision(
                "batch-cancelled", bucket=self._bucket, batch_id=batch_id, batch_state=state
            )
            self._note(f"batch {batch_id}: cancel sent, CI says {state}")

    def drain(
        self, batch_ids: Sequence[str], *, timeout_s: float | None, poll_s: float
    ) -> WatchOutcome:
        started = self._clock()
        while True:
            drained = all([self._pass(batch_id) for batch_id in batch_ids])
            timed_out = timeout_s is not None and self._clock() - started >= timeout_s
            if drained or timed_out:
                total: Counter[str] = Counter()
                for counts in self._counts.values():
                    total.update(counts)
                self._show(force=True)
                return WatchOutcome(drained, total, tuple(sorted(self._states.items())))
            self._sleep(poll_s)

    def _pass(self, batch_id: str) -> bool:
        found = self._record(batch_id)
        self._counts[batch_id] = Counter(found.counts)
        if found.drained:
            self._seen_state(batch_id, found.batch_state)
            return True
        drain = batch_drain(
            self._clients,
            self._settings,
            found,
            self._log,
            resubmit=self._resubmit,
            deadline=None,
            clock=self._clock,
            on_page=self._on_page,
        )
        finished, report = drain.drain(found)
        self._counts[batch_id] = Counter(finished.counts)
        self._seen_state(batch_id, report.batch_state)
        if report.waiting_for and report.stopped == "waiting":
            self._log.decision(
                "batch-waiting", bucket=self._bucket, batch_id=batch_id,
                job_id=report.waiting_for, level=logging.WARNING,
            )  # fmt: skip
        return finished.drained

    def _on_page(self, batch: BatchRecord, report: DrainReport) -> None:
        self._counts[batch.batch_id] = Counter(batch.counts)
        self._seen_state(batch.batch_id, report.batch_state)
        self._show()

    def _seen_state(self, batch_id: str, state: str) -> None:
        if self._states.get(batch_id) != state:
            self._states[batch_id] = state
            self._note(f"batch {batch_id}: {state}")

    def _show(self, *, force: bool = False) -> None:
        if self._progress is None:
            return
        total: Counter[str] = Counter()
        for counts in self._counts.values():
            total.update(counts)
        done = applied_total(total)
        shown = sorted((name, n) for name, n in total.items() if n)
        self._progress.update(ProgressPoint(done, self._total, done, shown), force=force)

    def _note(self, text: str) -> None:
        if self._progress is not None:
            self._progress.note(text)
