"""Apply one finished MediaInfo job's verified result to its object: the callback after its checks.

Shared by the callback function (after token authentication) and ``reconcile``: the three reads
(GET /jobs/<id>, HEAD, GET ?tagging) run concurrently; the job must exist, name the same bucket
and object, be finished and carry our UserData for the same version; HEAD must still show the
UserData's ETag and size (stale guard); our tags are computed, merged with the object's tags and
PUT only when the merged set differs. The outcome is a ``CallbackReply`` (the callback's reply
vocabulary; ``would-tag`` in dry-run mode). No authentication and no logging here: callers do both.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Executor

from shared.contract.object_key import names_key
from shared.contract.userdata import UserDataFacts, decode_user_data
from shared.errors import CosNotFoundError, ForbiddenError
from shared.media.tag_format import STATUS_FIELD, media_tags
from shared.media.tag_merge import (
    merge_tags,
    same_tags,
    status_tags_for_failure,
    status_tags_for_success,
)
from shared.models import Job, ObjectRef, TagSet
from shared.ports import MediaJobs, ObjectStore
from shared.results.reads import CallbackReads, read_concurrently
from shared.results.reply import CallbackReply, skipped, unchanged

NO_STREAMS_CODE = "NoMediaStreams"
WOULD_TAG = "would-tag"


def result_tags(
    job: Job, facts: UserDataFacts, tag_prefix: str, tag_fields: Sequence[str]
) -> TagSet:
    """Our namespace's tags for a finished job (pure): status, etag, then the media fields."""
    info = job.operation.media_info
    if not job.succeeded:
        # A cancelled job may carry no code (or "Success"): its state then says what happened.
        code = job.code if job.code and job.code != "Success" else job.state
        return status_tags_for_failure(code, facts.etag, tag_prefix)
    if info is None or not (info.videos or info.audios):
        return status_tags_for_failure(NO_STREAMS_CODE, facts.etag, tag_prefix)
    ours = status_tags_for_success(facts.etag, tag_prefix)
    return ours + media_tags(info, tuple(tag_fields), tag_prefix)


def verified_job(
    obj: ObjectRef, job_id: str, job: Job | None
) -> tuple[Job, UserDataFacts] | CallbackReply:
    """GET /jobs' answer checked against ``obj``; a reply when we stop there."""
    if job is None:
        return skipped("unknown-job", "CI does not know this JobId", job_id, obj.key)
    if not job.is_media_info:  # e.g. a Transcode job: its MediaInfo is not a result we asked for
        return skipped("not-media-info", "the job's Tag is not MediaInfo", job_id, obj.key)
    if job.input.bucket_id != obj.bucket or not names_key(job.input.object, obj.key):
        raise ForbiddenError("the job names another bucket or object than the callback")
    if not job.is_finished:
        return skipped("not-finished", f"job state is {job.state}", job_id, obj.key)
    facts = decode_user_data(job.operation.user_data)
    if facts is None:
        return skipped("unknown-provenance", "job UserData is not ours", job_id, obj.key)
    if facts.version_id != obj.version_id:
        raise ForbiddenError("the callback's UserData differs from the job's")
    return job, facts


class JobResultWriter:
    """Writes verified job results; one instance per invocation (or per reconcile run)."""

    def __init__(
        self,
        store: ObjectStore,
        jobs: MediaJobs,
        *,
        tag_prefix: str,
        tag_fields: Sequence[str],
        deadline: float | None = None,
        executor: Executor | None = None,
        dry_run: bool = False,
    ) -> None:
        self._store = store
        self._jobs = jobs
        self._prefix = tag_prefix
        self._fields = tuple(tag_fields)
        self._deadline = deadline
        self._executor = executor
        self._dry_run = dry_run

    def apply(self, obj: ObjectRef, job_id: str) -> CallbackReply:
        """Re-fetch, verify and write; raises MediaTaggerError for what the caller must map."""
        reads = read_concurrently(
            self._jobs,
            self._store,
            obj,
            job_id,
            deadline=self._deadline,
            executor=self._executor,
        )
        return self._apply(obj, job_id, reads)

    def _apply(self, obj: ObjectRef, job_id: str, reads: CallbackReads) -> CallbackReply:
        verdict = verified_job(obj, job_id, reads.job())
        if isinstance(verdict, CallbackReply):
            return verdict
        job, facts = verdict
        head = reads.head()
        if head is None:
            return skipped("object-gone", "HEAD answered 404", job_id, obj.key)
        if head.etag != facts.etag.strip('"') or head.size != facts.size:
            return skipped("stale", "object changed since the job was submitted", job_id, obj.key)
        existing = reads.tags()
        if existing is None:
            return skipped("object-gone", "GET tagging answered 404", job_id, obj.key)
        return self._write(obj, job, facts, existing)

    def _write(
        self, obj: ObjectRef, job: Job, facts: UserDataFacts, existing: TagSet
    ) -> CallbackReply:
        prefix = self._prefix
        ours = result_tags(job, facts, prefix, self._fields)
        merged, dropped = merge_tags(existing, ours, prefix)
        status_value = dict(ours)[prefix + STATUS_FIELD]
        if prefix + STATUS_FIELD not in dict(merged):
            reason = "10 tags outside our namespace: nothing fits"
            return skipped("tag-limit", reason, job.job_id, obj.key, dropped=dropped)
        if same_tags(merged, existing):
            return unchanged(status_value, job.job_id, obj.key, dropped=dropped)
        written = sum(1 for key, _ in merged if key.startswith(prefix))
        if self._dry_run:
            return CallbackReply(200, WOULD_TAG, status_value, job.job_id, obj.key, 0, dropped)
        try:
            self._store.put_object_tagging(obj, merged, deadline=self._deadline)
        except CosNotFoundError:
            return skipped("object-gone", "PUT tagging answered 404", job.job_id, obj.key)
        return CallbackReply(200, "tagged", status_value, job.job_id, obj.key, written, dropped)
