"""The emulator's HTTP/1.1 request handler: bytes on the socket <-> ApiRequest / Reply.

Parses the request line (its raw target: signature, routing and key all see the path the client
sent), headers and body framing (Content-Length or chunked), hands the request to the router, then
writes the reply with a correct Content-Length (none for 204, 0 for 304, the object's length for
HEAD), streams a stored object's file (or the requested range of it) and keeps the connection alive.
Unread body bytes are drained so the next request on the connection starts at the right place. It
logs no header values.
"""

from __future__ import annotations

import logging
import shutil
import socket
import threading
import time
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, BinaryIO, cast
from urllib.parse import parse_qsl, unquote, urlsplit

from emulator.routing import classify
from emulator.wire import ApiRequest, BodyReader, Reply

if TYPE_CHECKING:
    from emulator.server import EmulatorServer

LOG = logging.getLogger(__name__)
NOT_MODIFIED = 304
NO_BODY_STATUSES = frozenset({204, NOT_MODIFIED})
COPY_CHUNK = 256 * 1024


def split_target(target: str) -> tuple[str, str]:
    """Raw path and raw query of a request target: origin-form ``/k?q`` (split by hand, since
    urlsplit reads ``//host/k`` as a network location) or absolute-form ``http://host/k?q``
    (the SDK used as an HTTP proxy). A fragment is dropped as urlsplit would."""
    if target.startswith("/"):
        path, _, query = target.partition("?")
        return path.partition("#")[0], query.partition("#")[0]
    parts = urlsplit(target)
    return parts.path or "/", parts.query


def _cos_resource(request: ApiRequest) -> str:
    """bucket, uploads (initiate / list uploads), part, upload (complete / abort / list parts),
    tagging or object."""
    if request.has_param("uploads"):
        return "uploads"
    if not request.key:
        return "bucket"
    if request.has_param("uploadId"):
        return "part" if request.method == "PUT" else "upload"
    if request.has_param("tagging"):
        return "tagging"
    return "object"


def _operation(request: ApiRequest, kind: str) -> str:
    if kind == "cos":
        return f"cos:{request.method}:{_cos_resource(request)}"
    return f"{kind}:{request.method}"


def _copy_exactly(source: BinaryIO, out: BinaryIO, length: int) -> None:
    while length > 0:
        chunk = source.read(min(COPY_CHUNK, length))
        if not chunk:
            raise OSError("the object file ended before its recorded length")
        out.write(chunk)
        length -= len(chunk)


class EmulatorRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "tencent-cos"
    timeout = 120  # idle keep-alive connections are closed after this many seconds
    # Headers and body leave in separate writes: without TCP_NODELAY, Nagle + delayed ACK
    # would add ~40 ms to every reply with a body.
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        self._serve()

    def do_HEAD(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:
        # Only method and path: a query string may carry a pre-signed URL's signature or token.
        command = getattr(self, "command", None) or "-"
        LOG.debug(
            "%s %s %s",
            self.address_string(),
            command,
            urlsplit(getattr(self, "path", "") or "").path,
        )

    @property
    def emulator(self) -> EmulatorServer:
        return cast(Any, self.server).emulator  # type: ignore[no-any-return]

    def _serve(self) -> None:
        request = self._parse()
        if request is None:
            return
        route = classify(request.headers.get("host", ""), request.path)
        started = time.monotonic()
        try:
            reply = self.emulator.router.answer(request, route)
        except Exception:
            LOG.exception("unexpected failure on %s", request.method)
            reply = Reply(500, [("Content-Type", "text/plain")], b"emulator failure\n")
        try:
            request.body.drain()
        except (OSError, ValueError):
            self.close_connection = True
        kind = request.service or route.kind
        operation = _operation(request, kind)
        self.emulator.count_request(kind, request.headers.get("host", ""), operation, reply.status)
        self.emulator.record_timing(operation, request.key, started, time.monotonic())
        self._write(reply)

    def _parse(self) -> ApiRequest | None:
        headers = {name.lower(): value for name, value in self.headers.items()}
        chunked = "chunked" in headers.get("transfer-encoding", "").lower()
        length_text = headers.get("content-length", "0") or "0"
        if not length_text.isdigit():
            self.send_error(400, "bad Content-Length")
            return None
        raw_path, query = split_target(self._request_target())
        return ApiRequest(
            method=self.command,
            raw_path=raw_path,
            # Bytes that are not UTF-8 survive as surrogates; the router answers InvalidURI.
            path=unquote(raw_path, errors="surrogateescape"),
            query=parse_qsl(query, keep_blank_values=True),
            headers=headers,
            raw_headers=dict(self.headers.items()),
            body=BodyReader(cast(BinaryIO, self.rfile), int(length_text), chunked),
            client_ip=self.client_address[0],
        )

    def _request_target(self) -> str:
        """The target exactly as on the request line: http.server rewrites a leading '//' in
        ``self.path`` (an open-redirect guard), which would change the key and the signed path."""
        raw: bytes = getattr(self, "raw_requestline", b"")  # set by BaseHTTPRequestHandler
        words = str(raw, "iso-8859-1").rstrip("\r\n").split()
        return words[1] if len(words) >= 2 else self.path

    def _write(self, reply: Reply) -> None:
        try:
            self._write_reply(reply)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up before the answer (a timed-out function): what COS sees too.
            LOG.info("client left before the %s answer to %s", reply.status, self.command)
            self.close_connection = True
        finally:
            if reply.body_file is not None:
                reply.body_file.close()

    def _write_reply(self, reply: Reply) -> None:
        self.send_response_only(reply.status)
        self.send_header("Date", formatdate(usegmt=True))
        for name, value in reply.headers:
            self.send_header(name, value)
        if reply.status not in NO_BODY_STATUSES:
            length = reply.content_length if reply.content_length is not None else len(reply.body)
            self.send_header("Content-Length", str(length))
        elif reply.status == NOT_MODIFIED:
            # COS's 304 samples say Content-Length: 0, and cos-python-sdk-v5's get_object
            # fails on a 304 without it ("create StreamBody failed without Content-Length")
            self.send_header("Content-Length", "0")
        self.send_header("Connection", "close" if self.close_connection else "keep-alive")
        self.end_headers()
        if self.command == "HEAD" or reply.status in NO_BODY_STATUSES:
            return
        if reply.body_file is None:
            self.wfile.write(reply.body)
            return
        reply.body_file.seek(reply.body_offset)
        if reply.content_length is None:
            shutil.copyfileobj(reply.body_file, self.wfile)
        else:
            _copy_exactly(reply.body_file, cast(BinaryIO, self.wfile), reply.content_length)


class EmulatorHttpServer(ThreadingHTTPServer):
    """Threaded HTTP/1.1 server that tracks open connections (``stop`` wakes idle ones)."""

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
