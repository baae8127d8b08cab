"""CI job-finished callbacks: POST the TaskFinish notice (XML or JSON) to the job's CallBack URL.

The body has one of the documented shapes (``emulator.ci.callback_shapes``).

One attempt per callback and no retry, as CI documents none. Only loopback URLs are accepted
(``is_loopback_url``): the emulator never sends traffic off this machine. ``Faults`` decides
whether a callback is dropped, duplicated or held back and delivered in reverse order. Held
callbacks are released when the window fills, on ``flush_held`` or after ``max_hold_s``. A test
may park every callback and release each one when it chooses (``park``, ``release``).
This module must not build job state; it only delivers snapshots it is given.
"""

from __future__ import annotations

import http.client
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import urlsplit

from emulator.ci.callback_shapes import CALLBACK_SHAPES, STANDARD, CallbackShape, callback_body
from emulator.faults import DROP, DUPLICATE, Faults
from emulator.xmlreply import XmlNode

LOG = logging.getLogger(__name__)
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
USER_AGENT = "Go-http-client/1.1"  # what CI's callback sender announces
WORKERS = 4


def is_loopback_url(url: str) -> bool:
    """http:// URL whose host is 127.0.0.1, localhost or [::1]."""
    try:
        parts = urlsplit(url)
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        return False
    return parts.scheme == "http" and (parts.hostname or "") in LOOPBACK_HOSTS and port_ok


@dataclass(frozen=True)
class Callback:
    job_id: str
    url: str
    callback_format: str  # "JSON" or "XML"
    detail: tuple[XmlNode, ...]  # children of <JobsDetail>
    shape: CallbackShape = CALLBACK_SHAPES[STANDARD]
    cos_headers: tuple[tuple[str, str], ...] = ()  # the object's, for the workflow shape

    def body(self) -> tuple[bytes, str]:
        return callback_body(self.shape, self.callback_format, self.detail, self.cos_headers)


def post_callback(callback: Callback, timeout_s: float) -> int:
    """One POST; the HTTP status, or 0 when the receiver could not be reached."""
    if not is_loopback_url(callback.url):  # checked at submit too; never leave this machine
        LOG.warning("callback for job %s refused: not a loopback URL", callback.job_id)
        return 0
    parts = urlsplit(callback.url)
    body, content_type = callback.body()
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    connection = http.client.HTTPConnection(
        parts.hostname or "", parts.port or 80, timeout=timeout_s
    )
    try:
        connection.request(
            "POST",
            path,
            body=body,
            headers={"Content-Type": content_type, "User-Agent": USER_AGENT},
        )
        response = connection.getresponse()
        response.read()
        return response.status
    except OSError as exc:
        LOG.warning("callback for job %s not delivered: %s", callback.job_id, exc)
        return 0
    finally:
        connection.close()


class CallbackDispatcher:
    """Delivers callbacks on a small thread pool; ``in_flight`` includes held ones."""

    def __init__(
        self,
        faults: Faults,
        *,
        timeout_s: float = 10.0,
        max_hold_s: float = 2.0,
        post: Callable[[Callback, float], int] = post_callback,
    ) -> None:
        self._faults = faults
        self._timeout_s = timeout_s
        self._max_hold_s = max_hold_s
        self._post = post
        self._pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="ci-callback")
        self._lock = threading.Lock()
        self._in_flight = 0
        self._held: list[Callback] = []
        self._timer: threading.Timer | None = None
        self._parking = False
        self._parked: dict[str, list[Callback]] = {}
        self._counters = {"callbacks_sent": 0, "callbacks_failed": 0}

    @property
    def in_flight(self) -> int:
        with self._lock:
            return self._in_flight

    def counters(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counters)

    def park(self, enabled: bool = True) -> None:
        """A test hook: while on, every callback is parked until ``release(job_id)`` delivers it
        (parked callbacks do not count as in flight, so the emulator can go idle meanwhile)."""
        with self._lock:
            self._parking = enabled

    def parked(self) -> list[str]:
        """The job ids whose callbacks are parked, in the order they were parked."""
        with self._lock:
            return list(self._parked)

    def release(self, job_id: str) -> bool:
        """Deliver ``job_id``'s parked callback now (asynchronously); False when none is parked."""
        with self._lock:
            batch = self._parked.pop(job_id, None)
        if batch is None:
            return False
        self._submit(batch)
        return True

    def dispatch(self, callback: Callback) -> None:
        """Apply the armed faults to ``callback`` and deliver it (asynchronously)."""
        with self._lock:
            if self._parking:
                self._parked.setdefault(callback.job_id, []).append(callback)
                return
        fate = self._faults.callback_fate()
        if fate == DROP:
            LOG.info("callback for job %s dropped (fault injection)", callback.job_id)
            return
        batch = [callback, callback] if fate == DUPLICATE else [callback]
        window = self._faults.take_reorder_slot()
        if window <= 0:
            self._submit(batch)
            return
        with self._lock:
            self._held.extend(batch)
            self._in_flight += len(batch)
            if window > 1 and self._timer is None:
                self._timer = threading.Timer(self._max_hold_s, self.flush_held)
                self._timer.daemon = True
                self._timer.start()
        if window == 1:  # the last slot of the window: release newest first
            self.flush_held()

    def flush_held(self) -> None:
        with self._lock:
            held, self._held = self._held, []
            self._in_flight -= len(held)
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
        if held:
            self._submit(list(reversed(held)))

    def close(self) -> None:
        self.flush_held()
        self._pool.shutdown(wait=True)

    def _submit(self, batch: list[Callback]) -> None:
        with self._lock:
            self._in_flight += len(batch)
        self._pool.submit(self._deliver, batch)

    def _deliver(self, batch: list[Callback]) -> None:
        for callback in batch:  # sequential, so a reversed or doubled batch keeps its order
            try:
                status = self._post(callback, self._timeout_s)
            except Exception:
                LOG.exception("callback for job %s crashed", callback.job_id)
                status = 0
            with self._lock:
                self._in_flight -= 1
                ok = 200 <= status < 300
                self._counters["callbacks_sent" if ok else "callbacks_failed"] += 1
