"""shared.upload.event_run: what an invocation hands on, when it waits, when a chain gives up.

Driven through the real ``UploadService`` with the typed fakes, an injected clock whose sleep only
moves it, a fixed jitter and a recording hand-on port. Hand-on events are written out by hand
(the wire form of shared.upload.handon_event), and every expected pause is worked out in the
comments: ``min(backoff_max, backoff_first * 2**generation) * (0.5 + jitter / 2)``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from shared.decision_log import LOGGER_NAME, DecisionLog
from shared.errors import CiError, ConfigError, MediaTaggerError
from shared.settings.functions import load_upload_settings
from shared.upload.cos_event import UploadRecord
from shared.upload.event_run import EventRun, HandOnPolicy, TransientSubmitError
from shared.upload.handon_event import MAX_EVENT_BYTES, HandOnState, hand_on_events
from shared.upload.service import UploadService
from tests.events import BUCKET, REGION, cos_event, cos_record
from tests.fakes import FakeMediaJobs, FakeObjectStore
from tests.upload_helpers import BASE_ENVIRON, ListHandler, isolated_project_loggers

T0 = 1_732_500_200.0
DAY = 24 * 3600.0
KEYS = ("a.mp4", "b.mp4", "c.mp4")
SATURATED = CiError(403, "QueueSaturated", "the queue is full")
UNAVAILABLE = CiError(503, "ServiceUnavailable", "busy")


class Clock:
    """Wall time that only ``sleep`` moves; every sleep is recorded."""

    def __init__(self, now: float = T0) -> None:
        self.now = now
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class RecordingHandOn:
    """The SCF self-invocation port: keeps each event, or refuses with ``error``."""

    def __init__(self, error: MediaTaggerError | None = None) -> None:
        self.events: list[dict[str, Any]] = []
        self.error = error

    def hand_on(self, event: Mapping[str, Any], *, deadline: float | None = None) -> None:
        self.events.append(json.loads(json.dumps(event)))
        if self.error is not None:
            raise self.error

    def bodies(self) -> list[dict[str, Any]]:
        return [event["MediaTaggerHandOn"] for event in self.events]


@pytest.fixture
def lines() -> Iterator[list[str]]:
    handler = ListHandler()
    with isolated_project_loggers():
        logger = logging.getLogger(LOGGER_NAME)
        logger.setLevel("DEBUG")
        logger.addHandler(handler)
        yield handler.lines


def run(
    event: Any,
    jobs: FakeMediaJobs,
    hand_on: RecordingHandOn | None,
    clock: Clock,
    *,
    deadline: float | None = None,
) -> dict[str, Any]:
    settings = load_upload_settings({**BASE_ENVIRON, "MEDIA_TAGGER_IDEMPOTENCY_CHECK": "false"})
    store = FakeObjectStore(forbid=("put_tagging", "list", "get_tagging"))
    log = DecisionLog("submit_on_upload", "req-1")
    service = UploadService(settings, store, jobs, log, clock=clock, sleep=clock.sleep)
    policy = HandOnPolicy(concurrency=1)  # records in order: the expected calls are exact
    runner = EventRun(service, hand_on, policy, clock=clock, sleep=clock.sleep, jitter=lambda: 0.5)
    return runner.run(event, deadline=deadline)


def upload_event(*keys: str) -> dict[str, Any]:
    return cos_event(*(cos_record(key) for key in keys))


def hand_on_event(
    *keys: str,
    generation: int,
    since: float = T0,
    not_before: float = 0.0,
    fruitless: int = 0,
    reason: str = "QueueSaturated",
) -> dict[str, Any]:
    """A hand-on event as the previous generation sent it (the wire form, by hand)."""
    objects = [
        {
            "bucket": BUCKET,
            "region": REGION,
            "key": key,
            "size": 2561690,
            "etag": "eb6cf523ae4d528e72f2d11f3a91cd40",
            "versionId": None,
            "eventName": "cos:ObjectCreated:Put",
            "eventTime": None,
        }
        for key in keys
    ]
    body = {
        "version": 1,
        "generation": generation,
        "since": since,
        "notBefore": not_before,
        "fruitless": fruitless,
        "reason": reason,
        "objects": objects,
    }
    return {"MediaTaggerHandOn": body}


def submitted_keys(jobs: FakeMediaJobs) -> list[str]:
    return [request.object_key for _, _, request, _ in jobs.submitted]


def handed_keys(body: Mapping[str, Any]) -> list[str]:
    return [item["key"] for item in body["objects"]]


def test_a_full_queue_stops_the_invocation_and_hands_every_record_on() -> None:
    jobs, hand_on, clock = FakeMediaJobs(errors={"a.mp4": SATURATED}), RecordingHandOn(), Clock()
    summary = run(upload_event(*KEYS), jobs, hand_on, clock)
    assert submitted_keys(jobs) == ["a.mp4"]  # b and c are not tried once CI said "full"
    (body,) = hand_on.bodies()
    assert handed_keys(body) == list(KEYS)
    # generation 0 -> 1; pause min(300, 2 * 2**0) * (0.5 + 0.5 / 2) = 1.5 s
    assert (body["generation"], body["reason"], body["fruitless"]) == (1, "QueueSaturated", 0)
    assert (body["since"], body["notBefore"]) == (T0, T0 + 1.5)
    assert summary["handed_on"] == [{"key": key, "generation": 1} for key in KEYS]
    assert summary["failed"] == summary["unsubmitted"] == []


@pytest.mark.parametrize(
    ("generation", "pause"),
    [
        (1, 3.0),  # 2 * 2**1 = 4 -> * 0.75
        (3, 12.0),  # 2 * 2**3 = 16 -> * 0.75
        (10, 225.0),  # 2 * 2**10 = 2048, capped at 300 -> * 0.75
    ],
)
def test_the_pause_doubles_per_generation_up_to_its_cap(generation: int, pause: float) -> None:
    jobs, hand_on, clock = FakeMediaJobs(errors={"a.mp4": SATURATED}), RecordingHandOn(), Clock()
    run(hand_on_event("a.mp4", generation=generation), jobs, hand_on, clock)
    (body,) = hand_on.bodies()
    assert (body["generation"], body["notBefore"]) == (generation + 1, T0 + pause)


def test_records_left_by_the_deadline_alone_are_handed_on_without_a_pause() -> None:
    jobs, hand_on, clock = FakeMediaJobs(), RecordingHandOn(), Clock()
    summary = run(upload_event(*KEYS), jobs, hand_on, clock, deadline=T0 - 1)
    assert jobs.submitted == []
    (body,) = hand_on.bodies()
    assert (body["notBefore"], body["reason"], body["generation"]) == (T0, "DeadlineExceeded", 1)
    assert [item["key"] for item in summary["handed_on"]] == list(KEYS)


def test_a_hand_on_waits_for_its_not_before() -> None:
    jobs, hand_on, clock = FakeMediaJobs(), RecordingHandOn(), Clock()
    event = hand_on_event("a.mp4", generation=2, not_before=T0 + 30)
    summary = run(event, jobs, hand_on, clock, deadline=T0 + 100)
    assert clock.sleeps == [30.0] and submitted_keys(jobs) == ["a.mp4"]
    assert summary["submitted"] == [{"key": "a.mp4", "job_id": "j" + "0" * 30 + "1"}]
    assert hand_on.events == []


def test_a_not_before_past_the_deadline_is_passed_on_untried() -> None:
    jobs, hand_on, clock = FakeMediaJobs(), RecordingHandOn(), Clock()
    event = hand_on_event("a.mp4", generation=2, not_before=T0 + 300)
    run(event, jobs, hand_on, clock, deadline=T0 + 100)
    assert clock.sleeps == [100.0] and jobs.submitted == []  # sleeps to its deadline, no spin
    (body,) = hand_on.bodies()
    assert (body["generation"], body["notBefore"]) == (3, T0 + 300)


def test_a_chain_older_than_a_day_gives_up_with_the_recovery_command(lines: list[str]) -> None:
    jobs, hand_on, clock = FakeMediaJobs(errors={"a b.mp4": SATURATED}), RecordingHandOn(), Clock()
    event = hand_on_event("a b.mp4", generation=40, since=T0 - DAY - 1)
    summary = run(event, jobs, hand_on, clock)
    assert hand_on.events == []
    assert summary["unsubmitted"] == [{"key": "a b.mp4", "code": "QueueSaturated"}]
    (line,) = [d for d in map(json.loads, lines) if d["outcome"] == "unsubmitted"]
    assert line["reason"] == "hand-on-expired:QueueSaturated"
    assert line["recover"] == (
        f"python -m shared backfill --bucket {BUCKET} --region {REGION} --key 'a b.mp4'"
    )
    young = hand_on_event("a b.mp4", generation=40, since=T0 - DAY + 1)
    run(young, jobs, hand_on, clock)
    assert [body["generation"] for body in hand_on.bodies()] == [41]


def test_queue_signals_never_count_as_fruitless() -> None:
    jobs, hand_on, clock = FakeMediaJobs(errors={"a.mp4": SATURATED}), RecordingHandOn(), Clock()
    run(hand_on_event("a.mp4", generation=9, fruitless=9), jobs, hand_on, clock)
    (body,) = hand_on.bodies()
    assert (body["generation"], body["fruitless"]) == (10, 0)


@pytest.mark.parametrize(("fruitless", "handed"), [(3, True), (4, False)])
def test_other_failures_give_up_after_four_fruitless_generations(
    fruitless: int, handed: bool
) -> None:
    jobs, hand_on, clock = FakeMediaJobs(errors={"a.mp4": UNAVAILABLE}), RecordingHandOn(), Clock()
    event = hand_on_event("a.mp4", generation=5, fruitless=fruitless, reason="ServiceUnavailable")
    summary = run(event, jobs, hand_on, clock)
    if handed:
        (body,) = hand_on.bodies()
        assert (body["fruitless"], body["reason"]) == (4, "ServiceUnavailable")
    else:
        assert hand_on.events == []
        assert summary["unsubmitted"] == [{"key": "a.mp4", "code": "ServiceUnavailable"}]


def test_a_generation_that_submitted_something_starts_counting_again() -> None:
    jobs, hand_on, clock = FakeMediaJobs(errors={"a.mp4": UNAVAILABLE}), RecordingHandOn(), Clock()
    event = hand_on_event("a.mp4", "b.mp4", generation=5, fruitless=4, reason="ServiceUnavailable")
    summary = run(event, jobs, hand_on, clock)
    assert [item["key"] for item in summary["submitted"]] == ["b.mp4"]
    (body,) = hand_on.bodies()
    assert (handed_keys(body), body["fruitless"]) == (["a.mp4"], 0)


def test_without_a_hand_on_port_scf_retries_the_event() -> None:
    jobs, clock = FakeMediaJobs(errors={"b.mp4": UNAVAILABLE}), Clock()
    with pytest.raises(TransientSubmitError, match=r"1 record\(s\) not submitted.*'b\.mp4'"):
        run(upload_event(*KEYS), jobs, None, clock)
    assert submitted_keys(jobs) == list(KEYS)


def test_a_refused_hand_on_makes_scf_retry_the_event() -> None:
    jobs, clock = FakeMediaJobs(errors={"b.mp4": UNAVAILABLE}), Clock()
    refused = RecordingHandOn(ConfigError("SCF_IDENTITY", "no scf:InvokeFunction"))
    with pytest.raises(TransientSubmitError, match=r"'b\.mp4'") as caught:
        run(upload_event(*KEYS), jobs, refused, clock)
    assert caught.value.summary["failed"] == [
        {"key": "b.mp4", "code": "ServiceUnavailable", "permanent": False}
    ]


def record(key: str) -> UploadRecord:
    return UploadRecord(0, BUCKET, REGION, key, 1, "e" * 32, None, "cos:ObjectCreated:Put", None)


def test_hand_on_events_stay_under_the_async_event_limit() -> None:
    keys = [f"{n:04d}/" + "k" * 300 for n in range(400)]  # ~180 KB of objects in all
    events = list(hand_on_events(HandOnState(1, T0), [record(key) for key in keys]))
    sizes = [len(json.dumps(event, separators=(",", ":")).encode()) for event in events]
    assert len(events) == 2 and all(size <= MAX_EVENT_BYTES for size in sizes)
    assert [item["key"] for event in events for item in event["MediaTaggerHandOn"]["objects"]] == (
        keys
    )
