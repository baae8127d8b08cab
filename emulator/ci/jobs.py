"""CI MediaInfo jobs of the emulator: the job store, the JobsDetail shape, and the worker threads.

A job goes Submitted -> Running -> Success | Failed; each step waits ``step_delay_s``. The
MediaInfo comes from ffprobe on the stored object at run time (a missing object fails the job
with ResourceNotFound, as CI validates input asynchronously). When a job ends, the finished
snapshot is handed to ``on_finished`` (the callback dispatcher). Nothing here speaks HTTP.
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

from emulator.ci.probe import MediaProbeError, probe_media_info
from emulator.xmlreply import XmlNode

LOG = logging.getLogger(__name__)
CI_TIMEZONE = timezone(timedelta(hours=8))  # CI prints times in +0800
CI_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S%z"
FINISHED = frozenset({"Success", "Failed", "Cancel"})
WORKERS = 4


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
    ) -> JobRecord:
        with self._lock:
            job = JobRecord(
                job_id="j" + uuid.uuid1().hex,  # CI: a letter + a UUID version 1
                seq=next(self._seq),
                bucket=bucket,
                region=region,
                object_key=object_key,
                queue_id=queue_id,
                job_level=job_level,
                user_data=user_data,
                callback_url=callback_url,
                callback_format=callback_format,
                creation_time=self._clock(),
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

    def start(self, job_id: str) -> JobRecord:
        with self._lock:
            job = replace(self._jobs[job_id], state="Running", start_time=self._clock())
            self._jobs[job_id] = job
            return job

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


class JobRunner:
    """Worker threads that run queued jobs; ``active`` counts jobs not yet handed over."""

    def __init__(
        self,
        jobs: JobStore,
        *,
        resolve_object: Callable[[str, str], Path | None],
        ffprobe: str,
        on_finished: Callable[[JobRecord], None],
        step_delay_s: float = 0.05,
        probe_timeout_s: float = 30.0,
    ) -> None:
        self._jobs = jobs
        self._resolve_object = resolve_object
        self._ffprobe = ffprobe
        self._on_finished = on_finished
        self._step_delay_s = step_delay_s
        self._probe_timeout_s = probe_timeout_s
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._stopping = threading.Event()
        self._active = 0
        self._active_lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    @property
    def active(self) -> int:
        with self._active_lock:
            return self._active

    def start(self) -> None:
        for number in range(WORKERS):
            thread = threading.Thread(target=self._work, name=f"ci-job-{number}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stopping.set()
        for _ in self._threads:
            self._queue.put(None)
        for thread in self._threads:
            thread.join(timeout=5)

    def enqueue(self, job_id: str) -> None:
        with self._active_lock:
            self._active += 1
        self._queue.put(job_id)

    def _work(self) -> None:
        while True:
            job_id = self._queue.get()
            if job_id is None:
                return
            try:
                self._run(job_id)
            except Exception:  # a broken job must not kill the worker
                LOG.exception("job %s crashed", job_id)
            finally:
                with self._active_lock:
                    self._active -= 1

    def _run(self, job_id: str) -> None:
        if self._stopping.wait(self._step_delay_s):
            return
        job = self._jobs.start(job_id)
        if self._stopping.wait(self._step_delay_s):
            return
        media = self._resolve_object(job.bucket, job.object_key)
        if media is None:
            finished = self._jobs.finish(
                job_id,
                media_info=None,
                code="ResourceNotFound",
                message=f"The input object {job.object_key} does not exist",
            )
        else:
            try:
                nodes = probe_media_info(self._ffprobe, media, self._probe_timeout_s)
                finished = self._jobs.finish(job_id, media_info=nodes)
            except MediaProbeError as exc:
                finished = self._jobs.finish(
                    job_id, media_info=None, code=exc.code, message=exc.message
                )
        LOG.info("job %s %s (%s)", job_id, finished.state, finished.code)
        self._on_finished(finished)
