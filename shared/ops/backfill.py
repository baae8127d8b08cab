"""The backfill use case: submit MediaInfo jobs for objects that were in the bucket before.

Lists the bucket (GET Bucket, marker paging, listing order) and hands every object to
``UploadService.handle_object``, the upload function's own per-object path: the same filters,
the idempotency check (always on here: an object whose tags record a result for its current
ETag is skipped), the same POST /jobs with the object-bound callback URL and UserData, and one
decision log line. Only POST /jobs is paced (``shared.ops.adaptive_rate.AdaptiveJobs``).

Checkpoints (``shared.ops.checkpoint``): after every object that cost a remote call the state file
records it as the last fully handled key (pure filter skips are saved in batches: re-deciding
them costs nothing). KeyboardInterrupt, wherever it lands, saves the last fully handled key and
ends the run; the same command continues after that key. The object in flight when the
interrupt came is handled again on resume: if its POST /jobs had already been answered, that
one object gets a second job (harmless: the same ETag gives the same tags). Objects that failed
transiently are kept in the state file and tried again first. This module must not do HTTP.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from shared.decision_log import DecisionLog
from shared.errors import CosError, CosNotFoundError, MediaTaggerError
from shared.models import ListedObject, ObjectRef
from shared.ops.backfill_tally import BackfillResult, BackfillTally, BackfillTarget, category_of
from shared.ops.checkpoint import BackfillState, check_state_matches, load_state, save_state
from shared.ops.named_keys import listing_time
from shared.ops.progress import Progress
from shared.ops.wait import SubmittedJob
from shared.ports import ObjectStore
from shared.records import replace
from shared.time_window import iso_second
from shared.upload.cos_event import UploadRecord
from shared.upload.service import Submitted, UploadService

BACKFILL_EVENT = "backfill"  # event_name of the records built from listed objects (logged)
SAVE_EVERY_OBJECTS = 500
SAVE_EVERY_S = 2.0
FSYNC_EVERY_S = 1.0  # the rename is atomic anyway; fsync only guards against power loss
_REMOTE_WORK = frozenset({"submitted", "already_tagged", "gone", "failed", "retry"})

__all__ = [
    "Backfill",
    "BackfillResult",
    "BackfillTally",
    "BackfillTarget",
    "category_of",
    "list_bucket",
]


def objects_to_backfill(
    store: ObjectStore, target: BackfillTarget, after: str | None
) -> Iterator[ListedObject]:
    """The listing after ``after`` (named keys, ``--key``, are HEADed one by one instead)."""
    return list_bucket(store, target, after)


def list_bucket(
    store: ObjectStore, target: BackfillTarget, after: str | None
) -> Iterator[ListedObject]:
    """Every object after ``after`` in listing order, page by page (marker paging)."""
    marker = after or ""
    while True:
        page = store.list_objects(target.bucket, target.region, prefix=target.prefix, marker=marker)
        yield from page.objects
        if not page.is_truncated:
            return
        # COS names NextMarker when truncated; the last key is the documented fallback.
        following = page.next_marker or (page.objects[-1].key if page.objects else "")
        if not following or following <= marker:
            raise CosError(200, "InvalidListing", "GET Bucket is truncated but does not advance")
        marker = following


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
        self._log_summary(target, started, interrupted=interrupted, stopped=stopped)
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
        return sum(1 for _ in objects_to_backfill(self._store, target, after))

    def _retry_earlier_failures(self, target: BackfillTarget) -> None:
        for key in tuple(self._state.retry_keys):
            category = self._handle_key(target, key)
            if category != "retry":
                keys = tuple(k for k in self._state.retry_keys if k != key)
                self._state = replace(self._state, retry_keys=keys)
            self._handled(category)

    def _handle_key(self, target: BackfillTarget, key: str) -> str:
        """One object known by its key only: HEAD it, then the upload path (gone: one line)."""
        obj = ObjectRef(target.bucket, target.region, key)
        try:
            head = self._store.head_object(obj)
        except CosNotFoundError:
            self._service.log.decision(
                "skipped", bucket=target.bucket, key=key, reason="object-gone"
            )
            return "gone"
        except MediaTaggerError:
            return "retry"
        listed = ListedObject(key, head.etag, head.size, listing_time(head.last_modified))
        return self._handle(target, listed)

    def _pass(self, target: BackfillTarget) -> bool:
        """Every listed (or named) object after the checkpoint; True when --max-objects stopped
        it."""
        if target.keys:
            return self._named_pass(target)
        for listed in objects_to_backfill(self._store, target, self._state.last_key):
            if self._max_objects is not None and self._tally.handled >= self._max_objects:
                return True
            category = self._handle(target, listed)
            self._state = self._state.after(listed.key, retry=category == "retry")
            self._handled(category)
        return False

    def _named_pass(self, target: BackfillTarget) -> bool:
        for key in target.keys:
            if self._max_objects is not None and self._tally.handled >= self._max_objects:
                return True
            category = self._handle_key(target, key)
            self._state = self._state.after(key, retry=category == "retry")
            self._handled(category)
        return False

    def _handle(self, target: BackfillTarget, listed: ListedObject) -> str:
        """The upload path for one object; a submitted job is kept for the wait."""
        record = self._record(target, listed)
        outcome = self._service.handle_object(record, deadline=None)
        if isinstance(outcome, Submitted):
            self._submitted.append(SubmittedJob(listed.key, record.etag or "", outcome.job_id))
        return category_of(outcome)

    def _record(self, target: BackfillTarget, listed: ListedObject) -> UploadRecord:
        return UploadRecord(
            index=self._tally.handled,
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
        if (
            category in _REMOTE_WORK
            or self._unsaved >= SAVE_EVERY_OBJECTS
            or now - self._saved_at >= SAVE_EVERY_S
        ):
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

    def _log_summary(
        self, target: BackfillTarget, started: float, *, interrupted: bool, stopped: bool
    ) -> None:
        reason = "interrupted" if interrupted else "max-objects" if stopped else None
        counts: dict[str, Any] = dict(self._tally.counts)
        self._log.decision(
            "backfill-summary",
            bucket=target.bucket,
            reason=reason,
            ms=round((self._clock() - started) * 1000),
            prefix=target.prefix,
            complete=self._state.complete,
            last_key=self._state.last_key,
            retry_keys=len(self._state.retry_keys),
            **counts,
        )
