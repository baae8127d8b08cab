"""Backfill's concurrency parts: the ordered window, and the pace and stop signal its threads
share."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from shared.ops.adaptive_rate import AdaptiveJobs, AdaptiveRate
from shared.ops.ordered_window import OrderedWindow
from shared.ops.stop_signal import BackfillStopped, StopSignal
from shared.ports import MediaInfoJobRequest
from tests.fakes import FakeMediaJobs

REQUEST = MediaInfoJobRequest("clips/a.mp4", "mt1;e=x;s=1", 0, "https://h.example/v2.t", "JSON")


def gated(
    value: int, gate: threading.Event, done: threading.Event | None = None
) -> Callable[[], int]:
    """A call that returns ``value`` once ``gate`` is open, then sets ``done``."""

    def call() -> int:
        assert gate.wait(5), "the test never opened the gate"
        if done is not None:
            done.set()
        return value

    return call


def test_results_come_in_submission_order_even_when_later_calls_finish_first() -> None:
    first_gate, open_gate, later_done = threading.Event(), threading.Event(), threading.Event()
    open_gate.set()
    with OrderedWindow[int](workers=3) as window:
        assert list(window.submit(gated(0, first_gate))) == []
        assert list(window.submit(gated(1, open_gate, later_done))) == []
        assert later_done.wait(5)  # 1 has finished, 0 has not
        assert list(window.submit(gated(2, open_gate))) == []  # nothing before 0 is handed out
        first_gate.set()
        assert list(window.drain()) == [0, 1, 2]


def test_a_full_window_waits_for_its_oldest_call() -> None:
    oldest_gate, second_gate, open_gate = threading.Event(), threading.Event(), threading.Event()
    open_gate.set()
    with OrderedWindow[int](workers=2, size=2) as window:
        assert list(window.submit(gated(0, oldest_gate))) == []
        assert list(window.submit(gated(1, second_gate))) == []
        oldest_gate.set()
        # full: the third waits for 0 (the oldest) and hands it out; 1 is still running
        assert list(window.submit(gated(2, open_gate))) == [0]
        assert window.in_flight == 2
        second_gate.set()
        assert list(window.drain()) == [1, 2]


def test_a_failed_call_raises_in_its_turn_after_the_ones_before_it() -> None:
    def boom() -> int:
        raise KeyboardInterrupt

    open_gate = threading.Event()
    open_gate.set()
    recorded: list[int] = []
    window = OrderedWindow[int](workers=2)
    with pytest.raises(KeyboardInterrupt):
        for call in (gated(0, open_gate), boom, gated(2, open_gate)):
            recorded.extend(window.submit(call))
        recorded.extend(window.drain())
    assert recorded == [0]
    assert window.stop() == []  # stops at the failed call: 2 is never claimed as done
    window.close()


def test_the_window_needs_a_worker() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        OrderedWindow[int](workers=0)


class FakeTime:
    """A clock and a sleep that advances it, safe for several threads."""

    def __init__(self) -> None:
        self.now = 0.0
        self.lock = threading.Lock()

    def clock(self) -> float:
        with self.lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.now += seconds


def paced_jobs(rate: float, fake: FakeTime, stop: StopSignal) -> tuple[AdaptiveJobs, FakeMediaJobs]:
    ci = FakeMediaJobs(forbid=("describe", "list"))
    pace = AdaptiveRate(rate, clock=fake.clock, sleep=stop.sleep)
    return AdaptiveJobs(ci, pace, clock=fake.clock, stop=stop), ci


def test_the_rate_holds_for_many_threads() -> None:
    fake = FakeTime()
    stop = StopSignal(fake.sleep)
    jobs, ci = paced_jobs(10.0, fake, stop)

    def submit_five() -> None:
        for _ in range(5):
            jobs.submit_media_info_job("b-1250000000", "ap-guangzhou", REQUEST)

    threads = [threading.Thread(target=submit_five) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(ci.submitted) == 15
    assert fake.now == pytest.approx(1.4)  # 15 slots at 10/s: the first is free


def test_a_stopped_run_submits_nothing_more() -> None:
    fake = FakeTime()
    stop = StopSignal(fake.sleep)
    jobs, ci = paced_jobs(1.0, fake, stop)
    jobs.submit_media_info_job("b-1250000000", "ap-guangzhou", REQUEST)
    stop.set()
    with pytest.raises(BackfillStopped, match="stopping"):
        jobs.submit_media_info_job("b-1250000000", "ap-guangzhou", REQUEST)
    assert len(ci.submitted) == 1
    assert fake.now == 0.0  # it did not wait for the slot either


def test_a_worker_waiting_for_its_slot_stops_without_submitting() -> None:
    fake = FakeTime()
    calls: list[float] = []

    def sleep_then_stop(seconds: float) -> None:
        calls.append(seconds)
        stop.set()  # Ctrl-C on another thread while this one waits

    stop = StopSignal(sleep_then_stop)
    jobs, ci = paced_jobs(1.0, fake, stop)
    jobs.submit_media_info_job("b-1250000000", "ap-guangzhou", REQUEST)
    with pytest.raises(BackfillStopped, match="stopping"):
        jobs.submit_media_info_job("b-1250000000", "ap-guangzhou", REQUEST)
    assert calls == [1.0] and len(ci.submitted) == 1


def test_a_real_sleep_waits_on_the_signal_and_ends_once_it_is_set() -> None:
    stop = StopSignal()  # time.sleep: waits on the signal instead, so setting it ends the wait
    stop.set()
    started = time.monotonic()
    with pytest.raises(BackfillStopped, match="stopping"):
        stop.sleep(30)
    assert time.monotonic() - started < 5


def test_an_interrupted_injected_sleep_stops_the_other_threads() -> None:
    def interrupted(seconds: float) -> None:
        raise KeyboardInterrupt

    stop = StopSignal(interrupted)
    with pytest.raises(KeyboardInterrupt):
        stop.sleep(1)
    assert stop.is_set
