"""Backfill's wait: after submitting, make sure every job's result reached its object.

Backfill only submits; the deployed callback function writes the tags. A callback refused with
403 (the backfill's MEDIA_TAGGER_CALLBACK_SECRET differs from the callback function's), lost on
the way, or pointed at a wrong MEDIA_TAGGER_CALLBACK_URL leaves the object untagged while every
submission succeeded. So, by default, backfill polls each submitted object: GET ?tagging until
our status tag describes the submitted ETag (written), and GET /jobs/<id> while it does not. A
job that CI reports finished but whose result is still missing ``grace_s`` later is ``missing``;
one still unfinished at ``timeout_s`` is ``unfinished``. Either makes the command exit non-zero
with what to do. Polling costs one GET ?tagging per object and round, plus one GET /jobs/<id> per
object still waiting; rounds are ``poll_s`` apart. No HTTP here: the ports do it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from shared.errors import MediaTaggerError
from shared.media.applied_job import parse_applied_job
from shared.models import ObjectRef, TagSet
from shared.ports import MediaJobs, ObjectStore
from shared.records import record

DEFAULT_TIMEOUT_S = 900.0
DEFAULT_GRACE_S = 30.0  # a callback normally lands within seconds of the job's end
POLL_S = 1.0


@record
class SubmittedJob:
    key: str
    etag: str
    job_id: str


@record
class WaitReport:
    written: int
    missing: tuple[tuple[SubmittedJob, str], ...]  # (job, CI's final state)
    unfinished: tuple[SubmittedJob, ...]
    seconds: float

    @property
    def complete(self) -> bool:
        return not self.missing and not self.unfinished


def result_written(tags: TagSet, prefix: str, etag: str) -> bool:
    """Our status tag is there and describes ``etag`` (or the etag tag gave way to user tags)."""
    found = dict(tags)
    if prefix + "status" not in found:
        return False
    recorded = found.get(prefix + "etag")
    if recorded is None:
        return True
    applied = parse_applied_job(recorded)  # <ETag>[/<job time>/<job id>]
    return applied is not None and applied.etag.strip('"') == etag


class ResultWait:
    """Polls the submitted objects until each result is written, missing or out of time."""

    def __init__(
        self,
        store: ObjectStore,
        jobs: MediaJobs,
        bucket: str,
        region: str,
        tag_prefix: str,
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        grace_s: float = DEFAULT_GRACE_S,
        poll_s: float = POLL_S,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._store, self._jobs = store, jobs
        self._bucket, self._region, self._prefix = bucket, region, tag_prefix
        self._timeout_s, self._grace_s, self._poll_s = timeout_s, grace_s, poll_s
        self._clock, self._sleep = clock, sleep
        self._finished_at: dict[str, tuple[float, str]] = {}

    def wait(self, submitted: Sequence[SubmittedJob]) -> WaitReport:
        started = self._clock()
        pending = list(submitted)
        missing: list[tuple[SubmittedJob, str]] = []
        while True:
            still = []
            for job in pending:
                verdict = self._check(job)
                if verdict == "pending":
                    still.append(job)
                elif verdict != "written":
                    missing.append((job, verdict))
            pending = still
            elapsed = self._clock() - started
            if not pending or elapsed >= self._timeout_s:
                written = len(submitted) - len(missing) - len(pending)
                return WaitReport(written, tuple(missing), tuple(pending), elapsed)
            self._sleep(self._poll_s)

    def _check(self, job: SubmittedJob) -> str:
        """'written', 'pending', or the finished job's state once its grace time is over."""
        obj = ObjectRef(self._bucket, self._region, job.key)
        try:
            if result_written(self._store.get_object_tagging(obj), self._prefix, job.etag):
                return "written"
            if job.job_id not in self._finished_at:
                described = self._jobs.describe_job(self._bucket, self._region, job.job_id)
                if described is None or described.is_finished:
                    state = described.state if described else "unknown to CI"
                    self._finished_at[job.job_id] = (self._clock(), state)
        except MediaTaggerError:
            return "pending"  # transient read failures: ask again next round
        seen = self._finished_at.get(job.job_id)
        if seen is not None and self._clock() - seen[0] >= self._grace_s:
            return seen[1]
        return "pending"


def wait_summary(report: WaitReport, shown: int = 10) -> list[str]:
    """The lines backfill prints (stderr) after waiting."""
    lines = [
        f"waited {report.seconds:.1f} s for the results: {report.written} written, "
        f"{len(report.missing)} missing, {len(report.unfinished)} jobs not finished"
    ]
    for job, state in report.missing[:shown]:
        lines.append(f"  missing: {job.key!r} (job {job.job_id} {state}, result not on the object)")
    for job in report.unfinished[:shown]:
        lines.append(f"  not finished: {job.key!r} (job {job.job_id})")
    if report.missing:
        lines.append(
            "the jobs finished but their results were not written: the callback function "
            "refused or never got their callbacks (403: MEDIA_TAGGER_CALLBACK_SECRET differs "
            "from the callback function's; check MEDIA_TAGGER_CALLBACK_URL and the callback's "
            "log). Fix that, then `python -m shared reconcile` applies the finished results."
        )
    if report.unfinished:
        lines.append("jobs still running: wait longer (--wait-timeout) or run reconcile later")
    return lines
