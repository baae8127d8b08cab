"""The whole local pipeline in one object: COS + CI server, COS trigger, callback function URL.

``Emulator`` wires the COS/CI core (``EmulatorServer``) to the upload function through an
``AsyncInvoker`` (every created object fires the COS trigger) and serves the callback function
behind a ``FunctionUrlServer``; ``fidelity`` and the queue figures go to the server unchanged.
``start()`` sets the functions' environment in ``os.environ`` (credentials, endpoint override,
callback URL and secret) exactly as SCF would, and ``stop()`` puts the previous values back.
Handlers are callables or "module:function" paths imported lazily, on first invocation, the way
SCF imports index.main_handler. Only endpoint settings differ from the cloud. This module must
not reach a non-loopback address or change the handlers.
"""

from __future__ import annotations

import importlib
import os
import secrets
import shutil
import tempfile
import threading
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, Callable, Union

from emulator.auth import EmulatorCredentials
from emulator.ci.queue import DEFAULT_MAX_CONCURRENT, DEFAULT_MAX_SIZE
from emulator.faults import Faults
from emulator.fidelity import Fidelity
from emulator.scf.api import ApiCredentials, ScfApi
from emulator.scf.events import FunctionIdentity
from emulator.scf.function_url import FunctionUrlServer
from emulator.scf.invoker import AsyncInvoker, Handler
from emulator.server import EmulatorServer

DEFAULT_UPLOAD_HANDLER = "functions.submit_on_upload.index:main_handler"
DEFAULT_CALLBACK_HANDLER = "functions.tag_on_callback.index:main_handler"
UPLOAD_FUNCTION = "media-submit"
DEFAULT_REGION = "ap-guangzhou"
CALLBACK_FUNCTION = "media-callback"
IDLE_POLL_S = 0.02

HandlerSpec = Union[str, Handler]


class LazyHandler:
    """A "package.module:function" handler imported on first call (like SCF's cold start)."""

    def __init__(self, spec: str) -> None:
        module, sep, name = spec.partition(":")
        if not sep or not module or not name:
            raise ValueError(f"handler must look like 'package.module:function', not {spec!r}")
        self.spec = spec
        self._module = module
        self._name = name
        self._function: Handler | None = None
        self._lock = threading.Lock()

    def resolve(self) -> Handler:
        with self._lock:
            if self._function is None:
                function = getattr(importlib.import_module(self._module), self._name)
                if not callable(function):
                    raise TypeError(f"{self.spec} is not callable")
                self._function = function
            return self._function

    def __call__(self, event: dict[str, Any], context: dict[str, Any]) -> Any:
        return self.resolve()(event, context)


def as_handler(spec: HandlerSpec) -> Handler:
    return LazyHandler(spec) if isinstance(spec, str) else spec


