"""How full CI's media queue is, for backfill's progress line: 'queue Active 180/200 waiting'.

CI's queue describe API (GET /queue) gives the queue's state, ``MaxSize`` and ``MaxConcurrent``
but no count of the jobs in it (ci-facts.md 1.1), so the jobs are counted with GET
/jobs?tag=MediaInfo: states Submitted and Pause (a paused queue's waiting jobs) for the waiting
ones, at most ``max_pages`` pages of 100 (beyond that the figure shows as '>=N'), and Running.
Only MediaInfo jobs are counted: other job types sharing the queue are not. ``QueueWatch`` looks
at most every ``every_s`` seconds, on the caller's thread (one refresh at a time; the others go
on); a refused submit (``saw``) marks the queue full or paused at once. A failed look shows the
last figures as '(stale)' or 'queue ?', and a 403 (the credentials lack ci:DescribeMediaQueues
or ci:DescribeMediaJobs) stops looking. It never raises: the line is informative only.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import Protocol

from shared.errors import MediaTaggerError, RemoteError
from shared.models import JobsPage
from shared.records import record, replace
from shared.tencent.media_queue import MediaQueue

EVERY_S = 10.0
PAGE_SIZE = 100
MAX_PAGES = 3


class QueueLookup(Protocol):
    """What ``shared.tencent.ci_client.CiClient`` offers for this."""

    def describe_media_queue(
        self, bucket: str, region: str, *, deadline: float | None = None
    ) -> MediaQueue | None: ...

    def list_jobs(
        self,
        bucket: str,
        region: str,
        *,
        states: Sequence[str] = (),
        size: int = 100,
        next_token: str | None = None,
    ) -> JobsPage: ...


@record
class QueueFill:
    queue: MediaQueue
    waiting: int
    running: int
    capped: bool = False  # more waiting jobs than max_pages pages hold

    def text(self) -> str:
        queue = self.queue
        waiting = f">={self.waiting}" if self.capped else str(self.waiting)
        size = f"/{queue.max_size}" if queue.max_size else ""
        running = f"/{queue.max_concurrent}" if queue.max_concurrent else ""
        return (
            f"queue {queue.state or '?'} {waiting}{size} waiting, {self.running}{running} running"
        )


WAITING_STATES = ("Submitted", "Pause")  # a paused queue's waiting jobs show State=Pause
RUNNING_STATES = ("Running",)


def count_jobs(
    lookup: QueueLookup, bucket: str, region: str, states: Sequence[str], max_pages: int
) -> tuple[int, bool]:
    """(jobs in ``states``, True when more pages were left unread)."""
    count, token = 0, None
    for _ in range(max_pages):
        page = lookup.list_jobs(bucket, region, states=states, size=PAGE_SIZE, next_token=token)
        count += len(page.jobs)
        token = page.next_token
        if not token:
            return count, False
    return count, True


class QueueWatch:
    def __init__(
        self,
        lookup: QueueLookup,
        *,
        every_s: float = EVERY_S,
        max_pages: int = MAX_PAGES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._lookup, self._every_s, self._max_pages, self._clock = (
            lookup,
            every_s,
            max_pages,
            clock,
        )
        self._lock = threading.Lock()
        self._busy = False
        self._looked_at: float | None = None
        self._stopped = False
        self.last: QueueFill | None = None
        self.failure: str | None = None

    def refresh_if_due(self, bucket: str, region: str) -> None:
        with self._lock:
            now = self._clock()
            due = self._looked_at is None or now - self._looked_at >= self._every_s
            if self._busy or self._stopped or not due:
                return
            self._busy, self._looked_at = True, now
        try:
            fill, failure = self._look(bucket, region), None
        except MediaTaggerError as exc:
            fill, failure = None, type(exc).__name__
            if isinstance(exc, RemoteError) and exc.status == 403:
                self._stopped = True  # no ci:DescribeMediaQueues / DescribeMediaJobs: stop asking
        with self._lock:
            self._busy = False
            self.failure = failure
            self.last = fill or self.last

    def _look(self, bucket: str, region: str) -> QueueFill | None:
        queue = self._lookup.describe_media_queue(bucket, region)
        if queue is None:
            return None
        lookup, pages = self._lookup, self._max_pages
        waiting, capped = count_jobs(lookup, bucket, region, WAITING_STATES, pages)
        running, _ = count_jobs(lookup, bucket, region, RUNNING_STATES, 1)
        return QueueFill(queue, waiting, running, capped)

    def saw(self, signal: str) -> None:
        """A submit was refused: the queue is full (QueueSaturated) or paused (QueuePaused)
        now, whatever the last look counted."""
        with self._lock:
            last = self.last
            if last is None:
                return
            if signal == "QueueSaturated" and last.queue.max_size:
                self.last = replace(last, waiting=last.queue.max_size, capped=False)
            elif signal == "QueuePaused":
                self.last = replace(last, queue=replace(last.queue, state="Paused"))

    def text(self) -> str:
        with self._lock:
            last, failure = self.last, self.failure
        if last is None or failure is not None:
            return "queue ?" if last is None else last.text() + " (stale)"
        return last.text()
