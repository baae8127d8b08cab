"""Result documents: the whole verified MediaInfo per object, written before the object's tags.

``ResultDocuments.write`` is the one call every writer path makes (the callback and reconcile
through ``JobResultWriter``; a batch drain calls it the same way, after the ordering checks and
before its PUT ?tagging): HEAD the document, compare the job its metadata names with ours by the
tags' own rules (``shared.results.ordering.standing``: an older job never replaces a newer one,
for the same content a success is never replaced by a failure), then PUT the JSON
(``shared.results.document_body``) with ``Content-Type: application/json`` and the stamp in
``x-cos-meta-media-tagger-status`` / ``-job`` (the status and etag tag values). The same job's
document already there is not written again. A COS error or no answer becomes
``DocumentWriteError`` (503): the caller then writes no tags. Names: ``shared.contract.
document_key``. No logging here; the caller logs its one decision line.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from shared.contract.document_key import document_key
from shared.contract.userdata import UserDataFacts
from shared.errors import CosNotFoundError, DocumentWriteError, RemoteError, TransportError
from shared.media.applied_job import RecordedResult, format_applied_job, parse_applied_job
from shared.media.tag_format import STATUS_FIELD
from shared.models import Job, ObjectHead, ObjectRef, ResultLocation
from shared.ports import DocumentStore
from shared.results.document_body import CONTENT_TYPE, document_body, document_bytes
from shared.results.ordering import job_stamp, standing
from shared.results.reply import CallbackReply, skipped
from shared.results.writer import applied_job, describes_content, result_tags

STATUS_META = "media-tagger-status"
JOB_META = "media-tagger-job"
_STAMP_PREFIX = "doc:"  # any tag prefix: only the status value is taken from result_tags


def document_ref(location: ResultLocation, obj: ObjectRef) -> ObjectRef:
    """Where the document of ``obj`` lives (in ``obj``'s region)."""
    return ObjectRef(
        location.bucket, obj.region, document_key(location.prefix, obj.bucket, obj.key)
    )


def result_status(job: Job, facts: UserDataFacts) -> str:
    """The status tag's value for this result (``ok`` or ``failed:<Code>``)."""
    tags = result_tags(job, facts, _STAMP_PREFIX, ())
    return dict(tags)[_STAMP_PREFIX + STATUS_FIELD]


def recorded_in(metadata: dict[str, str]) -> RecordedResult | None:
    """The result a document's metadata names; None when it names none we can read."""
    status = metadata.get(STATUS_META, "").strip()
    applied = parse_applied_job(metadata.get(JOB_META, ""))
    return RecordedResult(status, applied) if status and applied is not None else None


class ResultDocuments:
    """Writes result documents to one location; one instance per invocation or run."""

    def __init__(
        self,
        store: DocumentStore,
        location: ResultLocation,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._location = location
        self._clock = clock  # wall time: the document's written_at

    @property
    def location(self) -> ResultLocation:
        return self._location

    def write(
        self,
        obj: ObjectRef,
        job: Job,
        facts: UserDataFacts,
        head: ObjectHead,
        *,
        deadline: float | None = None,
    ) -> CallbackReply | None:
        """None when the document now holds this result; a reply when a newer one stands."""
        target = document_ref(self._location, obj)
        status = result_status(job, facts)
        stamp = format_applied_job(applied_job(job, facts))
        try:
            recorded = self._recorded(target, deadline)
            if recorded is not None and (recorded.status, format_applied_job(recorded.applied)) == (
                status,
                stamp,
            ):
                return None  # this job's document is there (e.g. the tags' PUT failed before)
            why_not = standing(job_stamp(job), describes_content(job), facts.etag, recorded)
            if why_not is not None:
                detail = "the result document holds a newer job's result or a success"
                return skipped(why_not, detail, job.job_id, obj.key)
            body = document_body(obj, job, facts, head, status=status, written_at=self._clock())
            self._store.put_object(
                target,
                document_bytes(body),
                content_type=CONTENT_TYPE,
                metadata={STATUS_META: status, JOB_META: stamp},
                deadline=deadline,
            )
        except (RemoteError, TransportError) as exc:
            raise DocumentWriteError(
                f"result document under {self._location.uri}: {exc}"[:300]
            ) from exc
        return None

    def _recorded(self, target: ObjectRef, deadline: float | None) -> RecordedResult | None:
        try:
            return recorded_in(self._store.head_metadata(target, deadline=deadline))
        except CosNotFoundError:
            return None


def result_documents(
    location: ResultLocation | None,
    store: DocumentStore,
    *,
    clock: Callable[[], float] = time.time,
) -> ResultDocuments | None:
    """The documents collaborator for ``JobResultWriter``; None when the feature is off."""
    return None if location is None else ResultDocuments(store, location, clock=clock)
