"""A token bucket that bounds how fast backfill submits CI jobs (``rate`` per second, ``burst``).

Kept as a theoretical arrival time (the GCRA form of a token bucket): each acquisition books the
next 1/rate seconds; a caller that is early sleeps exactly until its slot, once, and never loops
on the clock, so an injected clock and sleep make it deterministic in tests. Idle time refills at
most ``burst`` tokens. Not thread-safe: backfill's worker threads share one through
``shared.ops.shared_limiter.SharedLimiter``. ``RateLimitedJobs`` puts a ``Limiter`` (anything
with ``acquire``) in front of POST /jobs. No I/O of its own, no logging.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Protocol

from shared.models import Job, JobsPage
from shared.ports import MediaInfoJobRequest, MediaJobs

MAX_RATE = 1000.0


class Limiter(Protocol):
    def acquire(self) -> float:
        """Take one token, sleeping until it is available; returns the seconds slept."""


class TokenBucket:
    """At most ``burst`` acquisitions at once, ``rate`` per second on average."""

    def __init__(
        self,
        rate: float,
        *,
        burst: int = 1,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not 0 < rate <= MAX_RATE:
            raise ValueError(f"rate must be above 0 and at most {MAX_RATE:g} per second")
        if burst < 1:
            raise ValueError("burst must be at least 1")
        self._interval = 1.0 / rate
        self._tolerance = (burst - 1) * self._interval
        self._clock = clock
        self._sleep = sleep
        self._next_slot = clock()  # theoretical arrival time of the next acquisition
        self.waited_s = 0.0  # total time spent sleeping, for the progress display

    @property
    def rate(self) -> float:
        return 1.0 / self._interval

    def acquire(self) -> float:
        """Take one token, sleeping until it is available; returns the seconds slept."""
        now = self._clock()
        allowed_at = self._next_slot - self._tolerance
        waited = 0.0
        if now < allowed_at:
            waited = allowed_at - now
            self._sleep(waited)  # KeyboardInterrupt here leaves the slot unbooked
            now = allowed_at
            self.waited_s += waited
        self._next_slot = max(self._next_slot, now) + self._interval
        return waited


class RateLimitedJobs:
    """``MediaJobs`` whose POST /jobs waits for a token first; reads pass straight through."""

    def __init__(self, jobs: MediaJobs, bucket: Limiter) -> None:
        self._jobs = jobs
        self._bucket = bucket

    def submit_media_info_job(
        self,
        bucket: str,
        region: str,
        request: MediaInfoJobRequest,
        *,
        deadline: float | None = None,
    ) -> Job:
        self._bucket.acquire()
        return self._jobs.submit_media_info_job(bucket, region, request, deadline=deadline)

    def describe_job(
        self, bucket: str, region: str, job_id: str, *, deadline: float | None = None
    ) -> Job | None:
        return self._jobs.describe_job(bucket, region, job_id, deadline=deadline)

    def list_jobs(
        self,
        bucket: str,
        region: str,
        *,
        states: Sequence[str] = (),
        start_creation_time: str | None = None,
        end_creation_time: str | None = None,
        size: int = 100,
        next_token: str | None = None,
        order_by_time: str = "Desc",
        deadline: float | None = None,
    ) -> JobsPage:
        return self._jobs.list_jobs(
            bucket,
            region,
            states=states,
            start_creation_time=start_creation_time,
            end_creation_time=end_creation_time,
            size=size,
            next_token=next_token,
            order_by_time=order_by_time,
            deadline=deadline,
        )
