"""The upload use case, per object: filters, (optional) duplicate check, POST /jobs, one log line.

``handle_object`` is the path every object takes, from a COS trigger record, a hand-on or a
backfill listing: decide (``shared.upload.filters``, the result-document location first),
optionally check that the object's tags do not already hold a final result for this content (one
GET ?tagging; off by default: a duplicate event costs one extra MediaInfo job, see docs "Costs"),
then submit the job with the object-bound callback URL and the UserData the callback needs. Remote
errors become outcomes, never raise: ``Failed(permanent=True)`` for what resubmitting cannot fix,
``Failed(permanent=False)`` for what a later attempt may (timeouts, 5xx, throttling, a full or
paused CI queue, the deadline). A full queue or throttling is retried in place while the deadline
leaves room. Whole events (many records, concurrency, hand-on) are ``shared.upload.event_run``.
Written against ``ports.ObjectStore`` / ``ports.MediaJobs``; this module must not import requests.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import Any, Union

from shared.contract.callback_token import callback_url_for
from shared.contract.userdata import encode_user_data
from shared.decision_log import DecisionLog, url_without_query
from shared.errors import (
    CiError,
    CosNotFoundError,
    EventError,
    MediaTaggerError,
    RemoteError,
    TransportError,
)
from shared.media.applied_job import recorded_result, result_is_current
from shared.models import Job
from shared.ports import MediaInfoJobRequest, MediaJobs, ObjectStore
from shared.records import record
from shared.settings.functions import UploadSettings
from shared.upload.cos_event import UploadRecord
from shared.upload.filters import Skip, decide_object, result_location_skip

FUNCTION_NAME = "submit_on_upload"
DRY_RUN_REASON = "dry-run"  # backfill --dry-run: everything but the POST /jobs
DEADLINE_CODE = "DeadlineExceeded"
# CI's answers that mean "not now" rather than "never" (CI error codes doc: 403 QueueSaturated,
# 403 QueuePaused, 429 SlowDown): the record is kept and submitted later, never dropped.
QUEUE_SIGNALS = frozenset({"QueueSaturated", "QueuePaused", "SlowDown"})
RETRY_IN_PLACE = frozenset({"QueueSaturated", "SlowDown"})  # a pause is an operator's decision
QUEUE_BACKOFF_FIRST_S = 0.25


@record
class Submitted:
    job_id: str


@record
class Skipped:
    reason: str


@record
class Failed:
    code: str
    permanent: bool
    reason: str


RecordOutcome = Union[Submitted, Skipped, Failed]


def _outcome_of_error(exc: MediaTaggerError) -> RecordOutcome:
    """Permanent failures are never retried; everything else goes back to SCF's retry."""
    if isinstance(exc, CosNotFoundError):
        return Skipped("object-gone")  # deleted between the upload and now
    if isinstance(exc, CiError) and exc.code == "ResourceNotFound":
        return Skipped("object-gone")  # CI's submit-time answer for a missing input object
    if isinstance(exc, RemoteError):
        permanent = exc.permanent and exc.code not in QUEUE_SIGNALS
        return Failed(exc.code, permanent, f"{exc.service} {exc.status}: {exc.message}")
    if isinstance(exc, EventError):  # e.g. a key XML cannot carry: resubmitting cannot help
        return Failed("InvalidRecord", True, str(exc))
    return Failed(type(exc).__name__, not exc.retryable, str(exc))


