"""Property: whatever bytes arrive -- as the callback body, or as any answer COS and CI give (HEAD
headers, GET ?tagging body, GET /jobs body, error bodies) -- the callback handler answers without
a 500 and writes nothing it was not vouched for. Runs the real handler over the real clients;
the HTTP answers come from ``responses`` callbacks (any number of calls: retries happen)."""

from __future__ import annotations

import base64
import re
from typing import Any

import requests
import responses
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from functions.tag_on_callback import index
from tests.callback_helpers import BUCKET, ETAG, KEY, REGION, SIZE, callback_json, token_v2_for
from tests.client_helpers import FakeClock
from tests.events import load_context
from tests.test_callback_handler import ENV, job_xml

DEPLOYED = {**ENV, "TENCENTCLOUD_REGION": REGION}
PATH = "/" + token_v2_for(REGION, BUCKET, KEY)
COS = re.compile(rf"https://{BUCKET}\.cos\.{REGION}\.myqcloud\.com/.*")
CI = re.compile(rf"https://{BUCKET}\.ci\.{REGION}\.myqcloud\.com/.*")
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ENCODINGS = ["utf-8", "UTF-7", "UTF-16", "UTF-32", "Shift_JIS", "latin-1", "x-bogus"]
prologs = st.sampled_from(
    [b"", *(f'<?xml version="1.0" encoding="{e}"?>'.encode() for e in ENCODINGS)]
)
junk = st.builds(lambda prolog, tail: prolog + tail, prologs, st.binary(max_size=300))
header_text = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=24)
statuses = st.sampled_from([200, 200, 200, 204, 301, 400, 403, 404, 409, 429, 500, 503])


def invoke(event: dict[str, Any]) -> dict[str, Any]:
    clock = FakeClock()
    session = requests.Session()
    session.trust_env = False
    return index.handle(
        event, load_context(), environ=DEPLOYED, clock=clock, sleep=clock.sleep, session=session
    )


def url_event(body: bytes) -> dict[str, Any]:
    """API-Gateway style base64 delivery, so the body may be any bytes at all."""
    return {
        "httpMethod": "POST",
        "path": PATH,
        "headers": {"content-type": "application/xml"},
        "queryString": {},
        "isBase64Encoded": True,
        "body": base64.b64encode(body).decode(),
    }


@SETTINGS
@given(body=st.one_of(junk, st.binary(max_size=300)))
def test_any_callback_body_is_answered_without_a_500_and_without_a_request(body: bytes) -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        result = invoke(url_event(body))
        assert result["statusCode"] in (200, 400, 403, 413)
        assert len(mock.calls) == 0  # nothing it says is trusted enough to cost a request


GOOD = {"job": (200, {}, job_xml()), "tags": (200, {}, b"<Tagging><TagSet/></Tagging>")}
GOOD_HEAD = (200, {"ETag": f'"{ETAG}"', "Content-Length": str(SIZE)}, b"")
answers = st.tuples(statuses, st.just({}), junk)
head_answers = st.tuples(
    statuses,
    st.fixed_dictionaries({}, optional={"ETag": header_text, "Content-Length": header_text}),
    st.just(b""),
)


@SETTINGS
@given(
    job=st.one_of(st.just(GOOD["job"]), answers),
    head=st.one_of(st.just(GOOD_HEAD), head_answers),
    tags=st.one_of(st.just(GOOD["tags"]), answers),
)
def test_any_upstream_answer_is_answered_without_a_500_and_writes_nothing(
    job: tuple[int, dict[str, str], bytes],
    head: tuple[int, dict[str, str], bytes],
    tags: tuple[int, dict[str, str], bytes],
) -> None:
    # At least one answer is junk (a junk HEAD cannot equal the good one: its ETag is longer).
    assume((job, head, tags) != (GOOD["job"], GOOD_HEAD, GOOD["tags"]))
    puts: list[Any] = []

    def put(request: Any) -> tuple[int, dict[str, str], bytes]:
        puts.append(request)
        return 200, {}, b""

    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_callback(responses.GET, CI, callback=lambda _: job)
        mock.add_callback(responses.HEAD, COS, callback=lambda _: head)
        mock.add_callback(responses.GET, COS, callback=lambda _: tags)
        mock.add_callback(responses.PUT, COS, callback=put)
        event = url_event(callback_json())
        result = invoke(event)
    assert result["statusCode"] in (200, 502, 503), result
    assert puts == []


def test_the_same_setup_with_every_answer_good_does_write() -> None:
    """The property above is not vacuous: with no junk answer the very same setup tags."""
    puts: list[Any] = []

    def put(request: Any) -> tuple[int, dict[str, str], bytes]:
        puts.append(request)
        return 200, {}, b""

    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        mock.add_callback(responses.GET, CI, callback=lambda _: GOOD["job"])
        mock.add_callback(responses.HEAD, COS, callback=lambda _: GOOD_HEAD)
        mock.add_callback(responses.GET, COS, callback=lambda _: GOOD["tags"])
        mock.add_callback(responses.PUT, COS, callback=put)
        result = invoke(url_event(callback_json()))
    assert (result["statusCode"], len(puts)) == (200, 1)
