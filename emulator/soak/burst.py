"""The soak's burst phase: more uploads at once than CI's queue holds, and a pause in the middle.

The emulator's media queue is given a capacity of ``uploads / 10`` waiting jobs (issue 18: e.g.
2,000 uploads against 200) and ``concurrency`` running ones (CI's sample figure: 10). Submits
then meet 403 QueueSaturated; once half of the uploads are stored the queue is paused for
``pause_s`` seconds (403 QueuePaused), then resumed. The upload function must retry in place or
hand the records on until every job is accepted: the phase runs no reconcile, so a record that
was dropped shows as lost. ``QueueSampler`` watches the queue (peak waiting, how long it was
paused); ``burst_figures`` reads the drain from the jobs' own Start/End times and the upload
function's invocations (hand-ons, generations). No HTTP here: it pokes the emulator object.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from emulator.app import Emulator

SAMPLE_S = 0.1


@dataclass(frozen=True)
class BurstOptions:
    capacity: int  # MaxSize: jobs waiting
    concurrency: int = 10  # MaxConcurrent: jobs running
    pause_s: float = 3.0  # the queue is paused this long once half the uploads are stored


def burst_capacity(uploads: int, given: int | None = None) -> int:
    """``given``, else a tenth of the uploads (at least 1)."""
    return given if given is not None else max(1, uploads // 10)


class QueueSampler:
    """Samples the emulator's queue every ``SAMPLE_S`` on a thread; pauses it once, mid-upload."""

    def __init__(self, emulator: Emulator, options: BurstOptions, uploads: int) -> None:
        self._emulator, self._options = emulator, options
        self._pause_at = max(1, uploads // 2)
        self._stored = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="soak-queue", daemon=True)
        self.peak_waiting = 0
        self.paused_s = 0.0
        self.paused_after = 0  # uploads stored when the pause began

    def __enter__(self) -> QueueSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def stored(self, _index: int) -> None:
        """The soak driver's hook after each upload: pauses the queue at the half-way mark."""
        with self._lock:
            self._stored += 1
            due = self._stored == self._pause_at and self._options.pause_s > 0
            if due:
                self.paused_after = self._stored
        if due:
            self._emulator.server.configure_queue(state="Paused")
            threading.Timer(self._options.pause_s, self._resume, args=(time.monotonic(),)).start()

    def _resume(self, paused_at: float) -> None:
        self._emulator.server.configure_queue(state="Active")
        self.paused_s = time.monotonic() - paused_at

    def _watch(self) -> None:
        while not self._stop.wait(SAMPLE_S):
            self.peak_waiting = max(self.peak_waiting, self._emulator.server.queue.view().waiting)


def burst_figures(
    emulator: Emulator, sampler: QueueSampler, options: BurstOptions
) -> dict[str, Any]:
    """What the burst did: the queue's limits, the drain (from the jobs' Start/End times), the
    refusals (POST /jobs answered without a job) and the upload function's hand-ons."""
    jobs = emulator.server.jobs.all()
    ran = [job for job in jobs if job.start_time is not None and job.end_time is not None]
    span = (
        max(j.end_time or 0.0 for j in ran) - min(j.start_time or 0.0 for j in ran) if ran else 0.0
    )
    busy = sum((j.end_time or 0.0) - (j.start_time or 0.0) for j in ran)
    posts = emulator.stats().get("operations", {}).get("ci:POST", 0)
    hand_ons = [
        call.event["MediaTaggerHandOn"]
        for call in emulator.upload.invocations
        if "MediaTaggerHandOn" in call.event
    ]
    return {
        "capacity": options.capacity,
        "concurrency": options.concurrency,
        "paused_s": round(sampler.paused_s, 1),
        "paused_after_uploads": sampler.paused_after,
        "peak_waiting": sampler.peak_waiting,
        "jobs": len(jobs),
        "jobs_span_s": round(span, 1),
        "jobs_per_s": round(len(ran) / span, 1) if span else 0.0,
        "mean_job_s": round(busy / len(ran), 3) if ran else 0.0,
        "refused_submits": max(0, posts - len(jobs)),
        "hand_on_invocations": len(hand_ons),
        "max_generation": max((event["generation"] for event in hand_ons), default=0),
    }
