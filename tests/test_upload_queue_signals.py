"""The upload function meets a full or paused CI queue: retried in place, handed on, given up.

Through ``functions.submit_on_upload.index.handle`` over a strict HTTP mock (CI's 403
QueueSaturated / QueuePaused with CI's error body, SCF Invoke for the hand-on), with an injected
clock: nothing sleeps. The context's 3 s limit puts the deadline 1.5 s after the start
(``invocation_deadline``); in-place pauses start at 0.25 s and double (``run`` puts the jitter at
its top, so each is its whole step, unless a test says otherwise); hand-on pauses start at
MEDIA_TAGGER_HANDON_BACKOFF_MS (2 s) and double per generation, half of them jittered.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
import responses

from functions.submit_on_upload import index
from shared.decision_log import LOGGER_NAME
from tests.client_helpers import T0, FakeClock, strict_mock
from tests.events import BUCKET, cos_event, cos_record, load_context
from tests.test_submit_handler import (
    DEMO_KEY,
    ENVIRON,
    JOBS_URL,
    SCF_API,
    expect_hand_on,
    submitted_xml,
)
from tests.upload_helpers import isolated_project_loggers

QUIET = {**ENVIRON, "MEDIA_TAGGER_IDEMPOTENCY_CHECK": "false"}  # POST /jobs only
SATURATED = b"<Error><Code>QueueSaturated</Code><Message>The queue is full.</Message></Error>"
PAUSED = b"<Error><Code>QueuePaused</Code><Message>The queue is suspended.</Message></Error>"
SECOND_KEY = "videos/2024/11/second.mp4"


class LevelHandler(logging.Handler):
    """Every decision line with the level it was logged at (the JSON does not carry it)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append({**json.loads(record.getMessage()), "level": record.levelname})


@pytest.fixture
def logged() -> Iterator[list[dict[str, Any]]]:
    handler = LevelHandler()
    with isolated_project_loggers():
        logging.getLogger(LOGGER_NAME).addHandler(handler)
        yield handler.lines


def full_step() -> float:
    return 1.0  # the jitter at its top: every pause is its whole step


def run(
    event: Any,
    clock: FakeClock,
    environ: dict[str, str] | None = None,
    jitter: Callable[[], float] = full_step,
) -> dict[str, Any]:
    return index.handle(
        event,
        load_context(),
        environ=QUIET if environ is None else environ,
        clock=clock,
        sleep=clock.sleep,
        session=requests.Session(),
        jitter=jitter,
    )


def refuse(mock: responses.RequestsMock, body: bytes) -> None:
    mock.add(responses.POST, JOBS_URL, status=403, body=body)


def hand_on_body(call: Any) -> dict[str, Any]:
    params = json.loads(call.request.body)
    body: dict[str, Any] = json.loads(params["ClientContext"])["MediaTaggerHandOn"]
    return body


def test_a_full_queue_is_retried_in_place_and_the_job_submitted(
    logged: list[dict[str, Any]],
) -> None:
    clock = FakeClock(T0)
    with strict_mock(ordered=True) as mock:
        refuse(mock, SATURATED)
        refuse(mock, SATURATED)
        mock.add(responses.POST, JOBS_URL, body=submitted_xml("j1", DEMO_KEY))
        summary = run(cos_event(cos_record(DEMO_KEY)), clock)
    assert summary["submitted"] == [{"key": DEMO_KEY, "job_id": "j1"}]
    assert summary["handed_on"] == summary["failed"] == summary["unsubmitted"] == []
    assert clock.sleeps == [0.25, 0.5]  # doubling pauses, all inside the 1.5 s deadline
    assert clock.now == T0 + 0.75


