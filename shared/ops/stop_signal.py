"""How backfill's worker threads learn that the run is stopping (Ctrl-C, an error).

``StopSignal`` is set once. Its ``sleep`` is the pace's sleep (``shared.ops.adaptive_rate``): a
worker waiting for its slot returns early once the signal is set and raises ``BackfillStopped``
instead of submitting, so stopping never waits for a queue of slow slots; ``check`` is what a
worker calls before it books a slot at all. No I/O, no logging.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


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
