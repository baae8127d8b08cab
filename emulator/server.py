"""The emulator's HTTP server: one loopback listener for COS, CI and the admin endpoints.

``EmulatorServer`` wires the object store (with the configured buckets), the multipart uploads,
the CI job store, media queue and runner (``probe_cache``: one ffprobe per distinct content),
the CI batches (``emulator.batch_wiring``), the callback dispatcher, fault injection and the
router behind a ``ThreadingHTTPServer`` speaking HTTP/1.1 with keep-alive, and counts requests,
TCP connections and hosts. ``Fidelity`` picks the reading of the docs where they leave a choice open
(tag charset, keys, missing objects, callback shape); the queue's capacity and concurrency are
set here and may change while it runs. It binds loopback only and refuses to start without
ffprobe. It must not log secrets, tokens or Authorization headers.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from emulator.admin import AdminApi
from emulator.auth import EmulatorCredentials
from emulator.batch_wiring import BatchWiring
from emulator.ci.api import CiApi
from emulator.ci.callback_shapes import CALLBACK_SHAPES
from emulator.ci.callbacks import Callback, CallbackDispatcher
from emulator.ci.gate import JobGate
from emulator.ci.jobs import JobRecord, JobStore, job_detail_nodes
from emulator.ci.probe import find_ffprobe, probe_media_info
from emulator.ci.probe_cache import ProbeCache
from emulator.ci.queue import DEFAULT_MAX_CONCURRENT, DEFAULT_MAX_SIZE, MediaQueue, QueueView
from emulator.ci.runner import JobRunner
from emulator.cos.api import CosApi, ObjectCreated
from emulator.cos.multipart_store import MultipartStore
from emulator.cos.store import ObjectStore
from emulator.cos.tagging import TagRules
from emulator.faults import Faults
from emulator.fidelity import Fidelity
from emulator.http_handler import EmulatorHttpServer
from emulator.keys import KeyRules
from emulator.routing import Router
from emulator.wire import ApiRequest, Reply

LOG = logging.getLogger(__name__)
LOOPBACK_BIND_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
COUNTED = ("requests", "hosts", "statuses", "operations")
TIMELINE_LENGTH = 10_000


@dataclass(frozen=True)
class RequestTiming:
    """When a request reached the router and when its answer was ready (time.monotonic)."""

    operation: str  # e.g. "cos:GET:tagging"
    key: str
    started: float
    answered: float


class EmulatorServer:
    """Local COS + CI on ``host:port`` (0 = an ephemeral port); start() before use.

    ``buckets`` exist from the start (besides those created with PUT Bucket or left in
    ``data_dir`` by an earlier run); a request on any other bucket is 404 NoSuchBucket.
    """

    def __init__(
        self,
        *,
        data_dir: Path,
        credentials: EmulatorCredentials,
        host: str = "127.0.0.1",
        port: int = 0,
        on_object_created: Callable[[ObjectCreated], None] | None = None,
        job_runner_delay_s: float = 0.05,
        faults: Faults | None = None,
        clock: Callable[[], float] = time.time,
        latency_s: float = 0.0,
        callback_timeout_s: float = 10,
        fidelity: Fidelity | None = None,
        queue_max_size: int = DEFAULT_MAX_SIZE,
        queue_max_concurrent: int = DEFAULT_MAX_CONCURRENT,
        buckets: Iterable[str] = (),
        probe_cache: bool = False,
        batch_object_delay_s: float = 0.0,
    ) -> None:
        if host not in LOOPBACK_BIND_HOSTS:
            raise ValueError(f"the emulator binds loopback only, not {host!r}")
        ffprobe = find_ffprobe()  # refuse to start without it: no silent fallback
        self._address = (host, port)
        self.fidelity = fidelity or Fidelity()
        self.faults = faults if faults is not None else Faults()
        self.store = ObjectStore(Path(data_dir), clock)
        self.uploads = MultipartStore(Path(data_dir), clock)
        for bucket in buckets:
            self.store.create_bucket(bucket)
        self._jobs = JobStore(clock)
        self.queue = MediaQueue(
            max_size=queue_max_size,
            max_concurrent=queue_max_concurrent,
            clock=clock,
            on_waiting_state=self._jobs.set_waiting_state,
        )
        self._dispatcher = CallbackDispatcher(self.faults, timeout_s=callback_timeout_s)
        self._runner = JobRunner(
            self._jobs,
            self.queue,
            resolve_object=self.store.body_path,
            ffprobe=ffprobe,
            on_finished=self._job_finished,
            step_delay_s=job_runner_delay_s,
            probe=ProbeCache().probe if probe_cache else probe_media_info,
        )
        self.batch = BatchWiring(
            self.store, self._jobs, self.queue, clock=clock, object_delay_s=batch_object_delay_s
        )
        self._scf_api: Callable[[ApiRequest], Reply] | None = None
        self.timeline: deque[RequestTiming] = deque(maxlen=TIMELINE_LENGTH)
        self._callback_shape = self.fidelity.callback_shape
        self.router = self._build_router(credentials, on_object_created, clock, latency_s)
        self._counts_lock = threading.Lock()
        self._counts: dict[str, Counter[str]] = {name: Counter() for name in COUNTED}
        self._connections = 0
        self._httpd: EmulatorHttpServer | None = None
        self._thread: threading.Thread | None = None

    def _build_router(
        self,
        credentials: EmulatorCredentials,
        on_object_created: Callable[[ObjectCreated], None] | None,
        clock: Callable[[], float],
        latency_s: float,
    ) -> Router:
        fidelity = self.fidelity
        ci = CiApi(
            self._jobs,
            self.queue,
            object_exists=lambda bucket, key: self.store.head(bucket, key) is not None,
            missing_object=fidelity.missing_object,
            batches=self.batch.handle,
        )
        admin = AdminApi(
            self.faults,
            self.stats,
            self.configure_queue,
            write_inventory=self.batch.write_inventory,
        )
        return Router(
            credentials=credentials,
            faults=self.faults,
            cos=CosApi(
                self.store, on_object_created, self.uploads, TagRules(fidelity.tag_charset)
            ).handle,
            ci=ci.handle,
            admin=admin.handle,
            scf=self._answer_scf_api,
            clock=clock,
            latency_s=latency_s,
            key_rules=KeyRules(leading_slash=fidelity.leading_slash_keys),
        )

    def attach_scf_api(self, handler: Callable[[ApiRequest], Reply]) -> None:
        """Serve Tencent Cloud API 3.0 requests (``X-TC-Action``) with ``handler``."""
        self._scf_api = handler

    def _answer_scf_api(self, request: ApiRequest) -> Reply:
        if self._scf_api is None:
            return Reply(404, [("Content-Type", "application/json")], b'{"Response":{}}')
        return self._scf_api(request)

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> EmulatorServer:
        if self._httpd is not None:
            return self
        self._httpd = EmulatorHttpServer(self._address, self)
        self._runner.start()
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.02},
            name="emulator-http",
            daemon=True,
        )
        self._thread.start()
        LOG.info("emulator listening on %s", self.endpoint_url)
        return self

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        httpd.shutdown()
        with httpd.connections_lock:
            for connection in list(httpd.open_connections):
                with contextlib.suppress(OSError):  # wake threads blocked on idle keep-alive
                    connection.shutdown(socket.SHUT_RDWR)
        httpd.server_close()
        self.batch.runner.stop()
        self._runner.stop()
        self._dispatcher.close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- observation ----------------------------------------------------------------------------
    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("the emulator is not started")
        return int(self._httpd.server_address[1])

    @property
    def endpoint_url(self) -> str:
        host = self._address[0]
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{self.port}"

    @property
    def jobs(self) -> JobStore:
        return self._jobs

    @property
    def callback_shape(self) -> str:
        """The shape of callbacks sent from now on (a ``CALLBACK_SHAPES`` name)."""
        return self._callback_shape

    @callback_shape.setter
    def callback_shape(self, name: str) -> None:
        if name not in CALLBACK_SHAPES:
            raise ValueError(f"callback shape must be one of {', '.join(CALLBACK_SHAPES)}")
        self._callback_shape = name

    def configure_queue(
        self,
        *,
        state: str | None = None,
        max_size: int | None = None,
        max_concurrent: int | None = None,
    ) -> QueueView:
        """Pause / resume the media queue or change its capacity or concurrency (ValueError)."""
        return self._runner.configure(state=state, max_size=max_size, max_concurrent=max_concurrent)

    def stats(self) -> dict[str, Any]:
        with self._counts_lock:
            counts = {name: dict(counter) for name, counter in self._counts.items()}
            connections = self._connections
        return {
            **counts,
            "connections_accepted": connections,
            "jobs": dict(Counter(job.state for job in self._jobs.all())),
            "batches": dict(Counter(batch.state for batch in self.batch.batches.all())),
            "jobs_active": self._runner.active,
            "queue": self.queue.view().summary(),
            "callbacks": {**self._dispatcher.counters(), "in_flight": self._dispatcher.in_flight},
            "faults": self.faults.summary(),
        }

    def wait_idle(self, timeout_s: float) -> bool:
        """True once no batch runs, no job is pending or running and no callback is in flight
        (or held)."""
        deadline = time.monotonic() + timeout_s
        while True:
            if self._runner.active == 0 and self.batch.runner.active == 0:
                self._dispatcher.flush_held()
                if self._runner.active == 0 and self._dispatcher.in_flight == 0:
                    return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.005)

    # -- called by the request handler and the job runner -------------------------------------
    def count_connection(self) -> None:
        with self._counts_lock:
            self._connections += 1

    @property
    def callbacks(self) -> CallbackDispatcher:
        """The callback dispatcher (tests park and release callbacks through it)."""
        return self._dispatcher

    @property
    def job_gate(self) -> JobGate:
        """Holds started jobs before they read their object (a test hook; off by default)."""
        return self._runner.gate

    def record_timing(self, operation: str, key: str, started: float, answered: float) -> None:
        """One answered request on the monotonic clock (``timeline``: the last 10,000)."""
        with self._counts_lock:
            self.timeline.append(RequestTiming(operation, key, started, answered))

    def count_request(self, kind: str, host: str, operation: str, status: int) -> None:
        with self._counts_lock:
            self._counts["requests"][kind] += 1
            self._counts["hosts"][host] += 1
            self._counts["operations"][operation] += 1
            self._counts["statuses"][str(status)] += 1

    def _job_finished(self, job: JobRecord) -> None:
        if not job.callback_url:
            return
        shape = CALLBACK_SHAPES[self._callback_shape]
        detail = tuple(job_detail_nodes(job))
        headers = self._cos_headers(job) if shape.workflow else ()
        self._dispatcher.dispatch(
            Callback(job.job_id, job.callback_url, job.callback_format, detail, shape, headers)
        )

    def _cos_headers(self, job: JobRecord) -> tuple[tuple[str, str], ...]:
        """What a workflow-triggered job's Input.CosHeaders says about the object."""
        stored = self.store.head(job.bucket, job.object_key)
        known = (
            (("Content-Type", stored.content_type), ("Size", str(stored.size))) if stored else ()
        )
        return (*known, ("EventName", "cos:ObjectCreated:Put"))
