"""The upload use case: for every record of a COS trigger event, decide, check, submit a job.

Per record: parse -> filter -> (optional) idempotency check on the object's tags -> POST /jobs
with the object-bound callback URL and the UserData the callback needs. Records are isolated:
an unreadable record is logged and skipped; a permanent remote error (4xx but 429) is logged and
not retried; transient failures that outlive the clients' retries are collected and, after every
record was tried, raised together (``TransientSubmitError``) so SCF's async retry runs.
``handle_object`` (filters, idempotency check, submit, one log line) is the per-object path the
backfill command shares. Written against ``ports.ObjectStore`` / ``ports.MediaJobs``; this
module must not import requests.
"""

from __future__ import annotations

import logging
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
from shared.media.tag_merge import recorded_result_etag
from shared.ports import MediaInfoJobRequest, MediaJobs, ObjectStore
from shared.records import record
from shared.settings.functions import UploadSettings
from shared.upload.cos_event import ParsedRecord, RecordError, UploadRecord, parse_cos_event
from shared.upload.filters import Skip, decide_object, event_skip

FUNCTION_NAME = "submit_on_upload"
DRY_RUN_REASON = "dry-run"  # backfill --dry-run: everything but the POST /jobs


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


class TransientSubmitError(MediaTaggerError):
    """Some records failed transiently; raised after all were tried so SCF retries the event."""

    http_status = 503
    retryable = True

    def __init__(self, failed_keys: tuple[str, ...], summary: dict[str, Any]) -> None:
        super().__init__(
            f"{len(failed_keys)} record(s) failed transiently, SCF will retry: "
            + ", ".join(repr(key) for key in failed_keys)
        )
        self.failed_keys = failed_keys
        self.summary = summary


def _outcome_of_error(exc: MediaTaggerError) -> RecordOutcome:
    """Permanent failures are never retried; everything else goes back to SCF's retry."""
    if isinstance(exc, CosNotFoundError):
        return Skipped("object-gone")  # deleted between the upload and now
    if isinstance(exc, CiError) and exc.code == "ResourceNotFound":
        return Skipped("object-gone")  # CI's submit-time answer for a missing input object
    if isinstance(exc, RemoteError):
        return Failed(exc.code, exc.permanent, f"{exc.service} {exc.status}: {exc.message}")
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
        dry_run: bool = False,
    ) -> None:
        self._settings = settings
        self._store = store
        self._jobs = jobs
        self._log = log
        self._clock = clock
        self._dry_run = dry_run

    def submit_for_event(self, event: object, *, deadline: float | None) -> dict[str, Any]:
        """The summary; raises TransientSubmitError when a record should be retried."""
        started = self._clock()
        summary: dict[str, Any] = {"submitted": [], "skipped": [], "failed": []}
        try:
            records = parse_cos_event(event)
        except EventError as exc:
            self._log.decision("skipped", reason=f"not-a-cos-event: {exc}", level=logging.WARNING)
            return summary
        for parsed in records:
            self._handle_record(parsed, deadline, summary)
        self._log.decision(
            "invocation-summary",
            ms=round((self._clock() - started) * 1000),
            submitted=len(summary["submitted"]),
            skipped=len(summary["skipped"]),
            failed=len(summary["failed"]),
        )
        transient = tuple(f["key"] for f in summary["failed"] if not f["permanent"])
        if transient:
            raise TransientSubmitError(transient, summary)
        return summary

    def _handle_record(
        self, parsed: ParsedRecord, deadline: float | None, summary: dict[str, Any]
    ) -> None:
        skip = None if isinstance(parsed, RecordError) else event_skip(parsed.event_name)
        if isinstance(parsed, UploadRecord) and skip is None:
            _summarise(summary, parsed.key, self.handle_object(parsed, deadline=deadline))
            return
        started = self._clock()
        if isinstance(parsed, RecordError):
            reason = f"unreadable-record: {parsed.problem}"
            summary["skipped"].append({"key": parsed.key, "reason": reason})
            self._log.decision("skipped", key=parsed.key, reason=reason, level=logging.WARNING)
        elif skip is not None:
            outcome = Skipped(skip.reason)
            self._log_outcome(parsed, outcome, round((self._clock() - started) * 1000))
            _summarise(summary, parsed.key, outcome)

    def handle_object(self, record: UploadRecord, *, deadline: float | None) -> RecordOutcome:
        """One object (a trigger record, or one listed by backfill): filters, idempotency check
        and submit, logged as one decision line. Remote errors become outcomes, never raise."""
        started = self._clock()
        outcome = self._outcome_for(record, deadline)
        self._log_outcome(record, outcome, round((self._clock() - started) * 1000))
        return outcome

    def _log_outcome(self, record: UploadRecord, outcome: RecordOutcome, ms: int) -> None:
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

    def _outcome_for(self, record: UploadRecord, deadline: float | None) -> RecordOutcome:
        decision = decide_object(
            record.key,
            record.size,
            extensions=self._settings.extensions,
            include_prefixes=self._settings.include_prefixes,
            exclude_prefixes=self._settings.exclude_prefixes,
        )
        if isinstance(decision, Skip):
            return Skipped(decision.reason)
        if deadline is not None and self._clock() >= deadline:
            return Failed("DeadlineExceeded", False, "no time left before the function timeout")
        try:
            return self._check_and_submit(record, deadline)
        except (MediaTaggerError, TransportError) as exc:
            return _outcome_of_error(exc)

    def _check_and_submit(self, record: UploadRecord, deadline: float | None) -> RecordOutcome:
        etag, size = record.etag, record.size
        if etag is None:  # not in the event: ask COS (one HEAD, only in this case)
            head = self._store.head_object(record.object_ref, deadline=deadline)
            etag, size = head.etag, head.size
        if self._settings.idempotency_check:
            tags = self._store.get_object_tagging(record.object_ref, deadline=deadline)
            if recorded_result_etag(tags, self._settings.tag_prefix) == etag:
                return Skipped("already-tagged")
        if self._dry_run:
            return Skipped(DRY_RUN_REASON)
        job = self._jobs.submit_media_info_job(
            record.bucket, record.region, self._job_request(record, etag, size), deadline=deadline
        )
        return Submitted(job.job_id)

    def _job_request(self, record: UploadRecord, etag: str, size: int) -> MediaInfoJobRequest:
        settings = self._settings
        return MediaInfoJobRequest(
            object_key=record.key,
            user_data=encode_user_data(etag, size, record.version_id),
            job_level=settings.job_level,
            callback_url=callback_url_for(
                settings.callback_url, settings.callback_secret, record.bucket, record.key
            ),
            callback_format=settings.callback_format,
        )


def _summarise(summary: dict[str, Any], key: str, outcome: RecordOutcome) -> None:
    if isinstance(outcome, Submitted):
        summary["submitted"].append({"key": key, "job_id": outcome.job_id})
    elif isinstance(outcome, Skipped):
        summary["skipped"].append({"key": key, "reason": outcome.reason})
    else:
        summary["failed"].append({"key": key, "code": outcome.code, "permanent": outcome.permanent})
