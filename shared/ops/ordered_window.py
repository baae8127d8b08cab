"""Bounded concurrency that still finishes work in listing order: backfill's ``OrderedWindow``.

Backfill's checkpoint is one key, "everything up to here is done", so objects may be worked on
concurrently but must be *recorded* in the order they were listed. ``OrderedWindow`` runs calls
on ``workers`` threads with at most ``size`` (default ``2 x workers``) submitted and not yet
recorded; ``submit`` hands back the results that have finished in order (waiting for the oldest
when the window is full) and ``drain`` the rest. A call that raised re-raises when its turn
comes. ``stop`` (Ctrl-C, an error) cancels what has not started, waits for what has, and returns
the finished in-order prefix, so a checkpoint never claims an object that was not done and at
most ``size`` objects are handled again after a stop or a kill. One coordinating thread (the
caller's) uses a window; the calls must be safe to run concurrently. No I/O, no logging.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Generic, TypeVar

_T = TypeVar("_T")
WINDOW_PER_WORKER = 2  # queued calls per thread: a slow object does not idle the others at once


class OrderedWindow(Generic[_T]):
    """Concurrent calls, results in submission order; a context manager that stops on exit."""

    def __init__(self, workers: int, size: int | None = None) -> None:
        if workers < 1:
            raise ValueError("workers must be at least 1")
        self.size = max(workers, size if size is not None else WINDOW_PER_WORKER * workers)
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="backfill")
        self._pending: deque[Future[_T]] = deque()

    def __enter__(self) -> OrderedWindow[_T]:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def in_flight(self) -> int:
        return len(self._pending)

    def submit(self, call: Callable[[], _T]) -> Iterator[_T]:
        """Schedule ``call`` (waiting for the oldest when full); then iterate the results
        finished in order. A failed call stays at the head: it raises, and ``stop`` ends there."""
        if len(self._pending) >= self.size:
            wait([self._pending[0]])
        self._pending.append(self._pool.submit(call))
        return self._finished_in_order()

    def drain(self) -> Iterator[_T]:
        """Every remaining result, in order, waiting for each."""
        while self._pending:
            value = self._pending[0].result()  # raises a failed call's error, which stays put
            self._pending.popleft()
            yield value

    def stop(self) -> list[_T]:
        """Cancel what has not started, wait for what has; the finished in-order prefix."""
        for future in self._pending:
            future.cancel()
        wait(self._pending)
        done: list[_T] = []
        while self._pending:
            head = self._pending[0]
            if head.cancelled() or head.exception() is not None:
                break
            done.append(self._pending.popleft().result())
        self._pending.clear()
        return done

    def close(self) -> None:
        self.stop()
        self._pool.shutdown(wait=True)

    def _finished_in_order(self) -> Iterator[_T]:
        while self._pending and self._pending[0].done():
            value = self._pending[0].result()  # raises a failed call's error, which stays put
            self._pending.popleft()
            yield value
