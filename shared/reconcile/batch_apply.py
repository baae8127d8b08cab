"""One listed per-object job of a batch -> its object's tags, or a second chance for the object.

The object is the job's ``Input.Object``. Whether CI echoes it raw or percent-encoded is
undocumented (``shared.contract.object_key``): a key with a decoded reading is looked up both
ways with HEAD, and when both objects exist nothing tells which one the job read, so nothing is
written (``ambiguous-key``, logged with the key). Then ``BatchResultWriter.apply`` decides. Two
of its refusals leave the object without a current result, and with the upload settings (the
``Resubmit`` of reconcile) the object gets its own job through the upload path, whose callback
writes the tags: ``stale`` (the content was written after the batch's job read it: attempt 1)
and ``transient-failure`` (attempt 2, so the third failure is final, ordering rule 3). Neither
is resubmitted when the tags already hold a final result for the current content (one GET
?tagging). One decision line per job. No HTTP here: the ports do it.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from shared.contract.object_key import key_forms
from shared.decision_log import DecisionLog
from shared.errors import CosNotFoundError, MediaTaggerError
from shared.media.applied_job import recorded_result, result_is_current
from shared.models import Job, ObjectHead, ObjectRef
from shared.ports import ObjectStore
from shared.reconcile.resubmit import Resubmit
from shared.records import replace
from shared.results.batch_writer import BATCH_ATTEMPT, BatchFacts, BatchResultWriter
from shared.results.ordering import http_date_second
from shared.results.reply import CallbackReply, error_reply, skipped, unchanged

SECOND_CHANCES = {"stale": BATCH_ATTEMPT, "transient-failure": BATCH_ATTEMPT + 1}


class BatchJobApplier:
    """Applies listed jobs of one bucket's batches; thread-safe (no state of its own)."""

    def __init__(
        self,
        store: ObjectStore,
        writer: BatchResultWriter,
        log: DecisionLog,
        *,
        tag_prefix: str,
        resubmit: Resubmit | None = None,
        dry_run: bool = False,
        deadline: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._writer = writer
        self._log = log
        self._prefix = tag_prefix
        self._resubmit = resubmit
        self._dry_run = dry_run
        self._deadline = deadline
        self._clock = clock

    def apply(self, bucket: str, region: str, job: Job, batch: BatchFacts) -> CallbackReply:
        """Decide and act for one finished job; logs one line; never raises MediaTaggerError."""
        started = self._clock()
        key = job.input.object
        try:
            reply = self._apply(bucket, region, job, batch, key)
        except MediaTaggerError as exc:
            reply = error_reply(exc, job_id=job.job_id, key=key)
        ms = round((self._clock() - started) * 1000)
        reply.log_to(self._log, bucket=bucket, ms=ms, batch_id=batch.batch_id)
        return reply

    def _apply(
        self, bucket: str, region: str, job: Job, batch: BatchFacts, key: str | None
    ) -> CallbackReply:
        if not key:
            return skipped("no-object", "the job names no Input.Object", job.job_id)
        found = self._resolve(bucket, region, key)
        if isinstance(found, CallbackReply):
            return replace(found, job_id=job.job_id)
        obj, head = found
        reply = self._writer.apply(obj, job, batch, head=head)
        attempt = SECOND_CHANCES.get(reply.reason) if reply.outcome == "skipped" else None
        if attempt is None or self._resubmit is None:
            return reply
        return self._second_chance(obj, head, reply, attempt)

    def _resolve(
        self, bucket: str, region: str, key: str
    ) -> tuple[ObjectRef, ObjectHead] | CallbackReply:
        """The object the echoed ``key`` names and its HEAD, or why there is none to tag."""
        found: list[tuple[ObjectRef, ObjectHead]] = []
        for _, form in key_forms(key):
            obj = ObjectRef(bucket, region, form)
            try:
                found.append((obj, self._store.head_object(obj, deadline=self._deadline)))
            except CosNotFoundError:
                continue
        if not found:
            return skipped("object-gone", "HEAD answered 404", None, key)
        if len(found) > 1:
            detail = f"both {key!r} and its decoded reading exist; the job names one of them"
            return skipped("ambiguous-key", detail, None, key)
        return found[0]

    def _second_chance(
        self, obj: ObjectRef, head: ObjectHead, refused: CallbackReply, attempt: int
    ) -> CallbackReply:
        """A job of its own for the object's current content, unless it has its result."""
        tags = self._store.get_object_tagging(obj, deadline=self._deadline)
        recorded = recorded_result(tags, self._prefix)
        if result_is_current(recorded, head.etag, http_date_second(head.last_modified)):
            return unchanged(recorded.status if recorded else "", refused.job_id or "", obj.key)
        detail = f"{refused.reason}: {refused.detail}; a job of its own (attempt {attempt})"
        if self._dry_run or self._resubmit is None:
            return CallbackReply(200, "would-resubmit", detail, refused.job_id, obj.key)
        reply = self._resubmit(obj, head, attempt)
        return replace(reply, detail=detail) if reply.detail is None else reply
