"""A test hook that holds CI jobs after they start and before they read their object.

CI reads the object when a job runs, not when it is submitted; orderings such as "the job
starts, the object is deleted, the job fails ResourceNotFound" or "a job submitted for A reads
B" need the read to happen at a chosen moment. While ``hold`` is on, a job that a worker takes is
Running (its StartTime set) and waits here until ``release(job_id)``; it may be released with a
failure code instead of being probed. Off by default: the emulator behaves as before. Nothing
here speaks HTTP or touches the store.
"""

from __future__ import annotations

import threading


class JobGate:
    """Held job ids wait in ``wait`` until released (or the gate is opened or stopped)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._holding = False
        self._released: dict[str, str | None] = {}  # job id -> failure code (None: probe it)
        self._waiting: set[str] = set()
        self._stopped = False

    def hold(self, enabled: bool = True) -> None:
        """From now on, started jobs wait for ``release`` (False: let every job through)."""
        with self._cond:
            self._holding = enabled
            self._cond.notify_all()

    def release(self, job_id: str, fail_code: str | None = None) -> None:
        """Let ``job_id`` read its object now, or fail it with ``fail_code`` without reading."""
        with self._cond:
            self._released[job_id] = fail_code
            self._cond.notify_all()

    def waiting(self) -> set[str]:
        """The job ids that are held right now."""
        with self._cond:
            return set(self._waiting)

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()

    def wait(self, job_id: str) -> str | None:
        """Block while ``job_id`` is held; the failure code it was released with, if any."""
        with self._cond:
            if not self._holding and job_id not in self._released:
                return None
            self._waiting.add(job_id)
            try:
                self._cond.wait_for(
                    lambda: job_id in self._released or not self._holding or self._stopped
                )
            finally:
                self._waiting.discard(job_id)
            return self._released.pop(job_id, None)