class UploadService:
    """Submits MediaInfo jobs for uploads; one instance per invocation."""

    def __init__(
        self,
        settings: UploadSettings,
        store: ObjectStore,
        jobs: MediaJobs,
        log: DecisionLog,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        dry_run: bool = False,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self._settings = settings
        self._store = store
        self._jobs = jobs
        self._log = log
        self._clock = clock
        self._sleep = sleep
        self._dry_run = dry_run
        self._jitter = jitter

    @property
    def settings(self) -> UploadSettings:
        return self._settings

    @property
    def log(self) -> DecisionLog:
        return self._log

    def handle_object(
        self,
        record: UploadRecord,
        *,
        deadline: float | None,
        attempt: int = 1,
        log_transient: bool = True,
    ) -> RecordOutcome:
        """One object: filters, duplicate check and submit, logged as one decision line (a
        transient failure only when ``log_transient``: an event run logs what it does with it).
        ``attempt`` > 1 marks a resubmission after a failure that was not about the content."""
        started = self._clock()
        outcome = self._outcome_for(record, deadline, attempt)
        if log_transient or not isinstance(outcome, Failed) or outcome.permanent:
            self.log_outcome(record, outcome, round((self._clock() - started) * 1000))
        return outcome

    def log_outcome(self, record: UploadRecord, outcome: RecordOutcome, ms: int) -> None:
        fields: dict[str, Any] = {
            "bucket": record.bucket,
            "key": record.key,
            "ms": ms,
            "event_name": record.event_name,
            "etag": record.etag,
            "size": record.size,
        }
        if isinstance(outcome, Submitted):
            callback = url_without_query(self._settings.callback_url)
            self._log.decision("submitted", job_id=outcome.job_id, callback=callback, **fields)
        elif isinstance(outcome, Skipped):
            self._log.decision("skipped", reason=outcome.reason, **fields)
        else:
            level = logging.ERROR if outcome.permanent else logging.WARNING
            self._log.decision(
                "failed",
                reason=outcome.reason,
                code=outcome.code,
                permanent=outcome.permanent,
                level=level,
                **fields,
            )

    def _outcome_for(
        self, record: UploadRecord, deadline: float | None, attempt: int
    ) -> RecordOutcome:
        decision = result_location_skip(
            record.bucket, record.key, self._settings.result_document
        ) or decide_object(
            record.key,
            record.size,
            extensions=self._settings.extensions,
            include_prefixes=self._settings.include_prefixes,
            exclude_prefixes=self._settings.exclude_prefixes,
        )
        if isinstance(decision, Skip):
            return Skipped(decision.reason)
        if deadline is not None and self._clock() >= deadline:
            return Failed(DEADLINE_CODE, False, "no time left before the function timeout")
        try:
            return self._check_and_submit(record, deadline, attempt)
        except (MediaTaggerError, TransportError) as exc:
            return _outcome_of_error(exc)

    def _check_and_submit(
        self, record: UploadRecord, deadline: float | None, attempt: int
    ) -> RecordOutcome:
        etag, size = record.etag, record.size
        if etag is None:  # not in the event: ask COS (one HEAD, only in this case)
            head = self._store.head_object(record.object_ref, deadline=deadline)
            etag, size = head.etag, head.size
        if self._settings.idempotency_check:
            tags = self._store.get_object_tagging(record.object_ref, deadline=deadline)
            recorded = recorded_result(tags, self._settings.tag_prefix)
            if result_is_current(recorded, etag, record.event_time):
                return Skipped("already-tagged")
        if self._dry_run:
            return Skipped(DRY_RUN_REASON)
        request = job_request_for(self._settings, record, etag, size, attempt)
        return Submitted(self._submit(record, request, deadline).job_id)

    def _submit(
        self, record: UploadRecord, request: MediaInfoJobRequest, deadline: float | None
    ) -> Job:
        """POST /jobs; a full queue or throttling is retried in place while the deadline allows
        (pauses doubling from ``QUEUE_BACKOFF_FIRST_S``, each between half and all of its step,
        so instances refused at the same moment do not come back at the same moment); otherwise
        the error goes up."""
        step = QUEUE_BACKOFF_FIRST_S
        while True:
            try:
                return self._jobs.submit_media_info_job(
                    record.bucket, record.region, request, deadline=deadline
                )
            except CiError as exc:
                pause = step * (0.5 + self._jitter() / 2)
                room = deadline is not None and self._clock() + pause < deadline
                if exc.code not in RETRY_IN_PLACE or not room:
                    raise
            self._sleep(pause)
            step *= 2


def job_request_for(
    settings: UploadSettings, record: UploadRecord, etag: str, size: int, attempt: int = 1
) -> MediaInfoJobRequest:
    """POST /jobs for ``record``: object-bound callback URL, UserData with ETag/size/attempt."""
    return MediaInfoJobRequest(
        object_key=record.key,
        user_data=encode_user_data(etag, size, record.version_id, attempt),
        job_level=settings.job_level,
        callback_url=callback_url_for(
            settings.callback_url,
            settings.callback_secret,
            record.bucket,
            record.key,
            region=record.region,
        ),
        callback_format=settings.callback_format,
    )
