"""The reconcile use case: apply finished MediaInfo results whose callback never arrived, and
resubmit objects whose only job failed for a reason that was not about the content.

Lists the jobs of a creation-time window (GET /jobs?tag=MediaInfo, every page through nextToken),
keeps ours (UserData we wrote), groups them by object, orders each group newest first by CI's own
facts (``shared.results.ordering``) and, per object:
1. a job still Submitted or Running is newest: its callback is yet to come (``in-flight``);
2. GET ?tagging: when the newest job's result merged into the tags changes nothing, the object
   already carries it (``unchanged``; one request for the common case);
3. HEAD: the job to apply is the newest one that describes the object's current content (UserData
   ETag and size equal HEAD's, not begun before the current incarnation was written) and whose
   result is final (a success, a failure about the content, or the last allowed attempt);
4. ``JobResultWriter.apply``: the callback function's own path after authentication (it re-checks
   every rule, including that no newer result is on the object);
5. when the newest current job failed for a reason not about the content, a new job is submitted
   with the next attempt number (``resubmitted``), and when no job in the window read the current
   content (overwritten or re-created since), a new job is submitted for it; both need the upload
   function's settings (else ``transient-failure`` / ``stale`` is reported) and are skipped when
   the tags already hold a final result for the current content.
One decision line per object (and per foreign job); one object's error never stops the others.
A ``deadline`` stops starting new objects (the next run's window overlaps). No HTTP here.
"""

from __future__ import annotations

import functools
import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any

from shared.contract.batch import batch_run_of
from shared.contract.userdata import UserDataFacts, decode_user_data
from shared.decision_log import DecisionLog
from shared.errors import CosNotFoundError, MediaTaggerError
from shared.media.applied_job import recorded_result, result_is_current
from shared.media.tag_format import STATUS_FIELD
from shared.media.tag_merge import DEFAULT_OWN_TAGS, merge_tags, same_tags
from shared.models import Job, ObjectHead, ObjectRef, TagSet
from shared.ports import MediaJobs, ObjectStore
from shared.reconcile.listed_key import listed_object
from shared.reconcile.resubmit import Resubmit
from shared.records import record
from shared.results.ordering import (
    compare_stamps,
    failure_code,
    failure_is_final,
    http_date_second,
    job_stamp,
)
from shared.results.reply import CallbackReply, error_reply, skipped, unchanged
from shared.results.writer import (
    DocumentsFirst,
    JobResultWriter,
    current_content_check,
    describes_content,
    result_tags,
)
from shared.time_window import ci_time

LISTED_STATES = ("Submitted", "Running", "Success", "Failed")
PAGE_SIZE = 100
MAX_PAGES = 10_000  # a runaway nextToken loop stops here rather than never


@record
class ReconcileWindow:
    """Jobs created from ``start`` to ``end`` (epoch seconds, inclusive at CI's 1 s precision)."""

    start: float
    end: float

    @classmethod
    def ending_at(cls, now: float, window_s: float, settle_s: float) -> ReconcileWindow:
        """The timer's window: ``window_s`` back from now, leaving out the last ``settle_s``
        (those jobs' callbacks may still be on their way)."""
        return cls(now - window_s, now - settle_s)


@dataclass
class ReconcileSummary:
    jobs: int = 0
    objects: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    errors: int = 0  # objects that failed transiently (5xx after retries, timeouts)
    incomplete: bool = False  # the deadline stopped the run before every object was seen

    def add(self, other: ReconcileSummary) -> None:
        self.jobs += other.jobs
        self.objects += other.objects
        self.outcomes.update(other.outcomes)
        self.errors += other.errors
        self.incomplete = self.incomplete or other.incomplete

    def as_dict(self) -> dict[str, Any]:
        return {
            "jobs": self.jobs,
            "objects": self.objects,
            "outcomes": dict(sorted(self.outcomes.items())),
            "errors": self.errors,
            "incomplete": self.incomplete,
        }


def _newest_first(jobs: Sequence[Job]) -> list[Job]:
    """By CI's own order of jobs (creation second, then the job id's time; see ordering)."""
    stamps = {job.job_id: job_stamp(job) for job in jobs}

    def order(left: Job, right: Job) -> int:
        return compare_stamps(stamps[left.job_id], stamps[right.job_id])

    return sorted(jobs, key=functools.cmp_to_key(order), reverse=True)


