"""Reconcile's second chance for an object whose job failed for a reason not about its content.

A ``Resubmit`` for ``Reconciler``: the upload function's own per-object path
(``UploadService.handle_object``) with the next attempt number in the UserData, so the callback
writes the failure as final once ``MAX_JOB_ATTEMPTS`` jobs have failed. It needs the upload
function's settings (MEDIA_TAGGER_CALLBACK_URL and _SECRET); ``resubmitter`` returns None and says
why when they are missing, and reconcile then only reports the object. No HTTP here (ports).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from shared.decision_log import DecisionLog
from shared.errors import ConfigError
from shared.models import ObjectHead, ObjectRef
from shared.ports import MediaJobs, ObjectStore
from shared.results.ordering import http_date_second
from shared.results.reply import CallbackReply, skipped
from shared.settings.functions import load_upload_settings
from shared.upload.cos_event import UploadRecord
from shared.upload.service import Skipped, Submitted, UploadService

RESUBMIT_EVENT = "reconcile-resubmit"
RESUBMITTED = "resubmitted"
Resubmit = Callable[[ObjectRef, ObjectHead, int], CallbackReply]


def resubmitter(
    environ: Mapping[str, str],
    store: ObjectStore,
    jobs: MediaJobs,
    log: DecisionLog,
    *,
    deadline: float | None = None,
) -> tuple[Resubmit | None, str | None]:
    """(resubmit, None), or (None, why not) when the upload settings are not configured."""
    try:
        settings = load_upload_settings(environ)
    except ConfigError as exc:
        return None, f"{exc.variable}: {exc.problem}"
    log.add_secret(settings.callback_secret)
    service = UploadService(settings, store, jobs, log)

    def resubmit(obj: ObjectRef, head: ObjectHead, attempt: int) -> CallbackReply:
        record = UploadRecord(
            index=0,
            bucket=obj.bucket,
            region=obj.region,
            key=obj.key,
            size=head.size,
            etag=head.etag,
            version_id=obj.version_id,
            event_name=RESUBMIT_EVENT,
            request_id=None,
            event_time=http_date_second(head.last_modified),
        )
        outcome = service.handle_object(record, deadline=deadline, attempt=attempt)
        if isinstance(outcome, Submitted):
            return CallbackReply(200, RESUBMITTED, f"attempt {attempt}", outcome.job_id, obj.key)
        if isinstance(outcome, Skipped):
            return skipped(outcome.reason, "the upload path did not resubmit", None, obj.key)
        status = 200 if outcome.permanent else 503
        return CallbackReply(
            status,
            "error" if status >= 500 else "skipped",
            outcome.code,
            None,
            obj.key,
            detail=outcome.reason,
        )

    return resubmit, None
