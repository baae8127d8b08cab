"""What the handlers are run against: seeded objects, jobs and real events.

``Seeder`` uploads objects to an emulator (``benchmarks.emulator_handle``), submits their
MediaInfo jobs, clears and counts tags with the project's own signed client (driver side, never
inside a measured process). ``CallbackSink`` receives the CI callbacks those jobs send, so the
callback events replayed to both implementations are the bodies the emulated CI really posted,
wrapped the way the function URL wraps them. COS events and contexts come from the emulator's
SCF side. Everything stays on loopback.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tencentcloud.common.credential import Credential

from benchmarks.emulator_handle import BUCKET
from emulator import EmulatorCredentials, ObjectCreated
from emulator.scf.events import FunctionIdentity, build_context, build_cos_event
from emulator.scf.function_url import build_url_event
from shared.contract.callback_token import callback_url_for
from shared.contract.userdata import encode_user_data
from shared.ports import MediaInfoJobRequest
from shared.tencent.ci_client import CiClient
from shared.tencent.endpoints import Endpoint, cos_host
from shared.tencent.transport import Transport

ROOT = Path(__file__).resolve().parent.parent
REGION = "ap-guangzhou"
UPLOAD_FUNCTION = FunctionIdentity("media-submit")
CALLBACK_FUNCTION = FunctionIdentity("media-callback")
SEED_THREADS = 8
START_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class SeededObject:
    key: str
    etag: str
    size: int

    def created(self) -> ObjectCreated:
        return ObjectCreated(
            BUCKET,
            REGION,
            self.key,
            self.etag,
            self.size,
            "video/mp4",
            None,
            "Put",
            {},
            "127.0.0.1",
        )


def cos_event_line(obj: SeededObject) -> str:
    """One ``[event, context]`` line for the upload function: the COS trigger's event."""
    return cos_batch_line([obj])


def cos_batch_line(objects: Sequence[SeededObject]) -> str:
    """One upload event with a record per object (COS may batch several into one event)."""
    event = build_cos_event([obj.created() for obj in objects], UPLOAD_FUNCTION, clock=time.time)
    return json.dumps([event, build_context(UPLOAD_FUNCTION)])


class Seeder:
    """Driver-side client of the emulator: objects, jobs, tag resets (parallel, signed)."""

    def __init__(self, endpoint_url: str) -> None:
        keys = EmulatorCredentials.default()
        credential = Credential(keys.secret_id, keys.secret_key, keys.token)
        self._transport = Transport(lambda: credential, endpoint=Endpoint(endpoint_url))
        self._jobs = CiClient(self._transport)
        self._host = cos_host(BUCKET, REGION)

    def put_objects(self, prefix: str, count: int, body: bytes) -> list[SeededObject]:
        keys = [f"{prefix}/clip-{number:05d}.mp4" for number in range(count)]
        with ThreadPoolExecutor(SEED_THREADS) as pool:
            return list(pool.map(lambda key: self._put(key, body), keys))

    def _put(self, key: str, body: bytes) -> SeededObject:
        response = self._transport.request(
            "cos", "PUT", self._host, key, headers={"Content-Type": "video/mp4"}, body=body
        )
        return SeededObject(key, response.headers["ETag"].strip('"'), len(body))

    def submit_jobs(self, objects: Sequence[SeededObject], callback_url: str, secret: str) -> None:
        def submit(obj: SeededObject) -> None:
            request = MediaInfoJobRequest(
                object_key=obj.key,
                user_data=encode_user_data(obj.etag, obj.size),
                job_level=0,
                callback_url=callback_url_for(callback_url, secret, BUCKET, obj.key, region=REGION),
                callback_format="JSON",
            )
            self._jobs.submit_media_info_job(BUCKET, REGION, request)

        with ThreadPoolExecutor(SEED_THREADS) as pool:
            list(pool.map(submit, objects))

    def clear_tags(self, objects: Sequence[SeededObject]) -> None:
        def clear(obj: SeededObject) -> None:
            self._transport.request("cos", "DELETE", self._host, obj.key, params={"tagging": ""})

        with ThreadPoolExecutor(SEED_THREADS) as pool:
            list(pool.map(clear, objects))

    def tag_counts(self, objects: Sequence[SeededObject]) -> list[int]:
        """How many tags each object carries now (both implementations write only their own)."""

        def count(obj: SeededObject) -> int:
            response = self._transport.request(
                "cos", "GET", self._host, obj.key, params={"tagging": ""}
            )
            return response.content.count(b"<Tag>")

        with ThreadPoolExecutor(SEED_THREADS) as pool:
            return list(pool.map(count, objects))


@dataclass
class CallbackSink:
    """A loopback HTTP receiver for CI callbacks; keeps function-URL events by object key."""

    events: dict[str, str] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/callback"

    def start(self) -> CallbackSink:
        sink = self

        class Receiver(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                sink.receive(self.path, list(self.headers.items()), body)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def receive(self, target: str, headers: list[tuple[str, str]], body: bytes) -> None:
        event = build_url_event("POST", target, headers, body, "127.0.0.1")
        key = json.loads(body)["JobsDetail"]["Input"]["Object"]
        line = json.dumps([event, build_context(CALLBACK_FUNCTION)])
        with self._lock:
            self.events[key] = line

    def wait_for(self, keys: Sequence[str], timeout_s: float) -> list[str]:
        """The events for ``keys`` in that order; RuntimeError when some never arrived."""
        deadline = time.monotonic() + timeout_s
        while True:
            with self._lock:
                missing = [key for key in keys if key not in self.events]
                if not missing:
                    return [self.events[key] for key in keys]
            if time.monotonic() > deadline:
                raise RuntimeError(f"{len(missing)} CI callbacks never arrived (e.g. {missing[0]})")
            time.sleep(0.05)