class Reconciler:
    """Reconciles one bucket's window; one instance per run."""

    def __init__(
        self,
        store: ObjectStore,
        jobs: MediaJobs,
        log: DecisionLog,
        *,
        tag_prefix: str,
        tag_fields: Sequence[str],
        own_tag_cap: int = DEFAULT_OWN_TAGS,
        dry_run: bool = False,
        clock: Callable[[], float] = time.time,
        deadline: float | None = None,
        executor: Executor | None = None,
        resubmit: Resubmit | None = None,
        documents: DocumentsFirst | None = None,
    ) -> None:
        self._store = store
        self._jobs = jobs
        self._log = log
        self._prefix = tag_prefix
        self._fields = tuple(tag_fields)
        self._own_cap = own_tag_cap
        self._clock = clock
        self._deadline = deadline
        self._dry_run = dry_run
        self._resubmit = resubmit
        self._writer = JobResultWriter(
            store,
            jobs,
            tag_prefix=tag_prefix,
            tag_fields=tag_fields,
            own_tag_cap=own_tag_cap,
            deadline=deadline,
            executor=executor,
            dry_run=dry_run,
            documents=documents,
        )

    def run(self, bucket: str, region: str, window: ReconcileWindow) -> ReconcileSummary:
        summary = ReconcileSummary()
        listed = self.list_jobs(bucket, region, window)
        summary.jobs = len(listed)
        groups = self._group_by_object(bucket, region, listed)
        for obj, candidates in groups.items():
            if self._out_of_time():
                break
            reply = self._reconcile_logged(obj, candidates)
            summary.objects += 1
            summary.outcomes[_outcome_name(reply)] += 1
            summary.errors += reply.status >= 500
        summary.incomplete = self._out_of_time()
        if summary.incomplete:
            self._log.decision("stopped", bucket=bucket, reason="deadline", level=logging.WARNING)
        return summary

    def _out_of_time(self) -> bool:
        return self._deadline is not None and self._clock() >= self._deadline

    def list_jobs(self, bucket: str, region: str, window: ReconcileWindow) -> list[Job]:
        """Every MediaInfo job created in ``window`` that is queued, running or done, all pages."""
        found: list[Job] = []
        token: str | None = None
        for _ in range(MAX_PAGES):
            if self._out_of_time():
                break  # the jobs listed so far are still worth a look
            page = self._jobs.list_jobs(
                bucket,
                region,
                states=LISTED_STATES,
                start_creation_time=ci_time(window.start),
                end_creation_time=ci_time(window.end),
                size=PAGE_SIZE,
                next_token=token,
                order_by_time="Desc",
                deadline=self._deadline,
            )
            found.extend(page.jobs)
            if not page.next_token or page.next_token == token or not page.jobs:
                break
            token = page.next_token
        return found

    def _group_by_object(
        self, bucket: str, region: str, listed: Sequence[Job]
    ) -> dict[ObjectRef, list[Job]]:
        groups: dict[ObjectRef, list[Job]] = {}
        for job in listed:
            if batch_run_of(job.operation.user_data) is not None:
                continue  # a CI batch's job: its drain applies it (shared.reconcile.batch_drain)
            facts = decode_user_data(job.operation.user_data)
            key = job.input.object
            reason = _unusable(job, facts, bucket)
            if reason is not None or facts is None or not key:
                self._log.decision(
                    "skipped", bucket=bucket, key=key, job_id=job.job_id, reason=reason
                )
                continue
            obj = listed_object(self._store, bucket, region, key, facts, deadline=self._deadline)
            groups.setdefault(obj, []).append(job)
        return {obj: _newest_first(jobs) for obj, jobs in groups.items()}

    def _reconcile_logged(self, obj: ObjectRef, candidates: list[Job]) -> CallbackReply:
        started = self._clock()
        try:
            reply = self._reconcile(obj, candidates)
        except MediaTaggerError as exc:
            reply = error_reply(exc, job_id=candidates[0].job_id, key=obj.key)
        reply.log_to(self._log, bucket=obj.bucket, ms=round((self._clock() - started) * 1000))
        return reply

    def _reconcile(self, obj: ObjectRef, candidates: list[Job]) -> CallbackReply:
        newest = candidates[0]
        if not newest.is_finished:
            return skipped("in-flight", f"newest job is {newest.state}", newest.job_id, obj.key)
        try:
            existing = self._store.get_object_tagging(obj, deadline=self._deadline)
            if self._carries(existing, newest):
                status = dict(existing).get(self._prefix + STATUS_FIELD, "")
                return unchanged(status, newest.job_id, obj.key)
            head = self._store.head_object(obj, deadline=self._deadline)
        except CosNotFoundError:
            return skipped("object-gone", "the object answered 404", newest.job_id, obj.key)
        return self._choose(obj, head, candidates, existing)

    def _choose(
        self, obj: ObjectRef, head: ObjectHead, candidates: list[Job], existing: TagSet
    ) -> CallbackReply:
        current = [job for job in candidates if _describes_now(job, head)]
        if not current:  # overwritten (or re-created) since: the content now needs its own job
            return self._submit_current(obj, head, candidates[0], existing)
        if not current[0].is_finished:
            return skipped("in-flight", "a job for this content runs", current[0].job_id, obj.key)
        final = [job for job in current if _is_final(job)]
        # the newest success for this content, else the newest final failure (ordering rule 3)
        chosen = next((job for job in final if describes_content(job)), final[0] if final else None)
        if chosen is not None:
            return self._writer.apply(obj, chosen.job_id)
        return self._retry_transient(obj, head, current[0], existing)

    def _retry_transient(
        self, obj: ObjectRef, head: ObjectHead, failed: Job, existing: TagSet
    ) -> CallbackReply:
        """The newest job for this content failed for a reason not about it: submit the next
        attempt, unless the tags already hold a current final result."""
        attempt = _facts(failed).attempt + 1
        detail = f"{failure_code(failed)} (attempt {attempt - 1}) is not about the content"
        why = ("transient-failure", detail)
        return self._second_chance(obj, head, failed, existing, why=why, attempt=attempt)

    def _submit_current(
        self, obj: ObjectRef, head: ObjectHead, newest: Job, existing: TagSet
    ) -> CallbackReply:
        """No job in the window read the object's current content: submit one for it."""
        detail = "no job in the window describes the object's current content"
        return self._second_chance(obj, head, newest, existing, why=("stale", detail), attempt=1)

    def _second_chance(
        self,
        obj: ObjectRef,
        head: ObjectHead,
        job: Job,
        existing: TagSet,
        *,
        why: tuple[str, str],
        attempt: int,
    ) -> CallbackReply:
        """Submit a job for the current content (``attempt``) unless its result is already on
        the object; without upload settings, report ``why`` (reason, detail) instead."""
        recorded = recorded_result(existing, self._prefix)
        if result_is_current(recorded, head.etag, http_date_second(head.last_modified)):
            return unchanged(recorded.status if recorded else "", job.job_id, obj.key)
        reason, detail = why
        if self._resubmit is None:
            detail += "; no upload settings to submit a job"
            return skipped(reason, detail, job.job_id, obj.key)
        if self._dry_run:
            return CallbackReply(200, "would-resubmit", detail, job.job_id, obj.key)
        return self._resubmit(obj, head, attempt)

    def _carries(self, existing: TagSet, job: Job) -> bool:
        """True when writing ``job``'s result would leave the tags exactly as they are."""
        ours = result_tags(job, _facts(job), self._prefix, self._fields)
        merged, _ = merge_tags(existing, ours, self._prefix, own_cap=self._own_cap)
        return self._prefix + STATUS_FIELD in dict(merged) and same_tags(merged, existing)


def _describes_now(job: Job, head: ObjectHead) -> bool:
    """Same ETag and size as HEAD, and not begun before the current content was written."""
    facts = _facts(job)
    if facts.etag.strip('"') != head.etag or facts.size != head.size:
        return False
    return not job.is_finished or current_content_check(job, facts, head) is None


def _is_final(job: Job) -> bool:
    """A success (with or without streams) or a failure that may be written (ordering rule 3)."""
    return job.succeeded or failure_is_final(job, _facts(job).attempt)


def _unusable(job: Job, facts: UserDataFacts | None, bucket: str) -> str | None:
    """Why a listed job cannot be reconciled, or None."""
    if facts is None:
        return "unknown-provenance"  # not submitted by us (or UserData we cannot read)
    if not job.input.object or job.input.bucket_id != bucket:
        return "other-object"
    if not job.is_media_info:
        return "not-media-info"
    return None


def _facts(job: Job) -> UserDataFacts:
    facts = decode_user_data(job.operation.user_data)
    if facts is None:  # grouping keeps only jobs with our UserData
        raise AssertionError("a grouped job without our UserData")
    return facts


def _outcome_name(reply: CallbackReply) -> str:
    return f"skipped:{reply.reason}" if reply.outcome == "skipped" else reply.outcome
