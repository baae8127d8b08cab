"""Which result stands: jobs ordered by CI's own facts, checked against the current incarnation.

Three rules decide whether a verified job result may be written (docs "Ordering guarantees"):
1. **Order.** Jobs are ordered by CreationTime (CI prints whole seconds) and, inside one second,
   by the time in the JobId: CI's job ids are a letter + a UUID version 1, whose 100 ns timestamp
   matched CreationTime in every documented sample (research notes; Tencent never states it, so it
   is used only when it agrees with CreationTime within ``ID_TIME_TOLERANCE_S``). Two jobs that
   still cannot be told apart are ordered by job id, so every arrival order converges on the same
   tags. An older job's result never replaces a newer one's; arrival order never counts.
2. **Incarnation.** CI reads the object when the job runs, not when it was submitted, so a job
   that started before the object's current content was written (HEAD ``Last-Modified``) may
   describe an earlier incarnation even when ETag and size match (A -> B -> A, delete and
   re-create). Clock assumption: COS's and CI's clocks agree within ``CLOCK_SKEW_S`` (both are
   NTP-disciplined Tencent servers; nothing documents a bound). Both clocks print whole seconds,
   so a job whose read began at most about two seconds before the current write is taken as
   reading it; inside that window only rule 1 protects: the newer upload's own job is newer.
3. **Finality.** A failure that is not about the content (ResourceNotFound while the object
   exists, InternalError, access problems, ...) is not written as the object's status until the
   object has had ``MAX_JOB_ATTEMPTS`` jobs; ``PERMANENT_CODES`` are final at once. For the same
   content (same ETag), a success is never replaced by a failure and replaces one whatever the
   jobs' order: the result that read the content wins, so every arrival order ends the same.
Pure: no I/O, no clock of its own (times come from CI and COS answers).
"""

from __future__ import annotations

import uuid
from email.utils import parsedate_to_datetime

from shared.media.applied_job import CLOCK_SKEW_S, AppliedJob, RecordedResult
from shared.models import Job
from shared.records import record
from shared.time_window import parse_ci_time

ID_TIME_TOLERANCE_S = 2
MAX_JOB_ATTEMPTS = 3
NO_STREAMS_CODE = "NoMediaStreams"  # ours: CI succeeded but found no audio or video stream
# Failure codes that describe the content itself: final at the first job. Source: the CI error
# table (cos-ci-api.md 2.5: ResourceNotSupported = "bad / unsupported file"); CI publishes no list
# of a failed MediaInfo job's codes, so everything else is treated as possibly transient.
PERMANENT_CODES = frozenset({"ResourceNotSupported", NO_STREAMS_CODE})
FINAL_STATES = frozenset({"Cancel"})  # a person cancelled it: not retried by us
_UUID_EPOCH_100NS = 0x01B21DD213814000  # 1582-10-15 -> 1970-01-01 in 100 ns units


@record
class JobStamp:
    """Where a job stands in time: CI's creation second and, when trustworthy, the id's time."""

    job_id: str
    created_s: int | None
    id_time_100ns: int | None = None


def _uuid1_time_100ns(job_id: str) -> int | None:
    try:
        parsed = uuid.UUID(hex=job_id[1:])
    except ValueError:
        return None
    if parsed.version != 1 or parsed.variant != uuid.RFC_4122:
        return None
    return parsed.time - _UUID_EPOCH_100NS


def stamp_of(job_id: str, created_s: int | None) -> JobStamp:
    """The stamp of ``job_id`` created at ``created_s`` (the id's time kept only if it agrees)."""
    id_time = _uuid1_time_100ns(job_id)
    if (
        id_time is not None
        and created_s is not None
        and abs(id_time / 1e7 - created_s) > ID_TIME_TOLERANCE_S + 1
    ):
        id_time = None  # not the documented form: do not let it order anything
    if created_s is None and id_time is not None:
        created_s = id_time // 10_000_000
    return JobStamp(job_id, created_s, id_time)


def _ci_second(text: str | None) -> int | None:
    parsed = parse_ci_time(text)
    return None if parsed is None else int(parsed)


def job_stamp(job: Job) -> JobStamp:
    return stamp_of(job.job_id, _ci_second(job.creation_time))


def applied_stamp(applied: AppliedJob) -> JobStamp | None:
    """The stamp of the job an object's tags name; None for a bare ETag (an unknown job)."""
    if applied.job_id is None or applied.created_s is None:
        return None
    return stamp_of(applied.job_id, applied.created_s)


def compare_stamps(left: JobStamp, right: JobStamp) -> int:
    """-1 when ``left`` is the older job, 1 when it is the newer, 0 for the same job."""
    if left.job_id == right.job_id:
        return 0
    if (left.created_s is None) != (right.created_s is None):
        return -1 if left.created_s is None else 1  # a job we cannot place counts as older
    pairs = ((left.created_s, right.created_s), (left.id_time_100ns, right.id_time_100ns))
    for mine, theirs in pairs:
        if mine is not None and theirs is not None and mine != theirs:
            return -1 if mine < theirs else 1
    return -1 if left.job_id < right.job_id else 1  # deterministic: every order converges


def http_date_second(text: str | None) -> int | None:
    """HEAD's Last-Modified (RFC 7231 date) as epoch seconds; None when absent or unreadable."""
    if not text:
        return None
    try:
        return int(parsedate_to_datetime(text).timestamp())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def read_from_second(job: Job) -> int | None:
    """The earliest second CI can have read the object: StartTime, else CreationTime."""
    return _ci_second(job.start_time) or _ci_second(job.creation_time)


def may_describe_earlier_incarnation(job: Job, last_modified: str | None) -> bool:
    """True when the current content was written after the job began reading (rule 2)."""
    written = http_date_second(last_modified)
    read_from = read_from_second(job)
    if written is None or read_from is None:
        return False  # not decidable from the answers: ETag, size and rule 1 still apply
    return written > read_from + CLOCK_SKEW_S


def failure_code(job: Job) -> str:
    """What a failed or cancelled job's status says (a cancelled job may carry no code)."""
    return job.code if job.code and job.code != "Success" else job.state


def failure_is_final(job: Job, attempt: int) -> bool:
    """Rule 3: may this failure be written as the object's status?"""
    if job.state in FINAL_STATES or failure_code(job) in PERMANENT_CODES:
        return True
    return attempt >= MAX_JOB_ATTEMPTS


def standing(
    incoming: JobStamp, succeeded: bool, content_etag: str, recorded: RecordedResult | None
) -> str | None:
    """None when the incoming result may replace what the object carries; else why not."""
    if recorded is None:
        return None
    same_content = recorded.applied.etag.strip('"') == content_etag.strip('"')
    if same_content and recorded.succeeded != succeeded:
        return None if succeeded else "success-kept"  # rule 3, before the order of rule 1
    current = applied_stamp(recorded.applied)
    if current is not None and compare_stamps(incoming, current) < 0:
        return "superseded"
    return None
