"""Apply one finished per-object job of a CI batch: the verified writer's checks, from HEAD.

A batch has one UserData and one CallBack for all its objects, so its per-object jobs carry no
ETag, size or attempt of their own (``JobResultWriter``'s UserData guard cannot apply). The job
comes from CI's own listing of the batch (signed, with our credentials), so it is not fetched
again; then, in this order:
1. provenance: a MediaInfo job of this bucket, finished; when it carries a UserData, the batch's;
   a Cancel (the batch was cancelled) writes nothing;
2. HEAD (404: gone) and the upload function's filters on the object as it is now (``accept``);
3. incarnation (ordering rule 2, ``may_describe_earlier_incarnation``'s rule made strict): the
   job must have begun reading (StartTime, else CreationTime) no earlier than CLOCK_SKEW_S before
   HEAD's Last-Modified; without either time nothing proves which content it read (stale);
4. finality (rule 3 with attempt 1): a failure not about the content is not written;
5. GET ?tagging: tags that already hold a final result for the current content stay (no PUT,
   unless this is a success replacing a failure: rule 3); an older job's result never replaces
   a newer one's (rule 1, ``standing``);
6. merge and PUT when the tags change, the result document first when documents are on
   (``documents``, as ``JobResultWriter`` writes it: a newer document stops the write, an error
   leaves the tags as they are). The etag tag records HEAD's ETag: a job that began reading
   after the current content was written describes that content.
HEAD and the tag read are sequential: a rejected job costs one request, and the tags are read
right before the PUT. Outcomes are ``CallbackReply`` values, as the callback's; no logging here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from shared.contract.userdata import UserDataFacts
from shared.errors import CosNotFoundError
from shared.media.applied_job import CLOCK_SKEW_S, recorded_result, result_is_current
from shared.media.tag_format import STATUS_FIELD
from shared.media.tag_merge import DEFAULT_OWN_TAGS, merge_tags, same_tags
from shared.models import Job, ObjectHead, ObjectRef, TagSet
from shared.ports import ObjectStore
from shared.records import record
from shared.results.ordering import (
    failure_code,
    failure_is_final,
    http_date_second,
    job_stamp,
    read_from_second,
    standing,
)
from shared.results.reply import CallbackReply, skipped, unchanged
from shared.results.writer import (
    WOULD_TAG,
    DocumentsFirst,
    TagPlan,
    describes_content,
    result_tags,
)

BATCH_ATTEMPT = 1  # the batch's job is the object's first; a resubmission is attempt 2
# Why an object is not one the upload function would tag (its filters), or None.
ObjectFilter = Callable[[str, int], "str | None"]


@record
class BatchFacts:
    """What the drain knows of the job's batch: its id and the UserData it was created with."""

    batch_id: str
    user_data: str | None = None


def provenance_check(obj: ObjectRef, job: Job, batch: BatchFacts) -> CallbackReply | None:
    """A reply when ``job`` is not a finished MediaInfo result of ``batch`` for ``obj``."""
    if not job.is_media_info:
        return skipped("not-media-info", "the job's Tag is not MediaInfo", job.job_id, obj.key)
    if job.input.bucket_id is not None and job.input.bucket_id != obj.bucket:
        return skipped("other-bucket", "the job names another bucket", job.job_id, obj.key)
    ours = job.operation.user_data
    if ours is not None and batch.user_data is not None and ours != batch.user_data:
        return skipped("unknown-provenance", "not the batch's UserData", job.job_id, obj.key)
    if not job.is_finished:
        return skipped("not-finished", f"job state is {job.state}", job.job_id, obj.key)
    if job.state == "Cancel":
        return skipped("cancelled", "the batch's job was cancelled", job.job_id, obj.key)
    return None


def batch_content_check(job: Job, head: ObjectHead) -> str | None:
    """Why ``job`` may not describe the content HEAD shows now, or None when it does."""
    written = http_date_second(head.last_modified)
    read_from = read_from_second(job)
    if written is None or read_from is None:
        return "no StartTime/CreationTime or Last-Modified to tell which content the job read"
    if written > read_from + CLOCK_SKEW_S:
        return "the object was written after the job began reading it"
    return None


