"""Apply one finished MediaInfo job's verified result to its object: the callback after its checks.

Shared by the callback function (after token authentication), reconcile and backfill's drain. The
three reads (GET /jobs/<id>, HEAD, GET ?tagging) run concurrently; the job must exist, name the
same bucket and object, be a finished MediaInfo job and carry our UserData for the same version;
HEAD must still show the UserData's ETag and size, and the job must not predate the object's
current incarnation; a failure not about the content is not written until it is final; the
result must not be older than the one the object carries (``shared.results.ordering``). Our tags
are then merged with a tag read at most one COS round trip old and PUT only when they change.
With result documents on (a ``documents`` collaborator, ``shared.results.documents``), the
document is written first, when the tags would be written, so a tag saying ``ok`` always has
its document; a reply from it (a newer document) stops the write, an error leaves the tags as
they are. The outcome is a ``CallbackReply`` (``would-tag`` in dry-run mode). No
authentication and no logging here: callers do both.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from typing import Protocol

from shared.contract.object_key import names_key
from shared.contract.userdata import UserDataFacts, decode_user_data
from shared.errors import CosNotFoundError, ForbiddenError
from shared.media.applied_job import AppliedJob, recorded_result
from shared.media.tag_format import STATUS_FIELD, media_tags
from shared.media.tag_merge import (
    DEFAULT_OWN_TAGS,
    merge_tags,
    same_tags,
    status_tags_for_failure,
    status_tags_for_success,
)
from shared.models import Job, ObjectHead, ObjectRef, TagSet
from shared.ports import MediaJobs, ObjectStore
from shared.results.ordering import (
    NO_STREAMS_CODE,
    failure_code,
    failure_is_final,
    job_stamp,
    may_describe_earlier_incarnation,
    standing,
)
from shared.results.reads import CallbackReads, read_concurrently, read_tags_timed
from shared.results.reply import CallbackReply, skipped, unchanged

WOULD_TAG = "would-tag"
# What the PUT ?tagging would send: merged tags, our status value, our fields that did not fit.
TagPlan = tuple[TagSet, str, tuple[str, ...]]


class DocumentsFirst(Protocol):
    """Writes a verified result's document before its tags (``shared.results.documents``)."""

    def write(
        self,
        obj: ObjectRef,
        job: Job,
        facts: UserDataFacts,
        head: ObjectHead,
        *,
        deadline: float | None = None,
    ) -> CallbackReply | None:
        """None when the document is written (or already there); a reply when it must not be
        (the tags are then not written either); raises when the write failed."""
        ...


def applied_job(job: Job, facts: UserDataFacts) -> AppliedJob:
    stamp = job_stamp(job)
    return AppliedJob(facts.etag, stamp.created_s, job.job_id)


def result_tags(
    job: Job, facts: UserDataFacts, tag_prefix: str, tag_fields: Sequence[str]
) -> TagSet:
    """Our namespace's tags for a finished job (pure): status, etag, then the media fields."""
    info = job.operation.media_info
    applied = applied_job(job, facts)
    if not job.succeeded:
        return status_tags_for_failure(failure_code(job), applied, tag_prefix)
    if info is None or not (info.videos or info.audios):
        return status_tags_for_failure(NO_STREAMS_CODE, applied, tag_prefix)
    ours = status_tags_for_success(applied, tag_prefix)
    return ours + media_tags(info, tuple(tag_fields), tag_prefix)


def describes_content(job: Job) -> bool:
    """A success with at least one audio or video stream (else NoMediaStreams, a failure)."""
    info = job.operation.media_info
    return job.succeeded and info is not None and bool(info.videos or info.audios)


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


def current_content_check(job: Job, facts: UserDataFacts, head: ObjectHead) -> str | None:
    """Why ``job`` does not describe the object HEAD shows now, or None when it may."""
    if head.etag != facts.etag.strip('"') or head.size != facts.size:
        return "object changed since the job was submitted"
    if may_describe_earlier_incarnation(job, head.last_modified):
        return "the job began reading before the object's current content was written"
    return None


