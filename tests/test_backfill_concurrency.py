"""Backfill's concurrency parts: the ordered window and the rate limiter its threads share."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from shared.ops.ordered_window import OrderedWindow
from shared.ops.rate_limit import TokenBucket
from shared.ops.shared_limiter import BackfillStopped, SharedLimiter, StopSignal


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


def test_the_rate_holds_for_many_threads() -> None:
    fake = FakeTime()
    stop = StopSignal(fake.sleep)
    limiter = SharedLimiter(TokenBucket(10.0, clock=fake.clock, sleep=stop.sleep), stop)

    def take_five() -> None:
        for _ in range(5):
            limiter.acquire()

    threads = [threading.Thread(target=take_five) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert fake.now == pytest.approx(1.4)  # 15 tokens at 10/s: the first is free


def test_a_stopped_run_takes_no_more_tokens() -> None:
    fake = FakeTime()
    stop = StopSignal(fake.sleep)
    limiter = SharedLimiter(TokenBucket(1.0, clock=fake.clock, sleep=stop.sleep), stop)
    assert limiter.acquire() == 0.0
    stop.set()
    with pytest.raises(BackfillStopped, match="stopping"):
        limiter.acquire()
    assert fake.now == 0.0  # it did not wait for the token either


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
