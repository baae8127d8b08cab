"""The callback's three independent reads, run concurrently: GET /jobs/<id>, HEAD, GET ?tagging.

In the cloud a callback's latency is the number of round trips it waits for in a row; these three do
not depend on each other, so they go out together and the callback waits for two round trips (reads,
then PUT) instead of four. The tag read is timed: PUT ?tagging replaces the whole set and COS has no
conditional tagging, so a user's tag written between our read and our PUT is lost; the writer
re-reads the tags when their answer is older than one COS round trip by the time it would PUT (a
slow GET /jobs then costs one more round trip, never a wider window). A small thread pool is created
on first use and kept for the warm instance (threads are cheap to keep, ~0.1 ms each to start; SCF
allows 1024 per instance). Outcomes are kept per read and re-raised only when the caller asks for
that value, so a transient HEAD failure does not mask an "unknown job" answer. No decisions and no
logging here.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor, wait
from typing import Any, TypeVar

from shared.errors import CiError, CosNotFoundError
from shared.models import Job, ObjectHead, ObjectRef, TagSet
from shared.ports import MediaJobs, ObjectStore
from shared.records import record

READ_THREADS = 2  # HEAD and GET ?tagging; GET /jobs runs on the calling thread
# A tag answer this young is fresh whatever its own round trip took: no in-region COS round trip
# is shorter, and the work between the reads and the PUT takes about a millisecond.
MIN_ROUND_TRIP_S = 0.01
_T = TypeVar("_T")
# CI answers a malformed or foreign job id with 400/404 instead of NonExistJobIds: same meaning.
_UNKNOWN_JOB_STATUSES = frozenset({400, 404})

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def shared_read_pool() -> Executor:
    """One pool per warm instance, created on first use (never at import)."""
    global _pool  # noqa: PLW0603 -- a lazily built per-process cache is the point
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(READ_THREADS, thread_name_prefix="callback-read")
        return _pool


@record
class TimedTags:
    """A tag read with its clock readings: sent at ``started``, answered at ``answered``."""

    tags: TagSet
    started: float
    answered: float

    def fresh_at(self, now: float) -> bool:
        """Was this answer given at most one round trip (its own duration, at least
        ``MIN_ROUND_TRIP_S``) before ``now``?"""
        return now - self.answered <= max(self.answered - self.started, MIN_ROUND_TRIP_S)


def read_tags_timed(
    store: ObjectStore,
    obj: ObjectRef,
    *,
    deadline: float | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> TimedTags:
    started = clock()
    tags = store.get_object_tagging(obj, deadline=deadline)
    return TimedTags(tags, started, clock())


@record
class CallbackReads:
    """Futures of the three reads, all finished when this object is handed out."""

    job_future: Future[Job | None]
    head_future: Future[ObjectHead]
    tags_future: Future[TimedTags]

    def job(self) -> Job | None:
        """The job, or None when CI does not know it."""
        try:
            return self.job_future.result()
        except CiError as exc:
            if exc.status in _UNKNOWN_JOB_STATUSES:
                return None
            raise

    def head(self) -> ObjectHead | None:
        """The object's HEAD, or None when it is gone (404)."""
        try:
            return self.head_future.result()
        except CosNotFoundError:
            return None

    def timed_tags(self) -> TimedTags | None:
        """The object's tags and when they were read, or None when the object is gone (404
        other than NoSuchTagSet)."""
        try:
            return self.tags_future.result()
        except CosNotFoundError:
            return None

    def tags(self) -> TagSet | None:
        timed = self.timed_tags()
        return None if timed is None else timed.tags


def _run_here(call: Callable[[], _T]) -> Future[_T]:
    """Run ``call`` on this thread; its result or exception lands in a finished Future."""
    future: Future[_T] = Future()
    try:
        future.set_result(call())
    except Exception as exc:  # re-raised by the caller that asks for this value
        future.set_exception(exc)
    return future


def read_concurrently(
    jobs: MediaJobs,
    store: ObjectStore,
    obj: ObjectRef,
    job_id: str,
    *,
    deadline: float | None = None,
    executor: Executor | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> CallbackReads:
    """Start the three reads together and return once every one has finished or failed.

    HEAD and GET ?tagging go to the pool; GET /jobs runs on the calling thread meanwhile, which
    would otherwise only wait: one thread hand-off fewer per callback (measured: ~4 % of the
    warm callback's CPU), the same two round trips in a row.
    """
    pool = executor if executor is not None else shared_read_pool()
    head_future = pool.submit(store.head_object, obj, deadline=deadline)
    tags_future = pool.submit(read_tags_timed, store, obj, deadline=deadline, clock=clock)
    job_future = _run_here(
        lambda: jobs.describe_job(obj.bucket, obj.region, job_id, deadline=deadline)
    )
    pending: list[Future[Any]] = [head_future, tags_future]
    wait(pending)
    return CallbackReads(job_future=job_future, head_future=head_future, tags_future=tags_future)