def test_in_place_pauses_are_jittered_down_to_half_their_step(
    logged: list[dict[str, Any]],
) -> None:
    """With the jitter at its bottom each pause is half its step (0.125, 0.25, 0.5 s), so a 4th
    try fits before the deadline; instances refused together do not return together."""
    clock = FakeClock(T0)
    with strict_mock(ordered=True) as mock:
        for _ in range(3):
            refuse(mock, SATURATED)
        mock.add(responses.POST, JOBS_URL, body=submitted_xml("j1", DEMO_KEY))
        summary = run(cos_event(cos_record(DEMO_KEY)), clock, jitter=lambda: 0.0)
    assert summary["submitted"] == [{"key": DEMO_KEY, "job_id": "j1"}]
    assert clock.sleeps == [0.125, 0.25, 0.5]


def test_a_queue_full_past_the_deadline_hands_the_record_on(
    logged: list[dict[str, Any]],
) -> None:
    clock = FakeClock(T0)
    with strict_mock(ordered=True) as mock:
        for _ in range(3):  # at T0, T0+0.25, T0+0.75; a 1 s pause would end past T0+1.5
            refuse(mock, SATURATED)
        expect_hand_on(mock, [DEMO_KEY])
        summary = run(cos_event(cos_record(DEMO_KEY)), clock)
    assert summary["handed_on"] == [{"key": DEMO_KEY, "generation": 1}]
    assert summary["failed"] == summary["unsubmitted"] == []
    assert clock.sleeps == [0.25, 0.5]
    body = hand_on_body(mock.calls[-1])
    assert (body["reason"], body["since"], body["fruitless"]) == ("QueueSaturated", T0, 0)
    assert T0 + 0.75 + 1.0 <= body["notBefore"] <= T0 + 0.75 + 2.0  # 2 s, half jittered


def test_a_paused_queue_is_not_waited_for_in_place_and_the_rest_is_not_tried(
    logged: list[dict[str, Any]],
) -> None:
    clock = FakeClock(T0)
    environ = {**QUIET, "MEDIA_TAGGER_UPLOAD_CONCURRENCY": "1"}
    event = cos_event(cos_record(DEMO_KEY), cos_record(SECOND_KEY))
    with strict_mock(ordered=True) as mock:
        refuse(mock, PAUSED)  # one POST: the second record is not tried after a queue signal
        expect_hand_on(mock, [DEMO_KEY, SECOND_KEY])
        summary = run(event, clock, environ)
    assert [item["key"] for item in summary["handed_on"]] == [DEMO_KEY, SECOND_KEY]
    assert clock.sleeps == []  # a pause is an operator's decision: no waiting in place
    body = hand_on_body(mock.calls[-1])
    assert body["reason"] == "QueuePaused"
    assert T0 + 1.0 <= body["notBefore"] <= T0 + 2.0
    handed = [line for line in logged if line["outcome"] == "handed-on"]
    assert [(line["key"], line["reason"], line["level"]) for line in handed] == [
        (DEMO_KEY, "QueuePaused", "INFO"),
        (SECOND_KEY, "QueuePaused", "INFO"),
    ]


def test_a_queue_paused_for_longer_than_the_deadline_is_handed_on_again(
    logged: list[dict[str, Any]],
) -> None:
    """A hand-on whose notBefore lies past this invocation's deadline is not tried: it is
    passed on untried as the next generation, after sleeping to the deadline."""
    clock = FakeClock(T0)
    state = {"version": 1, "generation": 3, "since": T0 - 100.0, "notBefore": T0 + 30.0,
             "fruitless": 0, "reason": "QueuePaused"}  # fmt: skip
    objects = [{"bucket": BUCKET, "region": "ap-guangzhou", "key": DEMO_KEY,
                "size": 10, "etag": None, "versionId": None,
                "eventName": "cos:ObjectCreated:Put", "eventTime": None}]  # fmt: skip
    with strict_mock() as mock:
        expect_hand_on(mock, [DEMO_KEY], generation=4)
        summary = run({"MediaTaggerHandOn": {**state, "objects": objects}}, clock)
    assert summary["handed_on"] == [{"key": DEMO_KEY, "generation": 4}]
    assert clock.sleeps == [1.5]  # to the deadline; no POST /jobs before notBefore
    body = hand_on_body(mock.calls[0])
    assert (body["notBefore"], body["since"], body["reason"]) == (
        T0 + 30.0,
        T0 - 100.0,
        "QueuePaused",
    )


