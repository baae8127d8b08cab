"""One rate limiter for backfill's worker threads, and a way to stop the ones waiting on it.

``shared.ops.rate_limit.TokenBucket`` books slots for one caller at a time; backfill's workers
(``shared.ops.ordered_window``) take tokens through ``SharedLimiter``, which serialises
``acquire`` behind a lock (the waiting caller sleeps holding it, so the next one books the slot
after it: the rate holds for any number of threads). ``StopSignal`` is the limiter's sleep: once
set (Ctrl-C, an error), a worker waiting for a token, or about to take one, raises
``BackfillStopped`` instead of submitting, so stopping never waits for a queue of slow tokens.
Works with anything that has ``acquire() -> float`` (``rate_limit.Limiter``), so an adaptive
limiter can take TokenBucket's place. No I/O, no logging.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from shared.ops.rate_limit import Limiter


class BackfillStopped(Exception):
    """The run is stopping: this worker must not submit its job."""


class StopSignal:
    """Set once when the run stops; its ``sleep`` returns early and raises from then on."""

    def __init__(self, sleep: Callable[[float], None] = time.sleep) -> None:
        self._sleep = sleep
        self._event = threading.Event()

    @property
    def is_set(self) -> bool:
        return self._event.is_set()

    def set(self) -> None:
        self._event.set()

    def check(self) -> None:
        if self._event.is_set():
            raise BackfillStopped("backfill is stopping")

    def sleep(self, seconds: float) -> None:
        """Sleep ``seconds`` (the injected sleep, if any), or less once set; then ``check``."""
        if self._sleep is time.sleep:
            self._event.wait(seconds)
        else:
            try:
                self._sleep(seconds)
            except BaseException:  # e.g. a test's sleep raising KeyboardInterrupt: stop the others
                self._event.set()
                raise
        self.check()


class SharedLimiter:
    """``limiter`` for many threads: one ``acquire`` at a time, none once ``stop`` is set."""

    def __init__(self, limiter: Limiter, stop: StopSignal) -> None:
        self._limiter = limiter
        self._stop = stop
        self._lock = threading.Lock()

    def acquire(self) -> float:
        with self._lock:
            self._stop.check()
            return self._limiter.acquire()
