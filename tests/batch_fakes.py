"""Typed fakes of the batch ports (``shared.batch_jobs``): CI's batch API and small objects.

``FakeBatchEngine`` answers describe from ``batches`` and lists ``jobs[batch id]`` oldest first,
``page_size`` at a time, from ``start_creation_time`` (whole seconds, inclusive, as CI), chained
by next tokens "1", "2", ...; it records every listing in ``queries``. ``FakeBodies`` keeps
objects in a dict and records every PUT; ``fail_put_after`` makes the n-th later PUT raise (a
process killed mid-drain). Jobs are built by ``batch_job`` with CI's time text. No I/O here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from shared.batch_jobs import BatchJob, BatchPage, BatchRequest
from shared.models import Job, JobInput, JobOperation, JobsPage, ObjectRef
from shared.records import replace
from shared.time_window import parse_ci_time

if TYPE_CHECKING:
    from shared.batch_jobs import BatchEngine, ObjectBodies

CI_ZONE = timezone(timedelta(hours=8))
T0 = 1_700_000_000


def ci_text(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, CI_ZONE).strftime("%Y-%m-%dT%H:%M:%S%z")


def batch_job(
    number: int,
    *,
    second: int,
    state: str = "Success",
    key: str | None = None,
    bucket: str = "media-1250000000",
    user_data: str | None = "mtb1;r=r1",
) -> Job:
    return Job(
        job_id=f"j{number:032d}",
        state=state,
        tag="MediaInfo",
        code="Success" if state == "Success" else "InternalError",
        input=JobInput(bucket, key or f"k/{number:05d}.mp4", "ap-guangzhou"),
        operation=JobOperation(user_data=user_data),
        creation_time=ci_text(T0 + second),
        start_time=ci_text(T0 + second),
    )


class FakeBatchEngine:
    def __init__(self, *, page_size: int = 100) -> None:
        self.batches: dict[str, BatchJob] = {}
        self.jobs: dict[str, list[Job]] = {}
        self.page_size = page_size
        self.queries: list[dict[str, Any]] = []
        self.created: list[BatchRequest] = []
        self.cancelled: list[str] = []

    def create_batch(
        self, bucket: str, region: str, request: BatchRequest, *, deadline: float | None = None
    ) -> BatchJob:
        self.created.append(request)
        batch = BatchJob(f"b{len(self.created):032d}", "Submitted", name=request.name)
        self.batches[batch.job_id] = batch
        return batch

    def describe_batch(
        self, bucket: str, region: str, batch_id: str, *, deadline: float | None = None
    ) -> BatchJob | None:
        return self.batches.get(batch_id)

    def find_batches(
        self,
        bucket: str,
        region: str,
        *,
        name: str | None = None,
        states: tuple[str, ...] = (),
        size: int = 100,
        next_token: str | None = None,
        deadline: float | None = None,
    ) -> BatchPage:
        found = [b for b in self.batches.values() if name is None or b.name == name]
        return BatchPage(tuple(found))

    def cancel_batch(
        self, bucket: str, region: str, batch_id: str, *, deadline: float | None = None
    ) -> None:
        self.cancelled.append(batch_id)

    def list_batch_jobs(
        self,
        bucket: str,
        region: str,
        batch_id: str,
        *,
        start_creation_time: str | None = None,
        next_token: str | None = None,
        size: int = 100,
        deadline: float | None = None,
    ) -> JobsPage:
        self.queries.append({"start": start_creation_time, "token": next_token})
        start = parse_ci_time(start_creation_time) if start_creation_time else None
        listed = [
            job
            for job in self.jobs.get(batch_id, [])
            if start is None or (parse_ci_time(job.creation_time) or 0) >= start
        ]
        index = int(next_token or "0")
        page = listed[index * self.page_size : (index + 1) * self.page_size]
        more = len(listed) > (index + 1) * self.page_size
        return JobsPage(tuple(page), next_token=str(index + 1) if more else None)

    def finish(self, batch_id: str, number: int, state: str = "Success") -> None:
        """Job ``number`` of the batch ends in ``state``."""
        jobs = self.jobs[batch_id]
        for index, job in enumerate(jobs):
            if job.job_id == f"j{number:032d}":
                jobs[index] = replace(job, state=state)


class KilledError(Exception):
    """The process died (kill -9) in the middle of a PUT."""


class FakeBodies:
    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], bytes] = {}
        self.puts: list[str] = []
        self.fail_put_after: int | None = None

    def get_object_bytes(
        self, obj: ObjectRef, *, max_bytes: int, deadline: float | None = None
    ) -> bytes | None:
        return self.objects.get((obj.bucket, obj.key))

    def put_object_bytes(
        self, obj: ObjectRef, body: bytes, *, content_type: str, deadline: float | None = None
    ) -> None:
        if self.fail_put_after is not None:
            if self.fail_put_after == 0:
                raise KilledError(obj.key)
            self.fail_put_after -= 1
        self.puts.append(obj.key)
        self.objects[(obj.bucket, obj.key)] = body


def jobs_in_seconds(count: int, per_second: int, *, start: int = 0) -> Sequence[Job]:
    """``count`` finished jobs, ``per_second`` created in each second from ``start``."""
    return [batch_job(n, second=start + n // per_second) for n in range(count)]


if TYPE_CHECKING:  # mypy proves the fakes implement the ports; nothing runs here
    _ENGINE: BatchEngine = FakeBatchEngine()
    _BODIES: ObjectBodies = FakeBodies()
