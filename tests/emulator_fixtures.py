"""Helpers for the emulator's own tests: a signing raw client, a started server, media samples,
and a tiny loopback receiver for CI callbacks.

``SignedClient`` signs with ``shared.tencent.signing.authorization`` (the project's pure signer) and
can break a request on purpose (other key, old key time, a header changed after signing, no token).
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import requests

from emulator import EmulatorCredentials, EmulatorServer, ObjectCreated
from shared.tencent.endpoints import sign_path, wire_path
from shared.tencent.signing import authorization

REGION = "ap-guangzhou"
BUCKET = "media-1250000000"
COS_HOST = f"{BUCKET}.cos.{REGION}.myqcloud.com"
CI_HOST = f"{BUCKET}.ci.{REGION}.myqcloud.com"
SIGNED_PREFIXES = ("x-cos-", "x-ci-")


def md5_hex(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def _query(params: Mapping[str, str]) -> str:
    return "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in params.items())


def _headers_to_sign(headers: Mapping[str, str]) -> dict[str, str]:
    return {
        k: v
        for k, v in headers.items()
        if k.lower() in ("host", "content-type", "content-length", "content-md5")
        or k.lower().startswith(SIGNED_PREFIXES)
    }


@dataclass
class SignedClient:
    """Raw HTTP against the emulator, signed like the SDK (host, content-*, x-cos-*/x-ci-*)."""

    endpoint_url: str
    credentials: EmulatorCredentials
    clock: Callable[[], float] = time.time
    session: requests.Session = field(default_factory=requests.Session)

    def send(
        self,
        method: str,
        key: str,
        *,
        host: str = COS_HOST,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        body: bytes = b"",
        secret_key: str | None = None,
        secret_id: str | None = None,
        key_time: tuple[int, int] | None = None,
        token: str | None = "configured",
        after_signing: Mapping[str, str] | None = None,
        unsigned_params: Mapping[str, str] | None = None,
    ) -> requests.Response:
        params = dict(params or {})
        wire_headers = {"Host": host, **(headers or {})}
        if token == "configured":
            token = self.credentials.token
        if token is not None:
            # like the SDK: CI calls carry x-ci-, also on the COS host name (IP/Port mode)
            ci_call = host == CI_HOST or key.startswith(("/jobs", "/queue"))
            name = "x-ci-security-token" if ci_call else "x-cos-security-token"
            wire_headers[name] = token
        if body or method in ("PUT", "POST"):
            wire_headers["Content-Length"] = str(len(body))
        signed = _headers_to_sign(wire_headers)
        now = int(self.clock())
        start, end = key_time or (now - 60, now + 600)
        wire_headers["Authorization"] = authorization(
            secret_id or self.credentials.secret_id,
            secret_key or self.credentials.secret_key,
            method,
            sign_path(key),
            params,
            signed,
            start,
            end,
        )
        wire_headers.update(after_signing or {})
        query = _query({**params, **(unsigned_params or {})})
        url = self.endpoint_url + wire_path(key) + (f"?{query}" if query else "")
        return self.session.request(method, url, headers=wire_headers, data=body, timeout=10)


@dataclass
class Harness:
    server: EmulatorServer
    events: list[ObjectCreated]
    client: SignedClient


def start_harness(
    data_dir: Path,
    credentials: EmulatorCredentials | None = None,
    **server_options: Any,
) -> Harness:
    credentials = credentials or EmulatorCredentials.default()
    events: list[ObjectCreated] = []
    server_options.setdefault("job_runner_delay_s", 0.005)
    server_options.setdefault("buckets", (BUCKET,))
    server = EmulatorServer(
        data_dir=data_dir,
        credentials=credentials,
        on_object_created=events.append,
        **server_options,
    ).start()
    clock = server_options.get("clock", time.time)
    return Harness(server, events, SignedClient(server.endpoint_url, credentials, clock))


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    running = start_harness(tmp_path / "data")
    try:
        yield running
    finally:
        running.client.session.close()
        running.server.stop()


def make_sample_mp4(path: Path, *, size: str = "320x240", seconds: int = 1) -> Path:
    """A small H.264/AAC mp4 from ffmpeg's test sources."""
    ffmpeg = shutil.which("ffmpeg")
    assert ffmpeg is not None
    subprocess.run(
        [
            ffmpeg,
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            f"testsrc=size={size}:rate=25",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:sample_rate=44100",
            "-t",
            str(seconds),
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-shortest",
            str(path),
        ],
        check=True,
        timeout=60,
    )
    return path


@pytest.fixture(scope="session")
def sample_mp4(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return make_sample_mp4(tmp_path_factory.mktemp("media") / "sample.mp4").read_bytes()


def wait_until(predicate: Callable[[], bool], timeout_s: float = 5.0) -> bool:
    """Poll a condition that real worker threads will make true."""
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


@dataclass
class ReceivedCallback:
    path: str
    headers: dict[str, str]
    body: bytes


class CallbackReceiver:
    """A loopback HTTP server that records every POST and answers 200."""

    def __init__(self) -> None:
        self.received: list[ReceivedCallback] = []
        self._lock = threading.Lock()
        receiver = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                with receiver._lock:
                    receiver.received.append(
                        ReceivedCallback(self.path, dict(self.headers.items()), body)
                    )
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/ci/callback?t=secret"

    def __enter__(self) -> CallbackReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def bodies(self) -> list[bytes]:
        with self._lock:
            return [item.body for item in self.received]
