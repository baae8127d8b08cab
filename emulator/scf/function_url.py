"""A local SCF function URL: HTTP request -> function-URL event -> handler -> HTTP response.

Event (scf-platform.md §2.2): ``body`` (str), ``headers`` (lower-case keys plus
``x-scf-remote-addr``), ``httpMethod``, ``path`` (no query) and ``queryString`` (dict, decoded
like Go's url.ParseQuery: "+" is a space; a repeated name gives a list of its values).
The body is decoded as UTF-8 with ``errors="replace"``: the platform delivers the event as JSON, and
a JSON encoder such as Go's replaces invalid UTF-8 with U+FFFD, so a handler never sees bytes or
lone surrogates here either ([inference]: binary bodies are undocumented; CI callbacks are text).
Reply: ``{"statusCode", "headers", "body"}`` is sent as is (``isBase64Encoded`` honoured); any other
JSON value becomes 200 ``application/json``; a raised exception or a reply that is not JSON becomes
502 with an SCF-like error body. Invocation is synchronous and never retried (the caller retries).
The server speaks HTTP/1.1 with keep-alive on loopback. It must not import the handlers.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import parse_qsl, urlsplit

from emulator.scf.events import FunctionIdentity, build_context

LOG = logging.getLogger("emulator.scf.function_url")

Handler = Callable[[dict[str, Any], dict[str, Any]], Any]
MAX_REQUEST_BYTES = 6 * 1024 * 1024  # SCF's synchronous request limit


@dataclass(frozen=True)
class HttpReply:
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class UrlInvocation:
    """One request through the adapter: the event, the context and what came back."""

    event: dict[str, Any]
    context: dict[str, Any]
    result: Any
    error: BaseException | None
    reply: HttpReply
    duration_s: float

    @property
    def ok(self) -> bool:
        return self.error is None


def query_to_dict(query: str) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        if name not in values:
            values[name] = value
        elif isinstance(values[name], list):
            values[name].append(value)
        else:
            values[name] = [values[name], value]
    return values


def build_url_event(
    method: str, target: str, headers: list[tuple[str, str]], body: bytes, remote_addr: str
) -> dict[str, Any]:
    """The function-URL event for one HTTP request (``target`` is the request line's path+query)."""
    parts = urlsplit(target)
    lowered: dict[str, str] = {}
    for name, value in headers:
        key = name.lower()
        lowered[key] = f"{lowered[key]},{value}" if key in lowered else value
    lowered["x-scf-remote-addr"] = remote_addr
    return {
        "body": body.decode("utf-8", errors="replace"),
        "headers": lowered,
        "httpMethod": method.upper(),
        "path": parts.path or "/",
        "queryString": query_to_dict(parts.query),
    }


def error_reply(status: int, message: str, request_id: str, error_type: str) -> HttpReply:
    body = {
        "errorCode": -1,
        "errorMessage": message,
        "errorType": error_type,
        "requestId": request_id,
        "statusCode": status,
    }
    return HttpReply(status, {"Content-Type": "application/json"}, json.dumps(body).encode())


def reply_from_result(result: Any) -> HttpReply:
    """Map the handler's return value to HTTP; raises TypeError/ValueError when it is unusable."""
    delivered = json.loads(json.dumps(result))  # what the platform would have serialised
    if not isinstance(delivered, dict) or "statusCode" not in delivered:
        return HttpReply(200, {"Content-Type": "application/json"}, json.dumps(delivered).encode())
    status = int(delivered["statusCode"])
    headers = {str(k): str(v) for k, v in (delivered.get("headers") or {}).items()}
    body = delivered.get("body", "")
    if not isinstance(body, str):
        body = json.dumps(body)
    raw = base64.b64decode(body) if delivered.get("isBase64Encoded") else body.encode("utf-8")
    return HttpReply(status, headers, raw)


class _FunctionUrlHttpServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        handler_class: type[BaseHTTPRequestHandler],
        adapter: FunctionUrlServer,
    ) -> None:
        super().__init__(address, handler_class)
        self.adapter = adapter


class FunctionUrlServer:
    """Serves one function behind ``base_url``; records every invocation for tests."""

    def __init__(
        self,
        handler: Handler,
        identity: FunctionIdentity,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        max_request_bytes: int = MAX_REQUEST_BYTES,
    ) -> None:
        self._handler = handler
        self._identity = identity
        self.max_request_bytes = max_request_bytes
        self._lock = threading.Condition()
        self._records: list[UrlInvocation] = []
        self._in_flight = 0
        self._httpd = _FunctionUrlHttpServer((host, port), FunctionUrlRequestHandler, self)
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}/"

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="function-url",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:  # shutdown() would wait forever for a loop never started
            self._httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._httpd.server_close()

    def invoke(self, event: dict[str, Any]) -> UrlInvocation:
        """Call the handler with ``event`` and map the outcome to an HTTP reply (and record it)."""
        with self._lock:
            self._in_flight += 1
        try:
            invocation = self._invoke(event)
        finally:
            with self._lock:
                self._in_flight -= 1
                self._lock.notify_all()
        with self._lock:
            self._records.append(invocation)
        return invocation

    def _invoke(self, event: dict[str, Any]) -> UrlInvocation:
        context = build_context(self._identity)
        started = time.monotonic()
        result: Any = None
        error: BaseException | None = None
        try:
            result = self._handler(json.loads(json.dumps(event)), dict(context))
            reply = reply_from_result(result)
        except Exception as exc:  # the platform turns any failure into a 502
            error = exc
            reply = error_reply(
                502, f"{type(exc).__name__}: {exc}", context["request_id"], "UserCodeException"
            )
            LOG.warning(
                "callback function failed request_id=%s error=%s",
                context["request_id"],
                type(exc).__name__,
            )
        return UrlInvocation(event, context, result, error, reply, time.monotonic() - started)

    @property
    def invocations(self) -> list[UrlInvocation]:
        with self._lock:
            return list(self._records)

    @property
    def in_flight(self) -> int:
        with self._lock:
            return self._in_flight

    def wait_idle(self, timeout_s: float) -> bool:
        with self._lock:
            return self._lock.wait_for(lambda: self._in_flight == 0, timeout=timeout_s)


class FunctionUrlRequestHandler(BaseHTTPRequestHandler):
    """One HTTP/1.1 connection to the function URL (keep-alive: every reply has a length)."""

    protocol_version = "HTTP/1.1"
    server_version = "emulated-scf-function-url"
    server: _FunctionUrlHttpServer

    def _serve(self) -> None:
        body = self._read_body()
        if body is None:
            return
        event = build_url_event(
            self.command, self.path, list(self.headers.items()), body, self.client_address[0]
        )
        self._send(self.server.adapter.invoke(event).reply)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD = _serve

    def _read_body(self) -> bytes | None:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        length = int(self.headers.get("Content-Length") or 0)
        if length > self.server.adapter.max_request_bytes:
            self._send(error_reply(413, "request too large", str(uuid.uuid4()), "RequestTooLarge"))
            self.close_connection = True
            return None
        return self.rfile.read(length)

    def _read_chunked(self) -> bytes:
        chunks: list[bytes] = []
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline().strip():
                    pass
                return b"".join(chunks)
            chunks.append(self.rfile.read(size))
            self.rfile.readline()

    def _send(self, reply: HttpReply) -> None:
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(reply.body)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # the query carries the callback token: log the path only
        LOG.debug("%s %s %s", self.command, urlsplit(self.path).path, code)

    def log_message(self, format: str, *args: Any) -> None:
        LOG.debug("function url: %s", format)  # args may hold the request line (token)