class JobResultWriter:
    """Writes verified job results; one instance per invocation (or per reconcile run)."""

    def __init__(
        self,
        store: ObjectStore,
        jobs: MediaJobs,
        *,
        tag_prefix: str,
        tag_fields: Sequence[str],
        own_tag_cap: int = DEFAULT_OWN_TAGS,
        deadline: float | None = None,
        executor: Executor | None = None,
        dry_run: bool = False,
        clock: Callable[[], float] = time.monotonic,
        documents: DocumentsFirst | None = None,
    ) -> None:
        self._store = store
        self._jobs = jobs
        self._prefix = tag_prefix
        self._fields = tuple(tag_fields)
        self._own_cap = own_tag_cap
        self._deadline = deadline
        self._executor = executor
        self._dry_run = dry_run
        self._clock = clock
        self._documents = documents

    def apply(self, obj: ObjectRef, job_id: str) -> CallbackReply:
        """Re-fetch, verify and write; raises MediaTaggerError for what the caller must map."""
        reads = read_concurrently(
            self._jobs,
            self._store,
            obj,
            job_id,
            deadline=self._deadline,
            executor=self._executor,
            clock=self._clock,
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
        stale = current_content_check(job, facts, head)
        if stale is not None:
            return skipped("stale", stale, job_id, obj.key)
        if not job.succeeded and not failure_is_final(job, facts.attempt):
            detail = f"{failure_code(job)} is not about the content (attempt {facts.attempt})"
            return skipped("transient-failure", detail, job_id, obj.key)
        refused = self._document_first(obj, job, facts, head, reads)
        return refused if refused is not None else self._write_fresh(obj, job, facts, reads)

    def _write_fresh(
        self, obj: ObjectRef, job: Job, facts: UserDataFacts, reads: CallbackReads
    ) -> CallbackReply:
        existing = self._fresh_tags(obj, reads)
        if existing is None:
            return skipped("object-gone", "GET tagging answered 404", job.job_id, obj.key)
        return self._write(obj, job, facts, existing)

    def _fresh_tags(self, obj: ObjectRef, reads: CallbackReads) -> TagSet | None:
        """The concurrent tag read if it is at most one round trip old now, else a new read."""
        timed = reads.timed_tags()
        if timed is None or timed.fresh_at(self._clock()):
            return None if timed is None else timed.tags
        try:
            return read_tags_timed(
                self._store, obj, deadline=self._deadline, clock=self._clock
            ).tags
        except CosNotFoundError:
            return None

    def _document_first(
        self, obj: ObjectRef, job: Job, facts: UserDataFacts, head: ObjectHead, reads: CallbackReads
    ) -> CallbackReply | None:
        """Write the document when the tags, as the concurrent read shows them, would be written
        (the tags' own decision is made again on a fresh read just after)."""
        early = reads.tags()
        if self._documents is None or self._dry_run or early is None:
            return None
        if isinstance(self._plan(obj, job, facts, early), CallbackReply):
            return None  # nothing to write: _write says why
        return self._documents.write(obj, job, facts, head, deadline=self._deadline)

    def _plan(
        self, obj: ObjectRef, job: Job, facts: UserDataFacts, existing: TagSet
    ) -> TagPlan | CallbackReply:
        """The tags to PUT over ``existing``, or the reply when nothing is to be written."""
        prefix = self._prefix
        why_not = standing(
            job_stamp(job), describes_content(job), facts.etag, recorded_result(existing, prefix)
        )
        if why_not is not None:
            detail = "the object carries a newer job's result or a success for this content"
            return skipped(why_not, detail, job.job_id, obj.key)
        ours = result_tags(job, facts, prefix, self._fields)
        merged, dropped = merge_tags(existing, ours, prefix, own_cap=self._own_cap)
        status_value = dict(ours)[prefix + STATUS_FIELD]
        if prefix + STATUS_FIELD not in dict(merged):
            reason = "10 tags outside our namespace: nothing fits"
            return skipped("tag-limit", reason, job.job_id, obj.key, dropped=dropped)
        if same_tags(merged, existing):
            return unchanged(status_value, job.job_id, obj.key, dropped=dropped)
        return merged, status_value, dropped

    def _write(
        self, obj: ObjectRef, job: Job, facts: UserDataFacts, existing: TagSet
    ) -> CallbackReply:
        plan = self._plan(obj, job, facts, existing)
        if isinstance(plan, CallbackReply):
            return plan
        merged, status_value, dropped = plan
        written = sum(1 for key, _ in merged if key.startswith(self._prefix))
        if self._dry_run:
            return CallbackReply(200, WOULD_TAG, status_value, job.job_id, obj.key, 0, dropped)
        try:
            self._store.put_object_tagging(obj, merged, deadline=self._deadline)
        except CosNotFoundError:
            return skipped("object-gone", "PUT tagging answered 404", job.job_id, obj.key)
        return CallbackReply(200, "tagged", status_value, job.job_id, obj.key, written, dropped)
