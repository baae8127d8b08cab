"""CI MediaInfo jobs of the emulator: the job store, CI's job ids, and the JobsDetail shape.

A job goes Submitted (Pause while its queue is paused) -> Running -> Success | Failed, or to
Cancel before it starts when its batch is cancelled; the queue (``emulator.ci.queue``) decides
when, the runner (``emulator.ci.runner``) does the work.
Job ids are CI's: ``j`` + a UUID version 1 whose time is the job's CreationTime and whose node is
random with the multicast bit set, as in every CI sample (research ci-facts.md section 5).
Snapshots are immutable. Nothing here speaks HTTP or runs ffprobe.
"""

from __future__ import annotations

import itertools
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone

from emulator.xmlreply import XmlNode

CI_TIMEZONE = timezone(timedelta(hours=8))  # CI prints times in +0800
CI_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S%z"
FINISHED = frozenset({"Success", "Failed", "Cancel"})
JOB_ID_PREFIX = "j"
_UUID_EPOCH_TICKS = 0x01B21DD213814000  # 100 ns ticks from 1582-10-15 to 1970-01-01
_MULTICAST_BIT = 1 << 40  # a random node id, not a MAC address (RFC 4122 section 4.5)


def new_job_id(epoch: float, prefix: str = JOB_ID_PREFIX) -> str:
    """``j`` + the hex of a UUIDv1 stamped with ``epoch`` (microsecond precision)."""
    ticks = int(epoch * 1_000_000) * 10 + _UUID_EPOCH_TICKS
    clock_seq = secrets.randbits(14)
    fields = (
        ticks & 0xFFFFFFFF,
        (ticks >> 32) & 0xFFFF,
        (ticks >> 48) & 0x0FFF,
        clock_seq >> 8,
        clock_seq & 0xFF,
        secrets.randbits(48) | _MULTICAST_BIT,
    )
    return prefix + uuid.UUID(fields=fields, version=1).hex


def job_id_time(job_id: str) -> float | None:
    """The Unix time inside a UUIDv1 job id, or None when ``job_id`` is not one."""
    try:
        parsed = uuid.UUID(hex=job_id[1:])
    except ValueError:
        return None
    if parsed.version != 1:
        return None
    return (parsed.time - _UUID_EPOCH_TICKS) / 10_000_000


def ci_time(epoch: float | None) -> str:
    """``2022-06-27T15:23:10+0800``; unset times are ``-`` as in CI answers."""
    if epoch is None:
        return "-"
    return datetime.fromtimestamp(epoch, CI_TIMEZONE).strftime(CI_TIME_FORMAT)


@dataclass(frozen=True)
class JobRecord:
    job_id: str
    seq: int
    bucket: str
    region: str
    object_key: str
    queue_id: str
    job_level: str
    user_data: str | None
    callback_url: str | None
    callback_format: str
    creation_time: float
    state: str = "Submitted"
    code: str = "Success"
    message: str = ""
    start_time: float | None = None
    end_time: float | None = None
    media_info: tuple[XmlNode, ...] | None = None
    batch_id: str | None = None  # the inventorytriggerjob that created it (emulator.ci.batches)


def job_detail_nodes(job: JobRecord) -> list[XmlNode]:
    """The children of one ``<JobsDetail>`` (cos-ci-api.md 2.2 / 5)."""
    operation: list[XmlNode] = []
    if job.media_info is not None:
        operation.append(("MediaInfo", list(job.media_info)))
    if job.user_data is not None:
        operation.append(("UserData", job.user_data))
    operation.append(("JobLevel", job.job_level))
    return [
        ("Code", job.code),
        ("Message", job.message or None),
        ("JobId", job.job_id),
        ("State", job.state),
        ("CreationTime", ci_time(job.creation_time)),
        ("StartTime", ci_time(job.start_time)),
        ("EndTime", ci_time(job.end_time)),
        ("QueueId", job.queue_id),
        ("Tag", "MediaInfo"),
        ("Input", [("BucketId", job.bucket), ("Object", job.object_key), ("Region", job.region)]),
        ("Operation", operation),
    ]


class JobStore:
    """All jobs, by id; thread-safe; hands out immutable snapshots."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._jobs: dict[str, JobRecord] = {}
        self._seq = itertools.count(1)

    def create(
        self,
        *,
        bucket: str,
        region: str,
        object_key: str,
        queue_id: str,
        job_level: str,
        user_data: str | None,
        callback_url: str | None,
        callback_format: str,
        batch_id: str | None = None,
    ) -> JobRecord:
        with self._lock:
            created = self._clock()
            job_id = new_job_id(created)
            while job_id in self._jobs:  # 61 random bits; a frozen test clock must not collide
                job_id = new_job_id(created)
            job = JobRecord(
                job_id=job_id,
                seq=next(self._seq),
                bucket=bucket,
                region=region,
                object_key=object_key,
                queue_id=queue_id,
                job_level=job_level,
                user_data=user_data,
                callback_url=callback_url,
                callback_format=callback_format,
                creation_time=created,
                batch_id=batch_id,
            )
            self._jobs[job.job_id] = job
            return job

    def get(self, job_id: str) -> JobRecord | None:
        with self._lock:
            return self._jobs.get(job_id)

    def all(self) -> list[JobRecord]:
        """Every job, oldest first."""
        with self._lock:
            return sorted(self._jobs.values(), key=lambda job: job.seq)

    def set_waiting_state(self, job_ids: Iterable[str], state: str) -> None:
        """Pause or Submitted for jobs still waiting in a queue that was paused or resumed."""
        with self._lock:
            for job_id in job_ids:
                job = self._jobs.get(job_id)
                if job is not None and job.state in ("Submitted", "Pause"):
                    self._jobs[job_id] = replace(job, state=state)

    def start(self, job_id: str) -> JobRecord:
        """Running from now; a job cancelled while it waited stays Cancel (and is not run)."""
        with self._lock:
            job = self._jobs[job_id]
            if job.state == "Cancel":
                return job
            job = replace(job, state="Running", start_time=self._clock())
            self._jobs[job_id] = job
            return job

    def unfinished(self, job_ids: Iterable[str]) -> set[str]:
        """Those of ``job_ids`` not finished yet (an unknown id counts as finished)."""
        with self._lock:
            return {
                job_id
                for job_id in job_ids
                if job_id in self._jobs and self._jobs[job_id].state not in FINISHED
            }

    def cancel_waiting(self, job_ids: Iterable[str]) -> int:
        """Cancel the jobs of ``job_ids`` that have not started (their batch was cancelled)."""
        cancelled = 0
        with self._lock:
            for job_id in job_ids:
                job = self._jobs.get(job_id)
                if job is not None and job.state in ("Submitted", "Pause"):
                    self._jobs[job_id] = replace(
                        job, state="Cancel", code="Cancel", end_time=self._clock()
                    )
                    cancelled += 1
        return cancelled

    def finish(
        self,
        job_id: str,
        *,
        media_info: list[XmlNode] | None,
        code: str = "Success",
        message: str = "",
    ) -> JobRecord:
        with self._lock:
            job = replace(
                self._jobs[job_id],
                state="Success" if media_info is not None else "Failed",
                code=code,
                message=message,
                end_time=self._clock(),
                media_info=tuple(media_info) if media_info is not None else None,
            )
            self._jobs[job_id] = job
            return job
