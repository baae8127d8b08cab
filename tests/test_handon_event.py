"""Hand-on events: the round trip, the 128 KB split, strict parsing, and forged times bounded.

The upload function accepts the events it sends itself (``shared.upload.handon_event``); anyone
with ``scf:InvokeFunction`` could send one, so parsing is strict and a chain's times are bounded by
what the function itself would set (SECURITY.md 11a).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import responses

from shared.errors import EventError
from shared.upload.cos_event import UploadRecord
from shared.upload.handon_event import (
    HAND_ON_KEY,
    MAX_EVENT_BYTES,
    HandOnState,
    hand_on_events,
    parse_hand_on_event,
)
from tests.client_helpers import T0, FakeClock, strict_mock
from tests.events import BUCKET, REGION
from tests.test_submit_handler import ENVIRON, JOBS_URL, expect_hand_on, run, submitted_xml


def _record(index: int, key: str, **changes: Any) -> UploadRecord:
    fields: dict[str, Any] = {
        "index": index,
        "bucket": BUCKET,
        "region": REGION,
        "key": key,
        "size": 1024 + index,
        "etag": f"{index:032x}",
        "version_id": None,
        "event_name": "cos:ObjectCreated:Put",
        "request_id": None,
        "event_time": 1_732_500_000 + index,
    }
    fields.update(changes)
    return UploadRecord(**fields)


def _one_event(**body: Any) -> dict[str, Any]:
    (event,) = hand_on_events(
        HandOnState(2, T0, T0 + 5, 1, "QueueSaturated"), [_record(0, "a.mp4")]
    )
    event[HAND_ON_KEY].update(body)
    return event


def test_records_survive_the_round_trip_through_json() -> None:
    records = [
        _record(0, "视频/一 二.mp4"),
        _record(1, "a+b=c 100%.mov", version_id="MTg0NDUxNTc1NjIzMTQ1MDAwODg"),
        _record(2, "plain.mp3", etag=None, event_time=None),
    ]
    state = HandOnState(3, T0, T0 + 4.5, 2, "SlowDown")
    (event,) = hand_on_events(state, records)
    parsed = parse_hand_on_event(json.loads(json.dumps(event)))
    assert parsed is not None
    got_state, got = parsed
    assert got_state == state
    assert [(r.key, r.etag, r.version_id, r.size, r.event_time) for r in got] == [
        (r.key, r.etag, r.version_id, r.size, r.event_time) for r in records
    ]


def test_many_records_are_split_under_the_async_event_limit() -> None:
    long_key = "k/" + "x" * 800
    records = [_record(n, f"{long_key}{n}.mp4") for n in range(400)]
    events = list(hand_on_events(HandOnState(1, T0), records))
    sizes = [len(json.dumps(e, ensure_ascii=False, separators=(",", ":")).encode()) for e in events]
    assert len(events) > 1 and max(sizes) <= MAX_EVENT_BYTES < 128 * 1024
    keys = [item["key"] for e in events for item in e[HAND_ON_KEY]["objects"]]
    assert keys == [r.key for r in records]  # every record once, in order


def test_other_events_are_not_hand_ons() -> None:
    assert parse_hand_on_event({"Records": []}) is None
    assert parse_hand_on_event([HAND_ON_KEY]) is None
    assert parse_hand_on_event("MediaTaggerHandOn") is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"version": 2}, "unknown version"),
        ({"objects": []}, "objects is not a non-empty list"),
        ({"objects": "a.mp4"}, "objects is not a non-empty list"),
        ({"objects": ["a.mp4"]}, "object 0 is not an object"),
        ({"objects": [{"bucket": BUCKET, "key": "a.mp4"}]}, "lacks bucket, region, key"),
        ({"generation": -1}, "generation is not a non-negative number"),
        ({"generation": 1.5}, "generation is not a whole number"),
        ({"since": "yesterday"}, "since is not a non-negative number"),
        ({"notBefore": True}, "notBefore is not a non-negative number"),
    ],
)
def test_malformed_hand_ons_are_typed_errors(change: dict[str, Any], message: str) -> None:
    with pytest.raises(EventError, match=message):
        parse_hand_on_event(_one_event(**change))


def test_a_malformed_hand_on_reaches_the_handler_as_a_logged_skip() -> None:
    with strict_mock():  # not one request
        summary = run(_one_event(version="1"))
    assert summary["submitted"] == summary["handed_on"] == []
    (skip,) = summary["skipped"]
    assert "unknown version" in skip["reason"]


def test_a_forged_far_future_not_before_waits_at_most_the_longest_pause() -> None:
    """A notBefore a year ahead would keep a chain waiting, invocation after invocation; it is
    bounded by the longest pause the function sets (5 min) and then submitted."""
    clock = FakeClock(T0)
    event = _one_event(generation=1, since=T0, notBefore=T0 + 365 * 86400)
    environ = {**ENVIRON, "MEDIA_TAGGER_IDEMPOTENCY_CHECK": "false"}
    context = {"time_limit_in_ms": 900_000, "function_name": "media-submit"}
    with strict_mock() as mock:
        mock.add(responses.POST, JOBS_URL, body=submitted_xml("j1", "a.mp4"))
        summary = run(event, context, environ=environ, clock=clock)
    assert summary["submitted"] == [{"key": "a.mp4", "job_id": "j1"}]
    assert clock.sleeps and sum(clock.sleeps) <= 300


def test_a_forged_future_since_cannot_keep_a_chain_alive_forever() -> None:
    """``since`` in the future would make the chain's age negative, so it would never expire:
    it is taken as now, so the chain it starts expires after MEDIA_TAGGER_HANDON_MAX_AGE."""
    clock = FakeClock(T0)
    future = _one_event(generation=5, since=T0 + 10 * 365 * 86400, notBefore=0, fruitless=0)
    environ = {
        **ENVIRON,
        "MEDIA_TAGGER_IDEMPOTENCY_CHECK": "false",
        "MEDIA_TAGGER_MAX_ATTEMPTS": "1",
    }
    busy = b"<Error><Code>QueueSaturated</Code><Message>full</Message></Error>"
    with strict_mock() as mock:
        mock.add(responses.POST, JOBS_URL, status=400, body=busy)
        expect_hand_on(mock, ["a.mp4"], generation=6)
        assert run(future, environ=environ, clock=clock)["handed_on"] == [
            {"key": "a.mp4", "generation": 6}
        ]
        sent = json.loads(json.loads(mock.calls[-1].request.body)["ClientContext"])
    following = sent[HAND_ON_KEY]
    assert following["since"] == T0  # not ten years ahead
    clock.now = T0 + 24 * 3600 + 1  # the next hop, a day later: the chain has expired
    with strict_mock() as mock:
        mock.add(responses.POST, JOBS_URL, status=400, body=busy)
        expired = run(sent, environ=environ, clock=clock)
    assert expired["unsubmitted"] == [{"key": "a.mp4", "code": "QueueSaturated"}]