class PausedCloud:
    """CI whose queue stays paused; SCF Invoke answers and keeps every hand-on event."""

    def __init__(self, mock: responses.RequestsMock) -> None:
        self.posts = 0
        self.events: list[dict[str, Any]] = []
        mock.add_callback(responses.POST, JOBS_URL, callback=self._jobs)
        mock.add_callback(responses.POST, SCF_API, callback=self._invoke)

    def _jobs(self, request: requests.PreparedRequest) -> tuple[int, dict[str, str], bytes]:
        self.posts += 1
        return 403, {}, PAUSED

    def _invoke(self, request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        assert request.headers.get("X-TC-Action") == "Invoke"
        params = json.loads(request.body or b"{}")
        self.events.append(json.loads(params["ClientContext"]))
        answer = {"Response": {"Result": {"FunctionRequestId": "r"}, "RequestId": "q"}}
        return 200, {"Content-Type": "application/json"}, json.dumps(answer)


def test_a_chain_of_hand_ons_ends_with_an_error_line_per_key_after_the_max_age(
    logged: list[dict[str, Any]],
) -> None:
    clock = FakeClock(T0)
    environ = {**QUIET, "MEDIA_TAGGER_HANDON_MAX_AGE": "2m", "MEDIA_TAGGER_UPLOAD_CONCURRENCY": "1"}
    event: Any = cos_event(cos_record(DEMO_KEY), cos_record(SECOND_KEY))
    generations = []
    with strict_mock() as mock:
        cloud = PausedCloud(mock)
        for _ in range(1000):  # SCF delivers each hand-on at once; the clock is the handler's
            summary = run(event, clock, environ)
            if not summary["handed_on"]:
                break
            event = cloud.events[-1]
            generations.append(event["MediaTaggerHandOn"]["generation"])
    assert [item["key"] for item in summary["unsubmitted"]] == [DEMO_KEY, SECOND_KEY]
    assert generations == list(range(1, len(generations) + 1))
    assert all(item["MediaTaggerHandOn"]["since"] == T0 for item in cloud.events)
    assert clock.now >= T0 + 120.0  # the chain lasted its max age, not a number of tries
    assert clock.now - max(item["MediaTaggerHandOn"]["notBefore"] for item in cloud.events) < 1.6
    assert 4 <= cloud.posts <= len(generations) + 1  # tried once per due generation, 1 record
    errors = [line for line in logged if line["level"] == "ERROR"]
    assert [(line["outcome"], line["key"]) for line in errors] == [
        ("unsubmitted", DEMO_KEY),
        ("unsubmitted", SECOND_KEY),
    ]
    for line in errors:
        assert line["reason"] == "hand-on-expired:QueuePaused"
        assert line["since"] == T0 and line["generation"] == len(generations)
        assert line["recover"] == (
            f"python -m shared backfill --bucket {BUCKET} --region ap-guangzhou --key {line['key']}"
        )
    assert logged[-1]["outcome"] == "invocation-summary"  # the errors came last, in one run


def test_a_queue_signal_is_never_logged_as_a_permanent_failure(
    logged: list[dict[str, Any]],
) -> None:
    clock = FakeClock(T0)
    with strict_mock(ordered=True) as mock:
        for _ in range(3):
            refuse(mock, SATURATED)
        expect_hand_on(mock, [DEMO_KEY])
        run(cos_event(cos_record(DEMO_KEY)), clock)
    assert [(line["outcome"], line["level"]) for line in logged] == [
        ("handed-on", "INFO"),
        ("invocation-summary", "INFO"),
    ]
