"""The local function-URL adapter: HTTP request <-> SCF function-URL event and reply.

The handlers here are tiny test doubles: they exist to observe what the adapter delivers and to
return chosen replies; the real callback function is exercised by the end-to-end tests.
"""

from __future__ import annotations

import base64
import http.client
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from emulator.scf.events import FunctionIdentity
from emulator.scf.function_url import FunctionUrlServer, build_url_event, query_to_dict

EVENTS = Path(__file__).parent / "events"
CALLBACK = FunctionIdentity(function_name="media-callback")


class Echo:
    """Returns a chosen reply and remembers the events it got."""

    def __init__(self, reply: Any = None, error: Exception | None = None) -> None:
        self.reply = reply
        self.error = error
        self.events: list[dict[str, Any]] = []
        self.contexts: list[dict[str, Any]] = []

    def __call__(self, event: dict[str, Any], context: dict[str, Any]) -> Any:
        self.events.append(event)
        self.contexts.append(context)
        if self.error is not None:
            raise self.error
        return self.reply


@pytest.fixture
def echo() -> Echo:
    return Echo({"statusCode": 200, "headers": {}, "body": ""})


@pytest.fixture
def server(echo: Echo) -> Iterator[FunctionUrlServer]:
    adapter = FunctionUrlServer(echo, CALLBACK, max_request_bytes=64 * 1024)
    adapter.start()
    yield adapter
    adapter.stop()


def test_request_becomes_the_function_url_event(server: FunctionUrlServer, echo: Echo) -> None:
    body = '{"EventName":"TaskFinish","note":"视频 ok"}'
    response = requests.post(
        server.base_url + "ci/callback?token=a%2Bb%3D&plus=a+b&empty=&x=1&x=2",
        data=body.encode("utf-8"),
        headers={"Content-Type": "application/json", "X-Custom-Thing": "Value 1"},
        timeout=5,
    )
    assert response.status_code == 200
    (event,) = echo.events
    assert set(event) == set(json.loads((EVENTS / "furl_json_callback.json").read_text()))
    assert event["httpMethod"] == "POST"
    assert event["path"] == "/ci/callback"
    assert event["queryString"] == {"token": "a+b=", "plus": "a b", "empty": "", "x": ["1", "2"]}
    assert event["body"] == body
    headers = event["headers"]
    assert headers["content-type"] == "application/json"
    assert headers["x-custom-thing"] == "Value 1"
    assert headers["content-length"] == str(len(body.encode("utf-8")))
    assert headers["x-scf-remote-addr"] == "127.0.0.1"
    assert all(name == name.lower() for name in headers)


def test_context_names_the_callback_function(server: FunctionUrlServer, echo: Echo) -> None:
    requests.get(server.base_url, timeout=5)
    (context,) = echo.contexts
    assert context["function_name"] == "media-callback"
    assert context["function_version"] == "$LATEST"


def test_integrated_reply_becomes_the_http_response(server: FunctionUrlServer, echo: Echo) -> None:
    echo.reply = {
        "statusCode": 403,
        "headers": {"Content-Type": "application/json", "X-Reason": "token"},
        "body": '{"error":"forbidden"}',
    }
    response = requests.post(server.base_url + "?token=bad", data=b"<Response/>", timeout=5)
    assert response.status_code == 403
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["X-Reason"] == "token"
    assert response.json() == {"error": "forbidden"}


def test_base64_reply_body_is_decoded(server: FunctionUrlServer, echo: Echo) -> None:
    echo.reply = {
        "statusCode": 200,
        "isBase64Encoded": True,
        "headers": {"Content-Type": "application/octet-stream"},
        "body": base64.b64encode(b"\x00\xffraw").decode(),
    }
    assert requests.get(server.base_url, timeout=5).content == b"\x00\xffraw"


