"""Backfill's submit pace that follows CI's queue: additive increase, multiplicative decrease.

``AdaptiveRate`` paces like a token bucket with a burst of 1 (``acquire`` books the next
``1 / rate`` seconds and sleeps until its slot, once; ``rate``, ``waited_s``) plus ``feedback``:
CI's answer to each POST /jobs.

- **Accepted** (``feedback(None)``): the rate grows by ``increase / rate`` jobs/s, i.e. by about
  ``increase`` jobs/s per second of accepted submissions, up to ``max_rate`` (the ``--rate``).
- **QueueSaturated or SlowDown**: the rate is multiplied by ``decrease`` (not below
  ``min_rate``), at most once per ``hold_s``: the refusals of one full moment, several submits
  in flight at once, count as one signal. The next slot is pushed one interval of the new rate
  away.
- **QueuePaused**: the queue takes nothing until an operator resumes it: the rate drops to
  ``min_rate`` (one probe per 1 / min_rate seconds) and grows again from there once accepted.

``AdaptiveJobs`` is the ``ports.MediaJobs`` that backfill submits through: each POST /jobs waits
for its slot; a submit refused with a queue signal is retried at the new pace until accepted or
``max_wait_s`` after its first try (then the refusal goes up: backfill keeps the key as
``retry``, never as failed). With a ``StopSignal`` (backfill's worker threads,
``shared.ops.stop_signal``), a submit that has not started once the run stops raises
``BackfillStopped`` instead; give ``AdaptiveRate`` the signal's ``sleep`` too, so a worker
waiting for its slot stops waiting. Its ``status_parts`` feed the progress line (pace, refusals
and the queue's fill from ``shared.ops.queue_fill``). Thread-safe; no I/O of its own, no logging.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

from shared.errors import CiError
from shared.models import Job, JobsPage
from shared.ops.queue_fill import QueueWatch
from shared.ops.stop_signal import StopSignal
from shared.ports import MediaInfoJobRequest, MediaJobs
from shared.upload.service import QUEUE_SIGNALS

MAX_RATE = 1000.0  # jobs/s: the most --rate accepts
MIN_RATE = 0.2  # jobs/s: one probe every 5 s while CI's queue is full or paused
INCREASE = 0.5  # jobs/s gained per second of accepted submissions
DECREASE = 0.5  # factor applied on QueueSaturated / SlowDown
HOLD_S = 1.0  # one decrease per this many seconds
MAX_WAIT_S = 900.0  # one object's submit is retried this long at most
PAUSED = "QueuePaused"


class AdaptiveRate:
    """At most ``rate`` acquisitions per second, the rate following ``feedback``."""

    def __init__(
        self,
        max_rate: float,
        *,
        min_rate: float = MIN_RATE,
        increase: float = INCREASE,
        decrease: float = DECREASE,
        hold_s: float = HOLD_S,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not 0 < min_rate <= max_rate:
            raise ValueError("rates must satisfy 0 < min_rate <= max_rate")
        if not 0 < decrease < 1 or increase <= 0:
            raise ValueError("decrease must be within (0, 1) and increase above 0")
        self.max_rate, self.min_rate = float(max_rate), float(min_rate)
        self._increase, self._decrease, self._hold_s = increase, decrease, hold_s
        self._clock, self._sleep = clock, sleep
        self._rate = self.max_rate
        self._next_slot = clock()
        self._decreased_at: float | None = None
        self._lock = threading.Lock()
        self.waited_s = 0.0  # total time spent sleeping, for the progress display

    @property
    def rate(self) -> float:
        with self._lock:
            return self._rate

    def acquire(self) -> float:
        """Take the next slot, sleeping until it comes; returns the seconds slept."""
        with self._lock:
            now = self._clock()
            slot = max(self._next_slot, now)
            self._next_slot = slot + 1.0 / self._rate
            waited = slot - now
            self.waited_s += waited
        if waited > 0:
            self._sleep(waited)
        return waited

    def feedback(self, signal: str | None) -> None:
        """CI's answer to one submit: None when accepted, else its queue signal's code."""
        with self._lock:
            now = self._clock()
            if signal is None:
                self._rate = min(self.max_rate, self._rate + self._increase / self._rate)
                return
            if signal == PAUSED:
                self._rate = self.min_rate
            elif self._decreased_at is None or now - self._decreased_at >= self._hold_s:
                self._rate = max(self.min_rate, self._rate * self._decrease)
                self._decreased_at = now
            self._next_slot = max(self._next_slot, now + 1.0 / self._rate)


class AdaptiveJobs:
    """``MediaJobs`` whose POST /jobs keeps ``pace`` and retries queue signals; reads pass."""

    def __init__(
        self,
        jobs: MediaJobs,
        pace: AdaptiveRate,
        watch: QueueWatch | None = None,
        *,
        max_wait_s: float = MAX_WAIT_S,
        clock: Callable[[], float] = time.monotonic,
        stop: StopSignal | None = None,
    ) -> None:
        self._jobs, self._pace, self._watch, self._stop = jobs, pace, watch, stop
        self._max_wait_s, self._clock = max_wait_s, clock
        self._lock = threading.Lock()
        # One slot taken at a time, its sleep included: once the run stops, the next thread
        # in line sees the signal before it books a slot (the slots follow each other anyway).
        self._slot_lock = threading.Lock()
        self.refused = 0  # submits CI refused with a queue signal (each retried)
        self.last_signal: str | None = None

    def submit_media_info_job(
        self,
        bucket: str,
        region: str,
        request: MediaInfoJobRequest,
        *,
        deadline: float | None = None,
    ) -> Job:
        first_try = self._clock()
        while True:
            with self._slot_lock:
                if self._stop is not None:
                    self._stop.check()  # the run is stopping: this worker must not submit
                self._pace.acquire()
            if self._watch is not None:
                self._watch.refresh_if_due(bucket, region)
            try:
                job = self._jobs.submit_media_info_job(bucket, region, request, deadline=deadline)
            except CiError as exc:
                if exc.code not in QUEUE_SIGNALS:
                    raise
                self._refused(exc.code)
                if deadline is not None or self._clock() - first_try >= self._max_wait_s:
                    raise  # a caller with a deadline (not backfill) retries its own way
                continue
            self._pace.feedback(None)
            with self._lock:
                self.last_signal = None
            return job

    def _refused(self, code: str) -> None:
        self._pace.feedback(code)
        if self._watch is not None:
            self._watch.saw(code)
        with self._lock:
            self.refused += 1
            self.last_signal = code

    def status_parts(self) -> Sequence[str]:
        """For the progress line: 'pace 2.5/5 jobs/s', 'refused 3 (QueueSaturated)', 'queue …'."""
        parts = [f"pace {self._pace.rate:.1f}/{self._pace.max_rate:g} jobs/s"]
        with self._lock:
            refused, signal = self.refused, self.last_signal
        if refused:
            parts.append(f"refused {refused}" + (f" ({signal})" if signal else ""))
        if self._watch is not None:
            parts.append(self._watch.text())
        return parts

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
