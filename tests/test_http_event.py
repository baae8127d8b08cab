"""shared.callback.http_event: function-URL and legacy API Gateway events -> HttpRequest."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from shared.callback.http_event import HttpRequest, parse_http_event
from shared.errors import EventError, MalformedBodyError, PayloadTooLargeError

EVENTS = Path(__file__).parent / "events"
CAP = 1024 * 1024


def load_event(name: str) -> dict[str, Any]:
    with (EVENTS / name).open(encoding="utf-8") as handle:
        event: dict[str, Any] = json.load(handle)
    return event


def test_function_url_event() -> None:
    event = load_event("furl_json_callback.json")
    request = parse_http_event(event, max_body_bytes=CAP)
    assert request.method == "POST"
    assert request.path == "/"
    assert request.query == {"token": "REPLACE_WITH_SHARED_SECRET"}
    assert request.headers["content-type"] == "application/json"
    assert request.source_ip == "198.51.100.23"
    assert request.body == event["body"].encode("utf-8")
    assert json.loads(request.body)["EventName"] == "TaskFinish"


def test_api_gateway_base64_event_is_decoded() -> None:
    request = parse_http_event(load_event("apigw_base64.json"), max_body_bytes=CAP)
    assert request.body.startswith(b"<Response><EventName>TaskFinish</EventName>")
    assert request.path == "/ci-callback"
    assert request.source_ip == "198.51.100.23"
    assert request.query == {"token": "REPLACE_WITH_SHARED_SECRET"}


def test_api_gateway_json_event_and_query_precedence() -> None:
    event = load_event("apigw_json_callback.json")
    event["queryStringParameters"] = {"token": "declared", "other": "1"}
    request = parse_http_event(event, max_body_bytes=CAP)
    # queryString holds every parameter and wins; declared-only parameters are kept.
    assert request.query == {"token": "REPLACE_WITH_SHARED_SECRET", "other": "1"}


def test_query_from_query_string_parameters_only() -> None:
    event = {"httpMethod": "POST", "queryStringParameters": {"token": "t1"}, "body": "{}"}
    assert parse_http_event(event, max_body_bytes=CAP).query == {"token": "t1"}


def test_repeated_parameter_can_never_be_a_single_token() -> None:
    event = {"httpMethod": "POST", "queryString": {"token": ["a", "b"]}, "body": ""}
    assert parse_http_event(event, max_body_bytes=CAP).query["token"] == "a,b"


def test_headers_are_lower_cased_and_method_upper_cased() -> None:
    event = {"httpMethod": "post", "headers": {"Content-Type": "text/xml"}, "body": None}
    request = parse_http_event(event, max_body_bytes=CAP)
    assert request == HttpRequest(
        method="POST", path="/", headers={"content-type": "text/xml"}, query={}, body=b""
    )


def test_method_from_request_context() -> None:
    event = {"requestContext": {"httpMethod": "GET", "sourceIp": "10.0.0.1"}}
    request = parse_http_event(event, max_body_bytes=CAP)
    assert (request.method, request.source_ip) == ("GET", "10.0.0.1")


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        ([], "event is not a JSON object"),
        ("text", "event is not a JSON object"),
        (None, "event is not a JSON object"),
        ({"body": "{}"}, "event has no httpMethod"),
        ({"httpMethod": " "}, "event has no httpMethod"),
    ],
)
def test_not_an_http_event(event: Any, reason: str) -> None:
    with pytest.raises(EventError, match=reason) as caught:
        parse_http_event(event, max_body_bytes=CAP)
    assert caught.value.http_status == 400


@pytest.mark.parametrize("body", ["not base64!", "QUJDR", "QQ", "////\x00"])
def test_bad_base64_is_malformed(body: str) -> None:
    event = {"httpMethod": "POST", "body": body, "isBase64Encoded": True}
    with pytest.raises(MalformedBodyError, match="body is flagged base64 but is not valid base64"):
        parse_http_event(event, max_body_bytes=CAP)


def test_base64_flag_as_string_and_line_breaks_tolerated() -> None:
    encoded = base64.b64encode(b"<Response/>" * 10).decode()
    wrapped = "\n".join(encoded[i : i + 20] for i in range(0, len(encoded), 20))
    event = {"httpMethod": "POST", "body": wrapped, "isBase64Encoded": "true"}
    assert parse_http_event(event, max_body_bytes=CAP).body == b"<Response/>" * 10


def test_body_that_is_not_text_is_malformed() -> None:
    with pytest.raises(MalformedBodyError, match="event body is not a string"):
        parse_http_event({"httpMethod": "POST", "body": {"a": 1}}, max_body_bytes=CAP)
    with pytest.raises(MalformedBodyError, match="body is not encodable as UTF-8"):
        parse_http_event({"httpMethod": "POST", "body": "\ud800"}, max_body_bytes=CAP)


@pytest.mark.parametrize(
    ("body", "flag", "too_large"),
    [
        ("x" * 1024, False, False),
        ("x" * 1025, False, True),
        ("é" * 512, False, False),  # 1024 bytes
        ("é" * 513, False, True),  # 1026 bytes although 513 characters
        (base64.b64encode(b"y" * 1024).decode(), True, False),
        (base64.b64encode(b"y" * 1025).decode(), True, True),
        ("A" * 10_000_000, True, True),  # refused before decoding
    ],
)
def test_body_cap(body: str, flag: bool, too_large: bool) -> None:
    event = {"httpMethod": "POST", "body": body, "isBase64Encoded": flag}
    if too_large:
        with pytest.raises(PayloadTooLargeError, match="body larger than 1024 bytes") as caught:
            parse_http_event(event, max_body_bytes=1024)
        assert caught.value.http_status == 413
    else:
        assert len(parse_http_event(event, max_body_bytes=1024).body) == 1024