@pytest.mark.parametrize("value", [{"tagged": 3}, [1, "two"], "text", 7])
def test_plain_json_return_is_200_application_json(
    server: FunctionUrlServer, echo: Echo, value: Any
) -> None:
    echo.reply = value
    response = requests.get(server.base_url, timeout=5)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == value


def test_a_raising_handler_gives_502_with_an_error_body(
    server: FunctionUrlServer, echo: Echo
) -> None:
    echo.error = KeyError("JobsDetail")
    response = requests.post(server.base_url, data=b"{}", timeout=5)
    assert response.status_code == 502
    error = response.json()
    assert "JobsDetail" in error["errorMessage"]
    assert error["requestId"] == echo.contexts[0]["request_id"]
    (invocation,) = server.invocations
    assert isinstance(invocation.error, KeyError)
    assert invocation.reply.status == 502


def test_a_reply_that_is_not_json_gives_502(server: FunctionUrlServer, echo: Echo) -> None:
    echo.reply = {"statusCode": 200, "body": object()}
    assert requests.get(server.base_url, timeout=5).status_code == 502


def test_invalid_utf8_body_is_delivered_with_replacement_characters(
    server: FunctionUrlServer, echo: Echo
) -> None:
    requests.post(server.base_url, data=b"ok \xff\xfe end", timeout=5)
    assert echo.events[0]["body"] == "ok \ufffd\ufffd end"


def test_connection_is_kept_alive_across_requests(server: FunctionUrlServer, echo: Echo) -> None:
    host, port = server.base_url.split("//")[1].rstrip("/").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=5)
    sockets = []
    try:
        for body in (b"first", b"second"):
            connection.request("POST", "/", body=body)
            response = connection.getresponse()
            response.read()
            assert response.status == 200
            assert not response.will_close
            sockets.append(connection.sock)
    finally:
        connection.close()
    assert [event["body"] for event in echo.events] == ["first", "second"]
    assert sockets[0] is sockets[1]  # the second request reused the first connection


def test_chunked_request_body_is_reassembled(server: FunctionUrlServer, echo: Echo) -> None:
    response = requests.post(server.base_url, data=iter([b"<Resp", b"onse/>"]), timeout=5)
    assert response.status_code == 200
    assert echo.events[0]["body"] == "<Response/>"


def test_too_large_body_is_refused_without_invoking(server: FunctionUrlServer, echo: Echo) -> None:
    response = requests.post(server.base_url, data=b"x" * (64 * 1024 + 1), timeout=5)
    assert response.status_code == 413
    assert echo.events == []


def test_head_reply_has_no_body(server: FunctionUrlServer, echo: Echo) -> None:
    echo.reply = {"statusCode": 200, "headers": {}, "body": "hello"}
    response = requests.head(server.base_url, timeout=5)
    assert response.status_code == 200
    assert response.headers["Content-Length"] == "5"
    assert response.content == b""


def test_invocations_are_recorded_and_idle_after(server: FunctionUrlServer, echo: Echo) -> None:
    requests.put(server.base_url + "p?q=1", data=b"b", timeout=5)
    assert server.wait_idle(1)
    (invocation,) = server.invocations
    assert invocation.ok
    assert invocation.event["httpMethod"] == "PUT"
    assert invocation.event["queryString"] == {"q": "1"}
    assert invocation.reply.status == 200


def test_event_builder_joins_repeated_headers_and_defaults_the_path() -> None:
    event = build_url_event("get", "?a=1", [("X-A", "1"), ("x-a", "2")], b"", "10.0.0.9")
    assert event["headers"] == {"x-a": "1,2", "x-scf-remote-addr": "10.0.0.9"}
    assert event["path"] == "/"
    assert event["httpMethod"] == "GET"
    assert event["queryString"] == {"a": "1"}


def test_query_decoding_treats_plus_as_space_and_keeps_percent_escapes_decoded() -> None:
    assert query_to_dict("t=a%2Bb+c&u=%E8%A7%86") == {"t": "a+b c", "u": "视"}
