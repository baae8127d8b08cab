"""Which job's result an object carries, folded into our ``etag`` tag so it costs no extra slot.

Wire form of the ``<prefix>etag`` value: ``<ETag>/<CreationTime, UTC, YYYYMMDDTHHMMSSZ>/<JobId>``,
e.g. ``d41d8cd98f00b204e9800998ecf8427e/20261201T092239Z/j229ed9e2f60c11ec8525e36307395bf9``.
Every character is in COS's narrowest tag charset (hex, digits, ``T``, ``Z``, ``/``, ``-``).
A bare ``<ETag>`` (what earlier versions wrote, or a job without a known CreationTime) still reads:
its job is then unknown and counts as older than any job we can place. ``recorded_result`` reads
our status and this tag back from an object's tag set. Pure: no I/O, no clock.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

from shared.media.tag_format import ETAG_FIELD, STATUS_FIELD
from shared.models import TagSet
from shared.records import record

# COS's and CI's clocks are taken to agree within this (shared.results.ordering states the rule).
CLOCK_SKEW_S = 1
STATUS_OK = "ok"
FAILED_PREFIX = "failed:"
STAMP_FORMAT = "%Y%m%dT%H%M%SZ"
SEPARATOR = "/"
_STAMP = re.compile(r"[0-9]{8}T[0-9]{6}Z")
_JOB_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")


@record
class AppliedJob:
    """The job whose result the tags hold: the object's ETag then, CI's creation second, its id."""

    etag: str
    created_s: int | None = None
    job_id: str | None = None


@record
class RecordedResult:
    """Our status tag and the applied job, as the object carries them now."""

    status: str
    applied: AppliedJob

    @property
    def succeeded(self) -> bool:
        return self.status == STATUS_OK


def format_stamp(epoch_s: int) -> str:
    return datetime.fromtimestamp(epoch_s, timezone.utc).strftime(STAMP_FORMAT)


def _parse_stamp(text: str) -> int | None:
    if not _STAMP.fullmatch(text):
        return None
    try:
        return int(datetime.strptime(text, STAMP_FORMAT).replace(tzinfo=timezone.utc).timestamp())
    except ValueError:  # e.g. month 13
        return None


def format_applied_job(applied: AppliedJob) -> str:
    """The ``etag`` tag value; the bare ETag when the job's time or id is unknown."""
    etag = applied.etag.strip('"')
    if applied.created_s is None or not applied.job_id or not _JOB_ID.fullmatch(applied.job_id):
        return etag
    return SEPARATOR.join((etag, format_stamp(applied.created_s), applied.job_id))


def parse_applied_job(value: str) -> AppliedJob | None:
    """The tag value back; None when it is empty or not one of the two forms above."""
    parts = value.split(SEPARATOR)
    etag = parts[0].strip()
    if not etag:
        return None
    if len(parts) == 1:
        return AppliedJob(etag)
    created = _parse_stamp(parts[1]) if len(parts) == 3 else None
    if created is None or not _JOB_ID.fullmatch(parts[2]):
        return None
    return AppliedJob(etag, created, parts[2])


def recorded_result(tags: TagSet, prefix: str) -> RecordedResult | None:
    """Our status and applied job on ``tags``; None unless both are there and readable."""
    values: dict[str, str] = {}
    for key, value in tags:
        if prefix and key.startswith(prefix):
            values.setdefault(key, value)  # the first occurrence wins
    status = values.get(prefix + STATUS_FIELD, "").strip()
    applied = parse_applied_job(values.get(prefix + ETAG_FIELD, ""))
    if not status or applied is None:
        return None
    return RecordedResult(status, applied)


def result_is_current(recorded: RecordedResult | None, etag: str, written_s: int | None) -> bool:
    """Do the tags already hold a final result for this content, written at ``written_s``
    (COS's clock: the object's Last-Modified or the upload event's time)?

    Our written statuses are final (transient failures are never written), so a result counts
    when its ETag is the content's and its job was created no earlier than the write, within the
    clock skew: a job created before the current incarnation existed was submitted for an
    earlier one. A bare ETag (earlier versions) or an unknown write time counts on the ETag alone.
    """
    if recorded is None or recorded.applied.etag.strip('"') != etag.strip('"'):
        return False
    created = recorded.applied.created_s
    if created is None or written_s is None:
        return True
    return created + CLOCK_SKEW_S >= written_s
