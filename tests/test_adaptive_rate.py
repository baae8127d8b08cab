"""Backfill's adaptive pace: each step of the controller with exact values, the submit wrapper
that retries queue signals, and a backfill that meets a full queue (typed fakes, injected clock).

Figures: max 8 jobs/s, min 0.25, increase 0.5 (jobs/s per second of accepted submits, i.e.
+0.5 / rate per accepted job), decrease x0.5 at most once per 1 s; all exact in binary.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.decision_log import DecisionLog
from shared.errors import CiError
from shared.ops.adaptive_rate import AdaptiveJobs, AdaptiveRate
from shared.ops.backfill import Backfill, BackfillTarget
from shared.ops.checkpoint import load_state
from shared.ops.queue_fill import QueueWatch
from shared.ports import MediaInfoJobRequest
from shared.settings.functions import load_upload_settings
from shared.tencent.media_queue import MediaQueue
from shared.upload.service import UploadService
from tests.fakes import FakeMediaJobs, FakeObjectStore
from tests.test_queue_fill import FakeLookup
from tests.upload_helpers import BASE_ENVIRON

T = 1000.0
REQUEST = MediaInfoJobRequest("clips/a.mp4", "mt1;e=x;s=1", 0, "https://h.example/v2.t", "JSON")


class FakeTime:
    def __init__(self, now: float = T) -> None:
        self.now = now
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def pace(time: FakeTime, max_rate: float = 8.0) -> AdaptiveRate:
    return AdaptiveRate(max_rate, min_rate=0.25, clock=time.clock, sleep=time.sleep)


def saturated() -> CiError:
    return CiError(403, "QueueSaturated", "The queue is full.")


def paused() -> CiError:
    return CiError(403, "QueuePaused", "The queue is suspended.")


# -- the controller ---------------------------------------------------------------------------


def test_it_starts_at_the_ceiling_and_paces_like_a_token_bucket() -> None:
    time = FakeTime()
    rate = pace(time)
    for _ in range(4):
        rate.acquire()
    assert rate.rate == 8.0
    assert time.sleeps == [0.125, 0.125, 0.125]
    assert rate.waited_s == 0.375


def test_a_full_queue_halves_the_rate_once_per_second_down_to_the_floor() -> None:
    time = FakeTime()
    rate = pace(time)
    steps = []
    for advance, signal in [(0.0, "QueueSaturated"), (0.5, "QueueSaturated"),
                            (0.5, "SlowDown"), (1.0, "QueueSaturated"), (1.0, "SlowDown"),
                            (1.0, "QueueSaturated"), (1.0, "QueueSaturated")]:  # fmt: skip
        time.now += advance
        rate.feedback(signal)
        steps.append(rate.rate)
    #  t=0: 8 -> 4; t=0.5: held; t=1.0: 2 (SlowDown counts alike); then 1, 0.5, 0.25, floor
    assert steps == [4.0, 4.0, 2.0, 1.0, 0.5, 0.25, 0.25]


def test_accepted_submits_add_about_half_a_job_per_second_each_second_up_to_the_ceiling() -> None:
    time = FakeTime()
    rate = pace(time)
    rate.feedback("QueueSaturated")  # 4
    time.now += 1.0
    rate.feedback("QueueSaturated")  # 2
    rate.feedback(None)
    assert rate.rate == 2.25  # 2 + 0.5 / 2
    rate.feedback(None)
    assert rate.rate == pytest.approx(2.25 + 0.5 / 2.25)
    top = pace(time, max_rate=4.0)
    top.feedback(None)
    assert top.rate == 4.0  # never above --rate


def test_a_paused_queue_drops_to_the_floor_at_once_and_the_next_slot_waits_for_it() -> None:
    time = FakeTime()
    rate = pace(time)
    rate.acquire()  # T, next slot T + 0.125
    rate.feedback("QueueSaturated")  # 4, held for a second
    rate.feedback("QueuePaused")  # not held: the queue takes nothing
    assert rate.rate == 0.25
    rate.acquire()
    assert time.sleeps == [4.0]  # one probe per 1 / 0.25 s


def test_a_refusal_pushes_the_next_slot_one_interval_of_the_new_rate_away() -> None:
    time = FakeTime()
    rate = pace(time)
    rate.acquire()  # next slot T + 0.125
    rate.feedback("QueueSaturated")  # 4 jobs/s: next slot T + 0.25
    rate.acquire()
    rate.feedback(None)  # 4.125; the slot already booked stays
    rate.acquire()
    assert time.sleeps == [0.25, 1 / 4.0]
    assert time.now == T + 0.5


@pytest.mark.parametrize(
    ("limits", "message"),
    [
        ({"min_rate": 0.0}, "0 < min_rate <= max_rate"),
        ({"min_rate": 9.0}, "0 < min_rate <= max_rate"),
        ({"decrease": 1.0}, "decrease must be within"),
        ({"increase": 0.0}, "increase above 0"),
    ],
)
def test_nonsense_limits_are_refused(limits: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        AdaptiveRate(8.0, **limits)


# -- the submit wrapper -------------------------------------------------------------------------


def jobs_refusing(*errors: Exception) -> FakeMediaJobs:
    """CI refusing the next submits with ``errors`` (in order), then accepting."""
    fake = FakeMediaJobs(forbid=("describe", "list"))
    failures = list(errors)

    def submit(*args: object, **kwargs: object) -> object:
        if failures:
            fake.submitted.append(args)  # type: ignore[arg-type]
            raise failures.pop(0)
        return original(*args, **kwargs)

    original = fake.submit_media_info_job
    fake.submit_media_info_job = submit  # type: ignore[method-assign,assignment]
    return fake


def test_a_refused_submit_is_retried_at_the_new_pace_until_accepted() -> None:
    time = FakeTime()
    fake = jobs_refusing(saturated(), saturated())
    jobs = AdaptiveJobs(fake, pace(time), clock=time.clock)
    job = jobs.submit_media_info_job("b-1250000000", "ap-guangzhou", REQUEST)
    assert job.job_id == "j" + "1".rjust(31, "0")
    assert len(fake.submitted) == 3
    # 8 -> 4 at T (slot T + 0.25); the second refusal at T + 0.25 is inside the hold: still 4
    assert time.sleeps == [0.25, 0.25]
    assert jobs.status_parts() == ["pace 4.1/8 jobs/s", "refused 2"]  # 4.125 after the accept
    assert jobs.refused == 2 and jobs.last_signal is None


def test_a_queue_paused_for_longer_than_max_wait_gives_the_refusal_back() -> None:
    time = FakeTime()
    fake = jobs_refusing(*(paused() for _ in range(10)))
    jobs = AdaptiveJobs(fake, pace(time), max_wait_s=10.0, clock=time.clock)
    with pytest.raises(CiError, match="suspended") as caught:
        jobs.submit_media_info_job("b-1250000000", "ap-guangzhou", REQUEST)
    assert caught.value.code == "QueuePaused"
    assert time.sleeps == [4.0, 4.0, 4.0]  # tries at T, T+4, T+8, T+12 (>= 10 s: given back)
    assert jobs.status_parts() == ["pace 0.2/8 jobs/s", "refused 4 (QueuePaused)"]


def test_other_refusals_and_callers_with_a_deadline_are_not_retried() -> None:
    time = FakeTime()
    denied = CiError(403, "AccessDenied", "no ci:CreateMediaJobs")
    jobs = AdaptiveJobs(jobs_refusing(denied), pace(time), clock=time.clock)
    with pytest.raises(CiError, match="no ci:CreateMediaJobs"):
        jobs.submit_media_info_job("b-1250000000", "ap-guangzhou", REQUEST)
    assert jobs.status_parts() == ["pace 8.0/8 jobs/s"]  # not a queue signal: pace unchanged
    fake = jobs_refusing(saturated())
    jobs = AdaptiveJobs(fake, pace(time), clock=time.clock)
    with pytest.raises(CiError, match="queue is full"):
        jobs.submit_media_info_job("b-1250000000", "ap-guangzhou", REQUEST, deadline=T + 30)
    assert len(fake.submitted) == 1


# -- backfill through it ------------------------------------------------------------------------


def backfill(tmp_path: Path, fake: FakeMediaJobs, time: FakeTime, max_wait_s: float) -> Backfill:
    store = FakeObjectStore(unknown_is_untagged=True, forbid=("put_tagging",))
    for key in ("clips/a.mp4", "clips/b.mp4", "clips/c.mp4"):
        store.add(key, "0" * 32, 100)
    jobs = AdaptiveJobs(fake, pace(time), max_wait_s=max_wait_s, clock=time.clock)
    log = DecisionLog("backfill", None)
    settings = load_upload_settings(BASE_ENVIRON)
    service = UploadService(settings, store, jobs, log, clock=time.clock, sleep=time.sleep)
    target = BackfillTarget("b-1250000000", "ap-guangzhou")
    return Backfill(
        service, store, log, target, state_file=tmp_path / "state.json", clock=time.clock
    )


def test_backfill_counts_a_saturated_submit_as_submitted_once_the_queue_takes_it(
    tmp_path: Path,
) -> None:
    time = FakeTime()
    fake = jobs_refusing(saturated(), saturated(), saturated())
    result = backfill(tmp_path, fake, time, max_wait_s=900.0).run()
    assert result.tally.counts["submitted"] == 3
    assert result.tally.counts["failed"] == result.tally.counts["retry"] == 0
    assert result.state.complete and result.state.retry_keys == ()


def test_backfill_keeps_a_key_the_queue_never_took_as_retry_never_as_failed(
    tmp_path: Path,
) -> None:
    time = FakeTime()
    fake = jobs_refusing(*(paused() for _ in range(4)))  # a's four tries within 10 s
    result = backfill(tmp_path, fake, time, max_wait_s=10.0).run()
    assert result.tally.counts["failed"] == 0
    assert (result.tally.counts["retry"], result.tally.counts["submitted"]) == (1, 2)
    saved = load_state(tmp_path / "state.json")
    assert saved is not None and saved.retry_keys == ("clips/a.mp4",)
    assert not saved.complete  # the same command tries a first next time


def test_the_queue_watch_is_refreshed_before_submits_and_told_of_refusals() -> None:
    time = FakeTime()
    lookup = FakeLookup(pages=1, per_page=3)
    lookup.queue = MediaQueue("p1", "Active", "Transcoding", 20, 3)
    watch = QueueWatch(lookup, clock=time.clock)
    jobs = AdaptiveJobs(jobs_refusing(saturated()), pace(time), watch, clock=time.clock)
    jobs.submit_media_info_job("b-1250000000", "ap-guangzhou", REQUEST)
    assert lookup.calls.count("queue") == 1  # once: the retry came 0.25 s later, within 10 s
    assert jobs.status_parts() == [
        "pace 4.1/8 jobs/s",
        "refused 1",
        "queue Active 20/20 waiting, 3/3 running",  # full, as the refusal said
    ]
