"""Transport's fast path: the adapter is called directly, the wire stays what Session.request sent,
and the keep-alive connection is reused because every body is read before the call returns.

A real loopback HTTP/1.1 server (not a mock) counts TCP connections and records what arrived.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

from shared.errors import CosNotFoundError
from shared.tencent.endpoints import Endpoint
from tests.client_helpers import COS_HOST, make_transport


class _Recorder(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.connections = 0
        self.seen: list[tuple[str, dict[str, str], bytes]] = []

    def process_request(self, request: Any, client_address: Any) -> None:
        self.connections += 1
        super().process_request(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Recorder

    def _answer(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.seen.append((self.command, dict(self.headers.items()), body))
        status = 404 if self.path.startswith("/missing") else 200
        payload = b"" if self.command == "HEAD" else b"x" * 70_000  # larger than one read
        self.send_response(status)
        self.send_header("Content-Length", str(len(payload) if self.command != "HEAD" else 5))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_HEAD = do_PUT = do_DELETE = do_POST = _answer

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def recorder() -> Iterator[_Recorder]:
    server = _Recorder()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def _transport(server: _Recorder) -> Any:
    endpoint = Endpoint(f"http://127.0.0.1:{server.server_address[1]}")
    return make_transport(endpoint=endpoint)


def test_one_connection_for_many_calls_and_bodies_fully_read(recorder: _Recorder) -> None:
    transport = _transport(recorder)
    for _ in range(3):
        assert len(transport.request("cos", "GET", COS_HOST, "a.mp4").content) == 70_000
    transport.request("cos", "HEAD", COS_HOST, "a.mp4")
    transport.request("cos", "PUT", COS_HOST, "a.mp4", params={"tagging": ""}, body=b"<T/>")
    with pytest.raises(CosNotFoundError, match="cos 404 NoSuchResource"):
        transport.request("cos", "GET", COS_HOST, "missing.mp4")
    transport.request("cos", "DELETE", COS_HOST, "a.mp4", params={"tagging": ""})
    assert recorder.connections == 1
    assert [method for method, _, _ in recorder.seen] == ["GET"] * 3 + [
        "HEAD",
        "PUT",
        "GET",
        "DELETE",
    ]


def test_wire_headers_are_those_session_request_sent(recorder: _Recorder) -> None:
    transport = _transport(recorder)
    transport.request("cos", "PUT", COS_HOST, "a.mp4", params={"tagging": ""}, body=b"<T/>")
    transport.request("cos", "DELETE", COS_HOST, "a.mp4", params={"tagging": ""})
    transport.request("cos", "GET", COS_HOST, "a.mp4")
    put, delete, get = (headers for _, headers, _ in recorder.seen)
    assert put["Content-Length"] == "4" and put["Content-Type"] == "application/xml"
    assert delete["Content-Length"] == "0" and "Content-Length" not in get
    defaults = requests.utils.default_headers()
    for headers in (put, delete, get):
        assert headers["Host"] == COS_HOST
        assert headers["Accept-Encoding"] == defaults["Accept-Encoding"]
        assert headers["Connection"] == "keep-alive"
        assert headers["Authorization"].startswith("q-sign-algorithm=sha1&")
    assert recorder.seen[0][2] == b"<T/>"


def test_session_request_and_its_environment_merging_are_not_used(
    recorder: _Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("Session.request / merge_environment_settings must not be called")

    monkeypatch.setattr(requests.Session, "request", refuse)
    monkeypatch.setattr(requests.Session, "merge_environment_settings", refuse)
    response = _transport(recorder).request("cos", "GET", COS_HOST, "a.mp4")
    assert response.status_code == 200