class BatchResultWriter:
    """Writes the results of a batch's per-object jobs; one instance per drain."""

    def __init__(
        self,
        store: ObjectStore,
        *,
        tag_prefix: str,
        tag_fields: Sequence[str],
        accept: ObjectFilter,
        own_tag_cap: int = DEFAULT_OWN_TAGS,
        deadline: float | None = None,
        dry_run: bool = False,
        documents: DocumentsFirst | None = None,
    ) -> None:
        self._store = store
        self._prefix = tag_prefix
        self._fields = tuple(tag_fields)
        self._accept = accept
        self._own_cap = own_tag_cap
        self._deadline = deadline
        self._dry_run = dry_run
        self._documents = documents

    def head(self, obj: ObjectRef) -> ObjectHead | None:
        try:
            return self._store.head_object(obj, deadline=self._deadline)
        except CosNotFoundError:
            return None

    def apply(
        self, obj: ObjectRef, job: Job, batch: BatchFacts, head: ObjectHead | None = None
    ) -> CallbackReply:
        """Check and write ``job``'s result (``head``: a HEAD already read for ``obj``)."""
        refused = provenance_check(obj, job, batch)
        if refused is not None:
            return refused
        head = head or self.head(obj)
        if head is None:
            return skipped("object-gone", "HEAD answered 404", job.job_id, obj.key)
        refused = self._content_checks(obj, job, head)
        if refused is not None:
            return refused
        try:
            existing = self._store.get_object_tagging(obj, deadline=self._deadline)
        except CosNotFoundError:
            return skipped("object-gone", "GET tagging answered 404", job.job_id, obj.key)
        return self._write(obj, job, head, existing)

    def _content_checks(self, obj: ObjectRef, job: Job, head: ObjectHead) -> CallbackReply | None:
        """Filters, incarnation and finality against the object as HEAD shows it."""
        why_not = self._accept(obj.key, head.size)
        if why_not is not None:
            return skipped("filtered", why_not, job.job_id, obj.key)
        stale = batch_content_check(job, head)
        if stale is not None:
            return skipped("stale", stale, job.job_id, obj.key)
        if not job.succeeded and not failure_is_final(job, BATCH_ATTEMPT):
            detail = f"{failure_code(job)} is not about the content"
            return skipped("transient-failure", detail, job.job_id, obj.key)
        return None

    def _kept(self, obj: ObjectRef, job: Job, head: ObjectHead, existing: TagSet) -> str | None:
        """Why the tags stay as they are: already this job's, or a final current result."""
        recorded = recorded_result(existing, self._prefix)
        if recorded is not None and recorded.applied.job_id == job.job_id:
            return "same-job"
        written = http_date_second(head.last_modified)
        current = recorded is not None and result_is_current(recorded, head.etag, written)
        if current and recorded is not None and (recorded.succeeded or not describes_content(job)):
            return "already-tagged"
        return standing(job_stamp(job), describes_content(job), head.etag, recorded)

    def _write(self, obj: ObjectRef, job: Job, head: ObjectHead, existing: TagSet) -> CallbackReply:
        facts = UserDataFacts(etag=head.etag, size=head.size, attempt=BATCH_ATTEMPT)
        ours = result_tags(job, facts, self._prefix, self._fields)
        status_value = dict(ours)[self._prefix + STATUS_FIELD]
        kept = self._kept(obj, job, head, existing)
        if kept == "same-job":
            return unchanged(status_value, job.job_id, obj.key)
        if kept is not None:
            detail = "the object carries a final result for its content or a newer job's"
            return skipped(kept, detail, job.job_id, obj.key)
        merged, dropped = merge_tags(existing, ours, self._prefix, own_cap=self._own_cap)
        if self._prefix + STATUS_FIELD not in dict(merged):
            reason = "10 tags outside our namespace: nothing fits"
            return skipped("tag-limit", reason, job.job_id, obj.key, dropped=dropped)
        if same_tags(merged, existing):
            return unchanged(status_value, job.job_id, obj.key, dropped=dropped)
        return self._put(obj, job, facts, head, (merged, status_value, dropped))

    def _put(
        self, obj: ObjectRef, job: Job, facts: UserDataFacts, head: ObjectHead, plan: TagPlan
    ) -> CallbackReply:
        """The document first (when documents are on), then PUT ?tagging with ``plan``."""
        merged, status_value, dropped = plan
        if self._dry_run:
            return CallbackReply(200, WOULD_TAG, status_value, job.job_id, obj.key, 0, dropped)
        if self._documents is not None:
            refused = self._documents.write(obj, job, facts, head, deadline=self._deadline)
            if refused is not None:
                return refused
        try:
            self._store.put_object_tagging(obj, merged, deadline=self._deadline)
        except CosNotFoundError:
            return skipped("object-gone", "PUT tagging answered 404", job.job_id, obj.key)
        written = sum(1 for key, _ in merged if key.startswith(self._prefix))
        return CallbackReply(200, "tagged", status_value, job.job_id, obj.key, written, dropped)
