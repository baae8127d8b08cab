"""Issue 11/19 through the real callback handler (strict HTTP mock): the token in the path or the
query, the region binding, secret rotation (current mints and verifies, previous only verifies),
and bad bytes that must never reach the catch-all. The adversarial corpus holds more cases."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from functions.tag_on_callback import index
from tests.callback_helpers import (
    BUCKET,
    EXPECTED_OK_TAGS,
    KEY,
    REGION,
    SECRET,
    callback_json,
    token_for,
    token_v2_for,
)
from tests.client_helpers import SECRET_KEY, strict_mock
from tests.client_helpers import TOKEN as SESSION_TOKEN
from tests.events import load_context
from tests.test_callback_handler import ENV, Cloud, assert_no_http, call, furl_event, job_xml

OLD_SECRET = "the-previous-callback-secret-0123456789"
OLDER_SECRET = "an-even-older-callback-secret-abcdefghij"
DEPLOYED = {**ENV, "TENCENTCLOUD_REGION": REGION}


def path_event(token: str, body: bytes | None = None, query: str | None = None) -> dict[str, Any]:
    event = furl_event(body or callback_json(), token=query)
    event["path"] = f"/{token}"
    return event


class Lines(logging.Handler):
    """Every decision line (and its level) the handler logs."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def decisions(self) -> list[dict[str, Any]]:
        return [json.loads(r.getMessage()) for r in self.records if r.getMessage()[:1] == "{"]


@pytest.fixture
def cloud() -> Iterator[Cloud]:
    with strict_mock() as mock:
        yield Cloud(mock)


@pytest.fixture
def lines() -> Iterator[Lines]:
    handler = Lines()
    logger = logging.getLogger("media_tagger")
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


def tagged(cloud: Cloud) -> None:
    cloud.reads(job_xml())
    cloud.put_tagging(EXPECTED_OK_TAGS)


@pytest.mark.parametrize(
    ("event", "auth"),
    [
        (path_event(token_v2_for(REGION, BUCKET, KEY)), "v2-path"),
        (furl_event(callback_json(), token=token_for(BUCKET, KEY)), "v1-query"),  # in flight
        (furl_event(callback_json(), token=token_v2_for(REGION, BUCKET, KEY)), "v2-query"),
    ],
)
def test_the_token_is_accepted_in_the_path_and_in_the_query(
    cloud: Cloud, lines: Lines, event: dict[str, Any], auth: str
) -> None:
    tagged(cloud)
    status, summary = call(event, DEPLOYED)
    assert (status, summary["outcome"]) == (200, "tagged")
    (decision,) = lines.decisions()
    assert (decision["auth"], decision["verified_by"], decision["key_form"]) == (
        auth,
        "current",
        "raw",
    )


@pytest.mark.parametrize(
    "event",
    [
        path_event(token_v2_for(REGION, BUCKET, "videos/other.mp4")),
        path_event(token_v2_for(REGION, BUCKET, KEY, secret="x" * 40)),
        furl_event(callback_json(), token=token_for(BUCKET, "videos/other.mp4")),
        path_event(token_v2_for(REGION, BUCKET, KEY), query=token_for(BUCKET, KEY)),  # differ
        path_event(token_v2_for("ap-shanghai", BUCKET, KEY)),  # the region is bound
    ],
    ids=["path-other-object", "path-other-secret", "query-other-object", "both-differ", "region"],
)
def test_a_wrong_token_in_either_place_is_refused_before_any_request(
    cloud: Cloud, event: dict[str, Any]
) -> None:
    status, summary = call(event, DEPLOYED)
    assert (status, summary["reason"]) == (403, "forbidden")
    assert_no_http(cloud)


def test_a_body_naming_a_region_the_function_does_not_serve_is_refused_first(
    cloud: Cloud,
) -> None:
    body = callback_json(region="ap-shanghai")  # a v1 token binds no region at all
    status, summary = call(furl_event(body, token=token_for(BUCKET, KEY)), DEPLOYED)
    assert (status, summary["reason"]) == (403, "forbidden")
    assert_no_http(cloud)


def test_a_token_of_the_previous_secret_verifies_during_the_overlap_only(
    cloud: Cloud, lines: Lines
) -> None:
    rotated = {**DEPLOYED, "MEDIA_TAGGER_CALLBACK_SECRET_PREVIOUS": f"{OLD_SECRET},{OLDER_SECRET}"}
    old = path_event(token_v2_for(REGION, BUCKET, KEY, secret=OLD_SECRET))
    older = furl_event(callback_json(), token=token_for(BUCKET, KEY, secret=OLDER_SECRET))
    for _ in range(2):
        tagged(cloud)
    assert call(old, rotated)[0] == 200
    assert call(older, rotated)[0] == 200
    assert [d["verified_by"] for d in lines.decisions()] == ["previous-1", "previous-2"]
    after = {**DEPLOYED, "MEDIA_TAGGER_CALLBACK_SECRET_PREVIOUS": ""}  # the overlap is over
    calls_before = len(cloud.mock.calls)
    assert call(old, after)[1]["reason"] == "forbidden"
    assert call(older, after)[0] == 403
    assert len(cloud.mock.calls) == calls_before  # refused before any request


def test_no_secret_value_reaches_a_log_line_or_a_reply(
    cloud: Cloud, lines: Lines, capsys: pytest.CaptureFixture[str]
) -> None:
    rotated = {**DEPLOYED, "MEDIA_TAGGER_CALLBACK_SECRET_PREVIOUS": OLD_SECRET}
    old_token = token_v2_for(REGION, BUCKET, KEY, secret=OLD_SECRET)
    tagged(cloud)
    replies = [
        call(path_event(old_token), rotated),
        call(path_event(old_token[:-1] + "A"), rotated),
        call(furl_event(callback_json(), token=OLD_SECRET), rotated),  # a secret as the token
        call(path_event(old_token, query=OLD_SECRET), rotated),
    ]
    assert [status for status, _ in replies] == [200, 403, 403, 403]
    text = capsys.readouterr().out + json.dumps(replies)
    text += "".join(record.getMessage() for record in lines.records)
    for value in (SECRET, OLD_SECRET, old_token, old_token[3:], SECRET_KEY, SESSION_TOKEN):
        assert value not in text
    assert "previous-1" in text  # which secret matched is logged, never its value


@pytest.mark.parametrize("encoding", ["UTF-7", "UTF-32", "Shift_JIS", "x-no-such-encoding"])
def test_an_xml_body_in_a_refused_encoding_is_400_and_never_an_error_log(
    cloud: Cloud, lines: Lines, encoding: str
) -> None:
    body = f'<?xml version="1.0" encoding="{encoding}"?><Response/>'
    event = furl_event(body, token="anything-at-all")  # an anonymous caller
    result = index.handle(event, load_context(), environ=DEPLOYED)
    assert (result["statusCode"], json.loads(result["body"])["reason"]) == (400, "malformed-body")
    assert [record.levelno for record in lines.records] == [logging.WARNING]
    assert_no_http(cloud)
