"""Worker threads that run the media queue's jobs: ffprobe on the stored object -> MediaInfo.

One thread per running slot (the queue's MaxConcurrent; more are started when it is raised).
A job is Running as soon as a worker takes it, and ends ``2 * step_delay_s`` later (plus
ffprobe's time). A missing object fails the job with ResourceNotFound (reachable when the
emulator accepts jobs on missing objects, or when the object is deleted after submit);
unreadable media fail with ``MediaProbeError``'s code (``probe`` may be a ``ProbeCache``'s). A
test may hold a started job before it reads (``emulator.ci.gate``). A job cancelled while it
waited (its batch was cancelled) is not run. The finished snapshot goes to ``on_finished`` (the
callback dispatcher). Nothing here speaks HTTP.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from emulator.ci.gate import JobGate
from emulator.ci.jobs import JobRecord, JobStore
from emulator.ci.probe import MediaProbeError, probe_media_info
from emulator.ci.queue import MediaQueue, QueueView
from emulator.xmlreply import XmlNode

LOG = logging.getLogger(__name__)


class JobRunner:
    """Runs jobs taken from ``queue``; ``active`` counts jobs waiting or running."""

    def __init__(
        self,
        jobs: JobStore,
        queue: MediaQueue,
        *,
        resolve_object: Callable[[str, str], Path | None],
        ffprobe: str,
        on_finished: Callable[[JobRecord], None],
        step_delay_s: float = 0.05,
        probe_timeout_s: float = 30.0,
        probe: Callable[[str, Path, float], list[XmlNode]] = probe_media_info,
        gate: JobGate | None = None,
    ) -> None:
        self._jobs = jobs
        self._queue = queue
        self._resolve_object = resolve_object
        self._ffprobe = ffprobe
        self._on_finished = on_finished
        self._step_delay_s = step_delay_s
        self._probe_timeout_s = probe_timeout_s
        self._probe = probe
        self.gate = gate or JobGate()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._threads_lock = threading.Lock()
        self._started = False

    @property
    def active(self) -> int:
        return self._queue.active

    def start(self) -> None:
        self._started = True
        self._ensure_workers()

    def stop(self) -> None:
        self._stopping.set()
        self.gate.stop()
        self._queue.stop()
        with self._threads_lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout=5)

    def configure(
        self,
        *,
        state: str | None = None,
        max_size: int | None = None,
        max_concurrent: int | None = None,
        name: str | None = None,
        notify_config: tuple[tuple[str, str], ...] | None = None,
    ) -> QueueView:
        """``MediaQueue.configure`` plus worker threads for a raised concurrency."""
        view = self._queue.configure(
            state=state,
            max_size=max_size,
            max_concurrent=max_concurrent,
            name=name,
            notify_config=notify_config,
        )
        if self._started:
            self._ensure_workers()
        return view

    def _ensure_workers(self) -> None:
        with self._threads_lock:
            while len(self._threads) < self._queue.view().max_concurrent:
                number = len(self._threads)
                thread = threading.Thread(target=self._work, name=f"ci-job-{number}", daemon=True)
                thread.start()
                self._threads.append(thread)

    def _work(self) -> None:
        while True:
            job_id = self._queue.take()
            if job_id is None:
                return
            try:
                self._run(job_id)
            except Exception:  # a broken job must not kill the worker
                LOG.exception("job %s crashed", job_id)
            finally:
                self._queue.done()

    def _run(self, job_id: str) -> None:
        job = self._jobs.start(job_id)  # taken from the queue: Running, as the queue counts it
        if job.state == "Cancel":  # its batch was cancelled while it waited
            return
        if self._stopping.wait(2 * self._step_delay_s):
            return
        forced = self.gate.wait(job_id)  # a test may hold the read until a chosen moment
        media = None if forced else self._resolve_object(job.bucket, job.object_key)
        if forced:
            finished = self._jobs.finish(
                job_id, media_info=None, code=forced, message="failure injected by the gate"
            )
        elif media is None:
            finished = self._jobs.finish(
                job_id,
                media_info=None,
                code="ResourceNotFound",
                message="The specified input resource does not exist.",
            )
        else:
            try:
                nodes = self._probe(self._ffprobe, media, self._probe_timeout_s)
                finished = self._jobs.finish(job_id, media_info=nodes)
            except MediaProbeError as exc:
                finished = self._jobs.finish(
                    job_id, media_info=None, code=exc.code, message=exc.message
                )
        LOG.info("job %s %s (%s)", job_id, finished.state, finished.code)
        self._on_finished(finished)