class Emulator:
    """COS + CI + both SCF triggers on loopback; a context manager.

    ``buckets`` exist from the start; others only once created with PUT Bucket (COS answers 404
    NoSuchBucket for a bucket that does not exist, and so does the emulator).
    """

    def __init__(
        self,
        data_dir: str | Path | None = None,
        *,
        cos_ci_port: int = 0,
        function_url_port: int = 0,
        host: str = "127.0.0.1",
        credentials: EmulatorCredentials | None = None,
        upload_handler: HandlerSpec = DEFAULT_UPLOAD_HANDLER,
        callback_handler: HandlerSpec = DEFAULT_CALLBACK_HANDLER,
        retries: int = 2,
        retry_interval_s: float = 0.2,
        batch_window_s: float = 0.0,
        callback_format: str = "JSON",
        callback_secret: str | None = None,
        function_env: Mapping[str, str] | None = None,
        faults: Faults | None = None,
        job_runner_delay_s: float = 0.05,
        latency_s: float = 0.0,
        function_time_limit_ms: int = 30_000,
        region: str = DEFAULT_REGION,
        clock: Callable[[], float] = time.time,
        fidelity: Fidelity | None = None,
        queue_max_size: int = DEFAULT_MAX_SIZE,
        queue_max_concurrent: int = DEFAULT_MAX_CONCURRENT,
        buckets: Iterable[str] = (),
        probe_cache: bool = False,
        batch_object_delay_s: float = 0.0,
    ) -> None:
        self.region = region
        self.credentials = credentials or EmulatorCredentials.default()
        self.callback_format = callback_format.upper()
        if self.callback_format not in ("JSON", "XML"):
            raise ValueError("callback_format must be JSON or XML")
        self.callback_secret = callback_secret or secrets.token_urlsafe(32)
        self._temp_dir = None if data_dir is not None else tempfile.mkdtemp(prefix="cos-emu-")
        self.data_dir = Path(data_dir if data_dir is not None else str(self._temp_dir))
        self._function_env = dict(function_env or {})
        self._saved_env: dict[str, str | None] | None = None
        self.upload = AsyncInvoker(
            as_handler(upload_handler),
            FunctionIdentity(
                UPLOAD_FUNCTION, region=region, time_limit_in_ms=function_time_limit_ms
            ),
            retries=retries,
            retry_interval_s=retry_interval_s,
            batch_window_s=batch_window_s,
            clock=clock,
        )
        self.server = EmulatorServer(
            data_dir=self.data_dir,
            credentials=self.credentials,
            host=host,
            port=cos_ci_port,
            on_object_created=self.upload.on_object_created,
            job_runner_delay_s=job_runner_delay_s,
            faults=faults,
            clock=clock,
            latency_s=latency_s,
            fidelity=fidelity,
            queue_max_size=queue_max_size,
            queue_max_concurrent=queue_max_concurrent,
            buckets=buckets,
            probe_cache=probe_cache,
            batch_object_delay_s=batch_object_delay_s,
        )
        self.faults = self.server.faults
        self.scf_api = ScfApi(
            ApiCredentials(
                self.credentials.secret_id, self.credentials.secret_key, self.credentials.token
            ),
            clock=clock,
        )
        self.scf_api.register(UPLOAD_FUNCTION, self.upload.invoke_event)
        self.server.attach_scf_api(self.scf_api.handle)
        self.function_url = FunctionUrlServer(
            as_handler(callback_handler),
            FunctionIdentity(
                CALLBACK_FUNCTION, region=region, time_limit_in_ms=function_time_limit_ms
            ),
            host=host,
            port=function_url_port,
        )

    # -- endpoints and environment --------------------------------------------------------------
    @property
    def endpoint_url(self) -> str:
        return str(self.server.endpoint_url)

    @property
    def callback_url(self) -> str:
        return self.function_url.base_url

    def function_environ(self) -> dict[str, str]:
        """The variables both functions see, as SCF would set them (plus the local overrides)."""
        environ = {
            "TENCENTCLOUD_SECRETID": self.credentials.secret_id,
            "TENCENTCLOUD_SECRETKEY": self.credentials.secret_key,
            "MEDIA_TAGGER_ENDPOINT_URL": self.endpoint_url,
            "MEDIA_TAGGER_CALLBACK_URL": self.callback_url,
            "MEDIA_TAGGER_CALLBACK_SECRET": self.callback_secret,
            "MEDIA_TAGGER_CALLBACK_FORMAT": self.callback_format,
            "TENCENTCLOUD_REGION": self.region,
            # Hand-on pauses start at 0.1 s here, as SCF's 60 s retry interval is 0.2 s here.
            "MEDIA_TAGGER_HANDON_BACKOFF_MS": "100",
        }
        if self.credentials.token:
            environ["TENCENTCLOUD_SESSIONTOKEN"] = self.credentials.token
        environ.update(self._function_env)
        return environ

    def _apply_environ(self) -> None:
        wanted: dict[str, str | None] = dict(self.function_environ())
        if not self.credentials.token:
            wanted["TENCENTCLOUD_SESSIONTOKEN"] = None  # permanent keys: no stale token
        self._saved_env = {name: os.environ.get(name) for name in wanted}
        for name, value in wanted.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value

    def _restore_environ(self) -> None:
        for name, value in (self._saved_env or {}).items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved_env = None

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> Emulator:
        """Listen, then set the functions' environment; on failure nothing is left running."""
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            self.function_url.start()
            self.server.start()
        except BaseException:
            self.stop()
            raise
        self._apply_environ()
        return self

    def stop(self) -> None:
        try:
            # running upload attempts finish against a live server; then no more callbacks
            self.upload.close()
            self.server.stop()
            self.function_url.stop()
        finally:
            self._restore_environ()
            if self._temp_dir is not None:
                shutil.rmtree(self._temp_dir, ignore_errors=True)

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def stats(self) -> dict[str, Any]:
        """The server's counters plus the two functions' invocation counts."""
        uploads = self.upload.invocations
        callbacks = self.function_url.invocations
        return {
            **self.server.stats(),
            "upload_invocations": len(uploads),
            "upload_failures": sum(1 for inv in uploads if not inv.ok),
            "callback_invocations": len(callbacks),
            "callback_failures": sum(1 for inv in callbacks if not inv.ok),
        }

    def wait_idle(self, timeout_s: float) -> bool:
        """True once no upload invocation, CI job or callback is queued, running or retrying."""
        deadline = time.monotonic() + timeout_s
        while True:
            left = deadline - time.monotonic()
            if self._idle_now(max(left, 0.0)):
                return True
            if left <= 0:
                return False
            time.sleep(IDLE_POLL_S)

    def _idle_now(self, timeout_s: float) -> bool:
        # twice in a row: a job ending may fire a callback, a callback nothing new
        for _ in range(2):
            if not self.upload.wait_idle(timeout_s):
                return False
            if not self.server.wait_idle(timeout_s) or not self.function_url.wait_idle(timeout_s):
                return False
        return self.upload.in_flight == 0 and self.function_url.in_flight == 0
