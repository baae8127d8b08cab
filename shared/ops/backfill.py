"""The backfill use case: submit MediaInfo jobs for objects that were in the bucket before.

Lists the bucket (``shared.ops.listing``) and hands every object to ``UploadService.
handle_object``, the upload function's per-object path (filters, the duplicate check, always on
here, POST /jobs, one decision line), on ``concurrency`` threads (``shared.ops.ordered_window``:
at most 2 x concurrency in flight, recorded in listing order) sharing one pace on POST /jobs
(``shared.ops.adaptive_rate``, which follows CI's queue signals), so the configured rate is
reached although each object waits for its round trips. Named keys (``--key``, ``--keys-from``)
are HEADed one by one instead of listed; a key that is gone is one ``object-gone`` line.
Checkpoints are written every ``SAVE_EVERY_OBJECTS`` recorded objects or ``SAVE_EVERY_S``, and
hold the last key up to which every object is done: a kill re-does at most ``max_redone`` objects
(100 + 2 x concurrency; docs/operations.md says what re-doing costs). KeyboardInterrupt stops the
threads, waits for the requests in flight and saves; the same command continues after that key.
Transient failures are kept in the state file and tried again first. This module does no HTTP.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path

from shared.decision_log import DecisionLog
from shared.errors import CosNotFoundError, MediaTaggerError
from shared.models import ListedObject, ObjectRef
from shared.ops.backfill_tally import (
    BackfillResult,
    BackfillTally,
    BackfillTarget,
    category_of,
    log_summary,
)
from shared.ops.checkpoint import BackfillState, check_state_matches, load_state, save_state
from shared.ops.listing import list_bucket
from shared.ops.named_keys import listing_time
from shared.ops.ordered_window import WINDOW_PER_WORKER, OrderedWindow
from shared.ops.progress import Progress
from shared.ops.stop_signal import StopSignal
from shared.ops.wait import SubmittedJob
from shared.ports import ObjectStore
from shared.records import replace
from shared.time_window import iso_second
from shared.upload.cos_event import UploadRecord
from shared.upload.service import Submitted, UploadService

BACKFILL_EVENT = "backfill"  # event_name of the records built from listed objects (logged)
SAVE_EVERY_OBJECTS = 100
SAVE_EVERY_S = 1.0
FSYNC_EVERY_S = 1.0  # the rename is atomic anyway; fsync only guards against power loss
DEFAULT_CONCURRENCY = 16  # reaches 80 objects/s at 200 ms per object (two in-cloud round trips)
MAX_CONCURRENCY = 64
Handled = tuple[ListedObject, str, "SubmittedJob | None"]  # object, category, job submitted

__all__ = [
    "Backfill",
    "BackfillResult",
    "BackfillTally",
    "BackfillTarget",
    "category_of",
    "list_bucket",
    "max_redone",
]


def max_redone(concurrency: int) -> int:
    """The most objects a resumed run handles again after a kill of this one."""
    return SAVE_EVERY_OBJECTS + WINDOW_PER_WORKER * concurrency


def _totals(base: BackfillState, tally: BackfillTally) -> dict[str, int]:
    names = set(base.totals) | set(tally.counts)
    return {name: base.totals.get(name, 0) + tally.counts.get(name, 0) for name in sorted(names)}


class Backfill:
    """One run over one bucket/prefix; ``run`` may be called once."""

    def __init__(
        self,
        service: UploadService,
        store: ObjectStore,
        log: DecisionLog,
        target: BackfillTarget,
        *,
        state_file: Path | None,
        write_state: bool = True,
        progress: Progress | None = None,
        clock: Callable[[], float] = time.monotonic,
        count_first: bool = True,
        max_objects: int | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
        stop: StopSignal | None = None,
    ) -> None:
        self._service = service
        self._store = store
        self._log = log
        self._state_file = state_file
        self._write_state = write_state and state_file is not None
        self._progress = progress
        self._clock = clock
        self._count_first = count_first
        self._max_objects = max_objects
        self._concurrency = concurrency
        self._stop = stop or StopSignal()
        self._target = target
        self._base = self._state = BackfillState(target.bucket, target.region, target.prefix)
        self._tally = BackfillTally()
        self._submitted: list[SubmittedJob] = []
        self._total: int | None = None
        self._unsaved = 0
        self._saved_at = self._synced_at = clock()

    def run(self) -> BackfillResult:
        started, target = self._clock(), self._target
        start = self._initial_state(target)
        if start.complete:
            self._note(f"{self._state_file} says this backfill is complete; delete it to rerun")
            return BackfillResult(self._tally, start, already_complete=True)
        self._base, self._state = start, start
        interrupted = stopped = False
        try:
            self._total = self._count(target, start.last_key) if self._count_first else None
            self._retry_earlier_failures(target)
            stopped = self._pass(target)
        except KeyboardInterrupt:
            interrupted = True
        except BaseException:
            self._save(final=True)  # a listing failure keeps the last fully handled key too
            raise
        done = not (interrupted or stopped or self._state.retry_keys)
        self._state = replace(self._state, complete=done, totals=_totals(self._base, self._tally))
        self._save(final=True)
        if self._progress is not None:
            self._progress.finish(self._tally.point(self._total))
        reason = "interrupted" if interrupted else "max-objects" if stopped else None
        ms = round((self._clock() - started) * 1000)
        log_summary(self._log, target, self._tally, self._state, reason=reason, ms=ms)
        submitted = tuple(self._submitted)
        return BackfillResult(self._tally, self._state, interrupted, stopped, submitted=submitted)

    def _initial_state(self, target: BackfillTarget) -> BackfillState:
        fresh = BackfillState(target.bucket, target.region, target.prefix)
        if self._state_file is None:
            return fresh
        saved = load_state(self._state_file)
        if saved is None:
            return fresh
        check_state_matches(self._state_file, saved, target.bucket, target.region, target.prefix)
        if saved.last_key is not None and not saved.complete:
            self._note(f"resuming after {saved.last_key!r} ({self._state_file})")
        return saved

    def _count(self, target: BackfillTarget, after: str | None) -> int:
        if target.keys:
            return len(target.keys)
        self._note("counting the objects to go through (for the ETA) ...")
        return sum(1 for _ in list_bucket(self._store, target, after))

    def _retry_earlier_failures(self, target: BackfillTarget) -> None:
        for key in tuple(self._state.retry_keys):
            _, category, job = self._handle_key(target, key, self._tally.handled)
            if job is not None:
                self._submitted.append(job)
            if category != "retry":
                keys = tuple(k for k in self._state.retry_keys if k != key)
                self._state = replace(self._state, retry_keys=keys)
            self._handled(category)

    def _pass(self, target: BackfillTarget) -> bool:
        """Every listed (or named) object after the checkpoint; True when --max-objects stopped
        it. Named keys (``--key``) are HEADed one by one instead of listed."""
        started, limited = self._tally.handled, False
        with OrderedWindow[Handled](self._concurrency) as window:
            try:
                for item in target.keys or list_bucket(self._store, target, self._state.last_key):
                    if self._max_objects is not None and started >= self._max_objects:
                        limited = True
                        break
                    if isinstance(item, str):
                        call = partial(self._handle_key, target, item, started)
                    else:
                        call = partial(self._handle_listed, target, item, started)
                    self._record_all(window.submit(call))
                    started += 1
                self._record_all(window.drain())
            except BaseException:
                self._stop.set()  # threads waiting for a token give up instead of submitting
                self._record_all(window.stop())
                raise
        return limited

    def _handle_key(self, target: BackfillTarget, key: str, index: int) -> Handled:
        """One object known by its key only: HEAD it, then the upload path (gone: one line)."""
        obj = ObjectRef(target.bucket, target.region, key)
        try:
            head = self._store.head_object(obj)
        except CosNotFoundError:
            self._service.log.decision(
                "skipped", bucket=target.bucket, key=key, reason="object-gone"
            )
            return ListedObject(key, "", 0), "gone", None
        except MediaTaggerError:
            return ListedObject(key, "", 0), "retry", None
        listed = ListedObject(key, head.etag, head.size, listing_time(head.last_modified))
        return self._handle_listed(target, listed, index)

    def _handle_listed(self, target: BackfillTarget, listed: ListedObject, index: int) -> Handled:
        """The upload path for one listed object (on a worker thread)."""
        record = self._record(target, listed, index)
        outcome = self._service.handle_object(record, deadline=None)
        job = None
        if isinstance(outcome, Submitted):
            job = SubmittedJob(listed.key, record.etag or "", outcome.job_id)
        return listed, category_of(outcome), job

    def _record_all(self, done: Iterable[Handled]) -> None:
        """Objects finished in listing order: the checkpoint moves past them."""
        for listed, category, job in done:
            if job is not None:
                self._submitted.append(job)
            self._state = self._state.after(listed.key, retry=category == "retry")
            self._handled(category)

    def _record(self, target: BackfillTarget, listed: ListedObject, index: int) -> UploadRecord:
        return UploadRecord(
            index=index,
            bucket=target.bucket,
            region=target.region,
            key=listed.key,
            size=listed.size,
            etag=listed.etag.strip('"') or None,
            version_id=None,  # GET Bucket lists current versions; tags go to the current one
            event_name=BACKFILL_EVENT,
            request_id=None,
            event_time=iso_second(listed.last_modified),  # a result older than this is not done
        )

    def _handled(self, category: str) -> None:
        self._tally.add(category)
        self._unsaved += 1
        now = self._clock()
        if self._unsaved >= SAVE_EVERY_OBJECTS or now - self._saved_at >= SAVE_EVERY_S:
            self._save()
        if self._progress is not None:
            self._progress.update(self._tally.point(self._total))

    def _save(self, *, final: bool = False) -> None:
        self._unsaved = 0
        self._saved_at = now = self._clock()
        if not self._write_state or self._state_file is None:
            return
        durable = final or now - self._synced_at >= FSYNC_EVERY_S
        state = replace(self._state, totals=_totals(self._base, self._tally))
        save_state(self._state_file, state, durable=durable)
        if durable:
            self._synced_at = now

    def _note(self, text: str) -> None:
        if self._progress is not None:
            self._progress.note(text)
