"""The emulator's HTTP server: one loopback listener for COS, CI and the admin endpoints.

``EmulatorServer`` wires the object store (with the configured buckets), the multipart uploads,
the CI job store and runner, the callback dispatcher, fault injection and the router behind a
``ThreadingHTTPServer`` speaking HTTP/1.1 with keep-alive, and counts requests, TCP connections
and hosts. It binds loopback only and refuses to start without ffprobe. It must not log secrets,
tokens or Authorization headers.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

from emulator.admin import AdminApi
from emulator.auth import EmulatorCredentials
from emulator.ci.api import CiApi
from emulator.ci.callbacks import Callback, CallbackDispatcher
from emulator.ci.jobs import JobRecord, JobRunner, JobStore, job_detail_nodes
from emulator.ci.probe import find_ffprobe
from emulator.cos.api import CosApi, ObjectCreated
from emulator.cos.multipart_store import MultipartStore
from emulator.cos.store import ObjectStore
from emulator.faults import Faults
from emulator.http_handler import EmulatorRequestHandler
from emulator.routing import Router

LOG = logging.getLogger(__name__)
LOOPBACK_BIND_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
COUNTED = ("requests", "hosts", "statuses", "operations")


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], emulator: EmulatorServer) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.emulator = emulator
        self.open_connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, EmulatorRequestHandler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.connections_lock:
            self.open_connections.add(request)
        self.emulator.count_connection()
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.connections_lock:
            self.open_connections.discard(request)
        super().shutdown_request(request)


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
        buckets: Iterable[str] = (),
    ) -> None:
        if host not in LOOPBACK_BIND_HOSTS:
            raise ValueError(f"the emulator binds loopback only, not {host!r}")
        ffprobe = find_ffprobe()  # refuse to start without it: no silent fallback
        self._address = (host, port)
        self.faults = faults if faults is not None else Faults()
        self.store = ObjectStore(Path(data_dir), clock)
        self.uploads = MultipartStore(Path(data_dir), clock)
        for bucket in buckets:
            self.store.create_bucket(bucket)
        self._jobs = JobStore(clock)
        self._dispatcher = CallbackDispatcher(self.faults, timeout_s=callback_timeout_s)
        self._runner = JobRunner(
            self._jobs,
            resolve_object=self.store.body_path,
            ffprobe=ffprobe,
            on_finished=self._job_finished,
            step_delay_s=job_runner_delay_s,
        )
        self.router = self._build_router(credentials, on_object_created, clock, latency_s)
        self._counts_lock = threading.Lock()
        self._counts: dict[str, Counter[str]] = {name: Counter() for name in COUNTED}
        self._connections = 0
        self._httpd: _HttpServer | None = None
        self._thread: threading.Thread | None = None

    def _build_router(
        self,
        credentials: EmulatorCredentials,
        on_object_created: Callable[[ObjectCreated], None] | None,
        clock: Callable[[], float],
        latency_s: float,
    ) -> Router:
        return Router(
            credentials=credentials,
            faults=self.faults,
            cos=CosApi(self.store, on_object_created, self.uploads).handle,
            ci=CiApi(self._jobs, self._runner.enqueue).handle,
            admin=AdminApi(self.faults, self.stats).handle,
            clock=clock,
            latency_s=latency_s,
        )

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> EmulatorServer:
        if self._httpd is not None:
            return self
        self._httpd = _HttpServer(self._address, self)
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

    def stats(self) -> dict[str, Any]:
        with self._counts_lock:
            counts = {name: dict(counter) for name, counter in self._counts.items()}
            connections = self._connections
        return {
            **counts,
            "connections_accepted": connections,
            "jobs": dict(Counter(job.state for job in self._jobs.all())),
            "jobs_active": self._runner.active,
            "callbacks": {**self._dispatcher.counters(), "in_flight": self._dispatcher.in_flight},
            "faults": self.faults.summary(),
        }

    def wait_idle(self, timeout_s: float) -> bool:
        """True once no job is pending or running and no callback is in flight (or held)."""
        deadline = time.monotonic() + timeout_s
        while True:
            if self._runner.active == 0:
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

    def count_request(self, kind: str, host: str, operation: str, status: int) -> None:
        with self._counts_lock:
            self._counts["requests"][kind] += 1
            self._counts["hosts"][host] += 1
            self._counts["operations"][operation] += 1
            self._counts["statuses"][str(status)] += 1

    def _job_finished(self, job: JobRecord) -> None:
        if job.callback_url:
            self._dispatcher.dispatch(
                Callback(
                    job.job_id, job.callback_url, job.callback_format, tuple(job_detail_nodes(job))
                )
            )
