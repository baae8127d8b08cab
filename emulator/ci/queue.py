"""The emulator's one CI media queue: capacity, concurrency, Active / Paused, waiting jobs.

CI's queue describe API (research ci-facts.md 1.1) shows ``MaxSize`` ("maximum length of the
queue") and ``MaxConcurrent`` ("maximum number of concurrent jobs"), 10000 and 10 on every
sample: those are the defaults. MaxSize bounds the jobs waiting to run (a submit to a full queue
is 403 QueueSaturated), MaxConcurrent the jobs running at once. A paused queue refuses new jobs
with 403 QueuePaused (CI error table), keeps its waiting jobs, shown as State=Pause (the job
list doc), and lets running jobs finish (the update-queue API doc; the console doc says they
stop, ci-facts.md 1.2). Waiting jobs run by JobLevel (2 first), then in order of submission
(console doc). Thread-safe; no I/O; job records are the caller's.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from emulator.wire import ServiceError

DEFAULT_QUEUE_ID = "p" + "0" * 24 + "10ca1e00"
DEFAULT_QUEUE_NAME = "queue-1"  # the queue CI creates when media processing is enabled
DEFAULT_MAX_SIZE = 10_000
DEFAULT_MAX_CONCURRENT = 10
MAX_CONCURRENT_LIMIT = 64  # one worker thread per running job on this machine
ACTIVE, PAUSED = "Active", "Paused"
QUEUE_STATES = (ACTIVE, PAUSED)
# Documented NotifyConfig fields (PUT /queue/<id>); the emulator stores and echoes them only.
DEFAULT_NOTIFY_CONFIG = (
    ("Url", ""),
    ("Event", "TaskFinish,WorkflowFinish"),
    ("Type", "Url"),
    ("State", "Off"),
    ("ResultFormat", "XML"),
)
_T = TypeVar("_T")


@dataclass(frozen=True)
class QueueView:
    """A snapshot of the queue for the describe API, the admin endpoint and stats."""

    queue_id: str
    name: str
    state: str
    max_size: int
    max_concurrent: int
    waiting: int
    running: int
    create_time: float
    update_time: float
    notify_config: tuple[tuple[str, str], ...]

    def summary(self) -> dict[str, object]:
        """The figures as JSON (stats and the admin endpoint)."""
        names = ("queue_id", "name", "state", "max_size", "max_concurrent", "waiting", "running")
        return {name: getattr(self, name) for name in names}


def check_limits(max_size: int | None, max_concurrent: int | None) -> None:
    """ValueError for a capacity below 1 or a concurrency outside 1..MAX_CONCURRENT_LIMIT."""
    if max_size is not None and (isinstance(max_size, bool) or max_size < 1):
        raise ValueError(f"max_size must be a whole number >= 1, not {max_size!r}")
    if max_concurrent is not None and (
        isinstance(max_concurrent, bool) or not 1 <= max_concurrent <= MAX_CONCURRENT_LIMIT
    ):
        raise ValueError(
            f"max_concurrent must be 1..{MAX_CONCURRENT_LIMIT}, not {max_concurrent!r}"
        )


class MediaQueue:
    """``on_waiting_state(ids, state)`` marks waiting jobs Pause / Submitted (called locked)."""

    def __init__(
        self,
        *,
        max_size: int = DEFAULT_MAX_SIZE,
        max_concurrent: int = DEFAULT_MAX_CONCURRENT,
        clock: Callable[[], float] = time.time,
        on_waiting_state: Callable[[list[str], str], None] = lambda ids, state: None,
    ) -> None:
        check_limits(max_size, max_concurrent)
        self._clock = clock
        self._on_waiting_state = on_waiting_state
        self._cond = threading.Condition()
        self._waiting: list[tuple[int, int, str]] = []  # (-JobLevel, order, job id)
        self._order = itertools.count()
        self._running = 0
        self._stopped = False
        created = clock()
        self._view = QueueView(
            queue_id=DEFAULT_QUEUE_ID,
            name=DEFAULT_QUEUE_NAME,
            state=ACTIVE,
            max_size=max_size,
            max_concurrent=max_concurrent,
            waiting=0,
            running=0,
            create_time=created,
            update_time=created,
            notify_config=DEFAULT_NOTIFY_CONFIG,
        )

    def admit(self, job_level: int, create: Callable[[], _T], job_id: Callable[[_T], str]) -> _T:
        """Create the job (``create``) and queue it, or raise 403 QueuePaused / QueueSaturated."""
        with self._cond:
            if self._view.state == PAUSED:
                raise ServiceError(403, "QueuePaused", "The queue is suspended.")
            if len(self._waiting) >= self._view.max_size:
                raise ServiceError(403, "QueueSaturated", "The queue is full.")
            created = create()
            heapq.heappush(self._waiting, (-job_level, next(self._order), job_id(created)))
            self._cond.notify()
            return created

    def take(self, timeout: float | None = None) -> str | None:
        """Wait (at most ``timeout`` seconds, None: forever) until a job may run and return its
        id, now counted running; None on timeout or once stopped."""
        with self._cond:
            ready = self._cond.wait_for(lambda: self._stopped or self._runnable(), timeout)
            if not ready or self._stopped:
                return None
            self._running += 1
            return heapq.heappop(self._waiting)[2]

    def done(self) -> None:
        """A job taken with ``take`` has finished."""
        with self._cond:
            self._running -= 1
            self._cond.notify_all()

    def configure(
        self,
        *,
        state: str | None = None,
        max_size: int | None = None,
        max_concurrent: int | None = None,
        name: str | None = None,
        notify_config: tuple[tuple[str, str], ...] | None = None,
    ) -> QueueView:
        """Change what is given (ValueError for a bad value); returns the new snapshot."""
        if state is not None and state not in QUEUE_STATES:
            raise ValueError(f"state must be Active or Paused, not {state!r}")
        check_limits(max_size, max_concurrent)
        with self._cond:
            old = self._view
            changes = {
                "state": state or old.state,
                "max_size": max_size or old.max_size,
                "max_concurrent": max_concurrent or old.max_concurrent,
                "name": name or old.name,
                "notify_config": notify_config or old.notify_config,
            }
            if changes["state"] != old.state:
                waiting = [job_id for _, _, job_id in self._waiting]
                self._on_waiting_state(waiting, "Pause" if state == PAUSED else "Submitted")
            if any(getattr(old, name) != value for name, value in changes.items()):
                self._view = QueueView(**{**old.__dict__, **changes, "update_time": self._clock()})
                self._cond.notify_all()
            return self.view()

    def view(self) -> QueueView:
        with self._cond:
            return QueueView(
                **{**self._view.__dict__, "waiting": len(self._waiting), "running": self._running}
            )

    @property
    def active(self) -> int:
        """Jobs waiting or running."""
        with self._cond:
            return len(self._waiting) + self._running

    def stop(self) -> None:
        """Wake every ``take`` with None; jobs still waiting are abandoned."""
        with self._cond:
            self._stopped = True
            self._cond.notify_all()

    def _runnable(self) -> bool:
        view = self._view
        return view.state == ACTIVE and bool(self._waiting) and self._running < view.max_concurrent
