"""shared.results.ordering and the applied-job rules, pinned with values worked out by hand.

Job ids are 'j' + a UUID version 1 (as CI's are). The ids below were built with the standard
library's ``uuid.UUID(fields=...)`` from the times in their comments; the tests re-check each
id's time with ``uuid`` so a wrong constant cannot pass silently. Inside SECOND, the later job's
id sorts *before* the earlier one's (its time_low wrapped), so an order that fell back to the id
text would come out reversed.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest

from shared.media.applied_job import (
    AppliedJob,
    RecordedResult,
    format_stamp,
    recorded_result,
    result_is_current,
)
from shared.models import Job
from shared.results.ordering import (
    JobStamp,
    compare_stamps,
    failure_is_final,
    may_describe_earlier_incarnation,
    stamp_of,
    standing,
)
from tests.callback_helpers import job_from_detail

SECOND = 1_764_581_697  # 2025-12-01T09:34:57Z
CI_SECOND = "2025-12-01T17:34:57+0800"  # the same second as CI prints it
EARLY = "jffe47b00ce9811f092340242ac110002"  # SECOND + 0.2 s
LATE = "j00400880ce9911f092340242ac110002"  # SECOND + 0.8 s
AN_HOUR_ON = "j61a8e300cea111f092340242ac110002"  # SECOND + 3600.2 s: disagrees with SECOND
NOT_A_UUID = "jnotauuid0000000000000000000000"
_UUID_EPOCH_100NS = 0x01B21DD213814000


def id_time_s(job_id: str) -> float:
    return (uuid.UUID(hex=job_id[1:]).time - _UUID_EPOCH_100NS) / 1e7


def test_the_constants_are_what_their_comments_say() -> None:
    assert id_time_s(EARLY) == pytest.approx(SECOND + 0.2, abs=1e-6)
    assert id_time_s(LATE) == pytest.approx(SECOND + 0.8, abs=1e-6)
    assert id_time_s(AN_HOUR_ON) == pytest.approx(SECOND + 3600.2, abs=1e-6)
    assert LATE < EARLY  # the id text alone would order them the wrong way


def test_a_stamp_keeps_the_id_time_only_when_it_agrees_with_creation_time() -> None:
    assert stamp_of(LATE, SECOND) == JobStamp(LATE, SECOND, (SECOND * 10_000_000) + 8_000_000)
    assert stamp_of(AN_HOUR_ON, SECOND) == JobStamp(AN_HOUR_ON, SECOND, None)
    assert stamp_of(LATE, None) == JobStamp(LATE, SECOND, (SECOND * 10_000_000) + 8_000_000)
    assert stamp_of(NOT_A_UUID, SECOND) == JobStamp(NOT_A_UUID, SECOND, None)


def test_seconds_first_then_the_id_time_then_the_id() -> None:
    early, late = stamp_of(EARLY, SECOND), stamp_of(LATE, SECOND)
    assert compare_stamps(early, late) == -1
    assert compare_stamps(late, early) == 1
    assert compare_stamps(late, late) == 0
    next_second = stamp_of(NOT_A_UUID, SECOND + 1)
    assert compare_stamps(late, next_second) == -1  # an earlier second wins over any id
    undated = stamp_of(AN_HOUR_ON, SECOND)  # its id time was dropped: the ids decide
    assert compare_stamps(undated, stamp_of(NOT_A_UUID, SECOND)) == -1  # "j61..." < "jno..."


def test_a_job_that_cannot_be_placed_is_the_older() -> None:
    unplaced = JobStamp(NOT_A_UUID, None)
    placed = stamp_of(EARLY, SECOND)
    assert compare_stamps(unplaced, placed) == -1
    assert compare_stamps(placed, unplaced) == 1


def job(
    job_id: str = LATE,
    *,
    created: str | None = CI_SECOND,
    started: str | None = CI_SECOND,
    state: str = "Success",
    code: str | None = None,
) -> Job:
    return job_from_detail(
        job_id=job_id, creation_time=created, start_time=started, state=state, code=code
    )


@pytest.mark.parametrize(
    ("last_modified", "earlier"),
    [
        ("Mon, 01 Dec 2025 09:34:58 GMT", False),  # written 1 s after the read began: the skew
        ("Mon, 01 Dec 2025 09:34:59 GMT", True),  # 2 s after: an earlier incarnation was read
        ("Mon, 01 Dec 2025 09:34:50 GMT", False),
        (None, False),  # undecidable: ETag, size and the order still apply
        ("not a date", False),
    ],
)
def test_a_job_that_began_reading_before_the_write_is_stale(
    last_modified: str | None, earlier: bool
) -> None:
    assert may_describe_earlier_incarnation(job(), last_modified) is earlier


def test_the_read_begins_at_start_time_not_creation_time() -> None:
    queued = job(started="2025-12-01T17:35:07+0800")  # created SECOND, started 10 s later
    assert not may_describe_earlier_incarnation(queued, "Mon, 01 Dec 2025 09:35:02 GMT")
    unstarted = job(started=None)  # no StartTime: CreationTime stands in
    assert may_describe_earlier_incarnation(unstarted, "Mon, 01 Dec 2025 09:35:02 GMT")


@pytest.mark.parametrize(
    ("state", "code", "attempt", "final"),
    [
        ("Failed", "InternalError", 1, False),
        ("Failed", "InternalError", 2, False),
        ("Failed", "InternalError", 3, True),  # the third job's failure is written
        ("Failed", "ResourceNotSupported", 1, True),  # about the content: final at once
        ("Cancel", "Success", 1, True),  # a person cancelled it
    ],
)
def test_failures_not_about_the_content_wait_for_the_third_attempt(
    state: str, code: str, attempt: int, final: bool
) -> None:
    assert failure_is_final(job(state=state, code=code), attempt) is final


def recorded(status: str, etag: str, job_id: str | None = EARLY) -> RecordedResult:
    return RecordedResult(status, AppliedJob(etag, SECOND if job_id else None, job_id))


def test_an_older_job_never_replaces_a_newer_result() -> None:
    newer_on_object = recorded("ok", "e2", LATE)
    assert standing(stamp_of(EARLY, SECOND), True, "e2", newer_on_object) == "superseded"
    assert standing(stamp_of(LATE, SECOND), True, "e2", recorded("ok", "e1", EARLY)) is None
    assert standing(stamp_of(EARLY, SECOND), True, "e2", recorded("ok", "e1", None)) is None
    assert standing(stamp_of(EARLY, SECOND), True, "e2", None) is None


def test_for_the_same_content_a_success_beats_a_failure_whatever_the_order() -> None:
    success_on_object = recorded("ok", "e1", EARLY)
    assert standing(stamp_of(LATE, SECOND), False, "e1", success_on_object) == "success-kept"
    failure_on_object = recorded("failed:InternalError", "e1", LATE)
    assert standing(stamp_of(EARLY, SECOND), True, '"e1"', failure_on_object) is None
    # another content: the order decides, not the kind of result
    assert standing(stamp_of(LATE, SECOND), False, "e2", success_on_object) is None


@pytest.fixture
def shanghai_time() -> Iterator[None]:
    """The process's local zone set to UTC+8 (POSIX TZ text: no zone database needed)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TZ", "CST-8")
        time.tzset()
        yield
    time.tzset()


@pytest.mark.usefixtures("shanghai_time")
def test_the_applied_job_stamp_is_utc_whatever_the_local_zone() -> None:
    assert time.localtime(SECOND).tm_hour == 17  # the zone really changed
    assert format_stamp(SECOND) == "20251201T093457Z"


def test_our_first_status_and_etag_tags_are_the_ones_read() -> None:
    tags = (
        ("media:status", "ok"),
        ("media:etag", "e1"),
        ("media:status", "failed:X"),
        ("media:etag", "e2"),
    )
    assert recorded_result(tags, "media:") == RecordedResult("ok", AppliedJob("e1"))


@pytest.mark.parametrize(
    ("created", "written", "current"),
    [
        (SECOND, SECOND, True),
        (SECOND - 1, SECOND, True),  # within the 1 s clock skew
        (SECOND - 2, SECOND, False),  # created before this incarnation was written
        (SECOND, None, True),  # no write time: the ETag alone decides
    ],
)
def test_a_recorded_result_is_current_from_one_second_before_the_write(
    created: int, written: int | None, current: bool
) -> None:
    held = RecordedResult("ok", AppliedJob("e1", created, EARLY))
    assert result_is_current(held, "e1", written) is current
    assert result_is_current(held, "e2", written) is False
