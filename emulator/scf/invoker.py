"""Asynchronous invocation of the upload function as SCF's COS trigger does it (scf-platform §1.6).

``AsyncInvoker.on_object_created`` is the COS core's hook: it returns at once (the COS response is
never held up), and a worker thread builds the event, calls ``main_handler(event, context)`` and,
when it raises (or outlives ``time_limit_in_ms``), re-invokes it ``retries`` more times
``retry_interval_s`` apart (SCF: 2 retries, 60 s; here 0.2 s). Every attempt is recorded for tests.
Optionally several created objects are merged into one invocation's ``Records`` (batch window).
Each attempt gets a JSON round-tripped copy of the event, as a real platform would deliver it.
This module must not import the handlers; it receives them as callables.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable

from emulator.scf.events import FunctionIdentity, ObjectCreatedFacts, build_context, build_cos_event

LOG = logging.getLogger("emulator.scf.events")

Handler = Callable[[dict[str, Any], dict[str, Any]], Any]


class InvocationTimeoutError(Exception):
    """The handler returned after ``time_limit_in_ms``: SCF would have killed it (a code error)."""


@dataclass(frozen=True)
class Invocation:
    """One attempt: what the handler got and what came of it."""

    event: dict[str, Any]
    context: dict[str, Any]
    attempt: int  # 1 for the first call, 2.. for retries
    result: Any
    error: BaseException | None
    started_at: float
    duration_s: float

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def request_id(self) -> str:
        return str(self.context["request_id"])


class AsyncInvoker:
    """Runs ``handler`` off the caller's thread with SCF's async retry policy."""

    def __init__(
        self,
        handler: Handler,
        identity: FunctionIdentity,
        *,
        retries: int = 2,
        retry_interval_s: float = 0.2,
        batch_window_s: float = 0.0,
        max_workers: int = 4,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if retries < 0:
            raise ValueError("retries must be >= 0")
        self._handler = handler
        self._identity = identity
        self._retries = retries
        self._retry_interval_s = retry_interval_s
        self._batch_window_s = batch_window_s
        self._clock = clock
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="scf-async")
        self._done = threading.Condition()
        self._in_flight = 0
        self._records: list[Invocation] = []
        self._pending: list[ObjectCreatedFacts] = []
        self._timers: set[threading.Thread] = set()
        self._closed = False

    # -- intake -------------------------------------------------------------------------------
    def on_object_created(self, created: ObjectCreatedFacts) -> None:
        """The COS core's hook: schedule an invocation for ``created`` and return immediately."""
        if self._closed:
            LOG.warning("upload function closed, event for %s dropped", created.key)
            return
        if self._batch_window_s <= 0:
            self._accept()
            self._submit_objects([created])
            return
        with self._done:
            self._pending.append(created)
            first = len(self._pending) == 1
        if first:
            self._accept()
            self._later(self._batch_window_s, self._flush_batch)

    def invoke_event(self, event: dict[str, Any]) -> None:
        """Schedule an invocation with a ready-made event (e.g. a sample event file)."""
        self._accept()
        self._schedule(event, str(uuid.uuid4()), 1)

    def _flush_batch(self) -> None:
        with self._done:
            batch, self._pending = self._pending, []
        self._submit_objects(batch)

    def _submit_objects(self, created: list[ObjectCreatedFacts]) -> None:
        event = build_cos_event(created, self._identity, clock=self._clock)
        self._schedule(event, str(uuid.uuid4()), 1)

    def _schedule(self, event: dict[str, Any], request_id: str, attempt: int) -> None:
        try:
            self._pool.submit(self._run, event, request_id, attempt)
        except RuntimeError:  # closed meanwhile: the event is dropped, as on a stopped platform
            LOG.warning("upload function closed, event dropped request_id=%s", request_id)
            self._finish()

    # -- running ------------------------------------------------------------------------------
    def _run(self, event: dict[str, Any], request_id: str, attempt: int) -> None:
        invocation = self._call_handler(event, request_id, attempt)
        with self._done:
            self._records.append(invocation)
        if invocation.ok:
            LOG.info("upload function ok request_id=%s attempt=%d", request_id, attempt)
            self._finish()
        elif attempt <= self._retries and not self._closed:
            LOG.warning(
                "upload function failed request_id=%s attempt=%d/%d error=%s; retrying",
                request_id,
                attempt,
                self._retries + 1,
                type(invocation.error).__name__,
            )
            self._later(self._retry_interval_s, self._schedule, event, request_id, attempt + 1)
        else:
            LOG.error(
                "upload function gave up request_id=%s after %d attempts error=%s",
                request_id,
                attempt,
                type(invocation.error).__name__,
            )
            self._finish()

    def _call_handler(self, event: dict[str, Any], request_id: str, attempt: int) -> Invocation:
        delivered = json.loads(json.dumps(event))
        context = build_context(self._identity, request_id=request_id)
        started = time.monotonic()
        started_at = self._clock()
        result: Any = None
        error: BaseException | None = None
        try:
            result = self._handler(delivered, dict(context))
        except Exception as exc:  # the platform records any code error and retries
            error = exc
        duration = time.monotonic() - started
        if error is None and duration * 1000 > self._identity.time_limit_in_ms:
            error = InvocationTimeoutError(
                f"ran {duration:.3f} s, limit {self._identity.time_limit_in_ms} ms"
            )
        return Invocation(delivered, context, attempt, result, error, started_at, duration)

    def _later(self, delay_s: float, action: Callable[..., Any], *args: Any) -> None:
        if delay_s <= 0:
            action(*args)
            return
        timer = threading.Timer(delay_s, self._fire, args=(action, args))
        timer.daemon = True
        with self._done:
            self._timers.add(timer)
        timer.start()

    def _fire(self, action: Callable[..., Any], args: tuple[Any, ...]) -> None:
        with self._done:
            self._timers.discard(threading.current_thread())
        action(*args)

    # -- bookkeeping ----------------------------------------------------------------------------
    def _accept(self) -> None:
        with self._done:
            self._in_flight += 1

    def _finish(self) -> None:
        with self._done:
            self._in_flight = max(0, self._in_flight - 1)  # close() may have reset it
            self._done.notify_all()

    @property
    def in_flight(self) -> int:
        with self._done:
            return self._in_flight

    @property
    def invocations(self) -> list[Invocation]:
        """Every attempt so far, in completion order (a copy)."""
        with self._done:
            return list(self._records)

    def wait_idle(self, timeout_s: float) -> bool:
        """True once no event is queued, running or waiting for a retry."""
        with self._done:
            return self._done.wait_for(lambda: self._in_flight == 0, timeout=timeout_s)

    def close(self) -> None:
        """Stop scheduling retries and wait for running attempts to end."""
        self._closed = True
        with self._done:
            timers, self._timers = self._timers, set()
        for timer in timers:
            if isinstance(timer, threading.Timer):
                timer.cancel()
        self._pool.shutdown(wait=True)
        with self._done:
            self._in_flight = 0
            self._pending = []
            self._done.notify_all()
