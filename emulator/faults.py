"""Fault injection for the emulator: failed answers, slow answers, lost or shuffled callbacks.

Tests and soak runs arm a ``Faults`` object (directly, or through ``POST /_emulator/faults``);
the server and the callback dispatcher consult it. Every decision is taken under one lock so
concurrent requests consume armed faults exactly once. This module must not do I/O or sleep:
it only decides, and counts what it injected (``summary``).
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

APIS = ("cos", "ci")
# Status -> the COS/CI error code an injected failure carries.
FAULT_CODES = {429: "SlowDown", 500: "InternalError", 503: "ServiceUnavailable"}
DELIVER, DROP, DUPLICATE = "deliver", "drop", "duplicate"


@dataclass
class _RandomPlan:
    rate: float
    statuses: tuple[int, ...]
    apis: frozenset[str]
    rng: random.Random


@dataclass
class _CallbackPlan:
    drop_rate: float
    duplicate_rate: float
    rng: random.Random


@dataclass
class _State:
    pending_failures: dict[str, list[int]] = field(default_factory=dict)
    delays: dict[str, float] = field(default_factory=dict)
    stalls: dict[str, float] = field(default_factory=dict)
    drop_next: int = 0
    duplicate_next: int = 0
    reorder_window: int = 0
    random_plan: _RandomPlan | None = None
    callback_plan: _CallbackPlan | None = None
    counters: dict[str, int] = field(default_factory=dict)


def _check_api(api: str) -> str:
    if api not in APIS:
        raise ValueError(f"api must be one of {APIS}, not {api!r}")
    return api


def _check_status(status: int) -> int:
    if status not in FAULT_CODES:
        raise ValueError(f"status must be one of {sorted(FAULT_CODES)}, not {status!r}")
    return status


def _check_rate(rate: float, what: str) -> float:
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"{what} must be within [0, 1], not {rate!r}")
    return float(rate)


class Faults:
    """Thread-safe switchboard of injected faults; all methods may be called from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state = _State()

    # -- arming -------------------------------------------------------------------------------
    def fail_next(self, api: str, count: int, status: int = 503) -> None:
        """The next ``count`` requests to ``api`` answer ``status`` with a COS/CI XML error."""
        _check_api(api)
        _check_status(status)
        with self._lock:
            self._state.pending_failures.setdefault(api, []).extend([status] * int(count))

    def delay(self, api: str, seconds: float) -> None:
        """Every response of ``api`` waits ``seconds`` more (0 switches it off)."""
        _check_api(api)
        with self._lock:
            self._state.delays[api] = max(0.0, float(seconds))

    def stall(self, api: str, seconds: float) -> None:
        """Every request to ``api`` waits ``seconds`` and then answers 503 without being
        processed (0 switches it off): an overloaded front end, as opposed to ``delay``, whose
        requests do take effect and only answer late."""
        _check_api(api)
        with self._lock:
            self._state.stalls[api] = max(0.0, float(seconds))

    def drop_next_callbacks(self, n: int) -> None:
        with self._lock:
            self._state.drop_next += int(n)

    def duplicate_next_callbacks(self, n: int) -> None:
        with self._lock:
            self._state.duplicate_next += int(n)

    def reorder_callbacks(self, window: int) -> None:
        """Hold the next ``window`` callbacks, then deliver them newest first (0 switches off)."""
        with self._lock:
            self._state.reorder_window = max(0, int(window))

    def random_failures(
        self,
        rate: float,
        statuses: Iterable[int] = (503, 429),
        seed: int = 0,
        apis: Iterable[str] = APIS,
    ) -> None:
        """Each request to one of ``apis`` fails with probability ``rate`` (0 switches off)."""
        plan = _RandomPlan(
            rate=_check_rate(rate, "rate"),
            statuses=tuple(_check_status(int(s)) for s in statuses),
            apis=frozenset(_check_api(a) for a in apis),
            rng=random.Random(seed),
        )
        with self._lock:
            self._state.random_plan = plan if plan.rate > 0 and plan.statuses else None

    def random_callback_faults(
        self, drop_rate: float, duplicate_rate: float, seed: int = 0
    ) -> None:
        plan = _CallbackPlan(
            drop_rate=_check_rate(drop_rate, "drop_rate"),
            duplicate_rate=_check_rate(duplicate_rate, "duplicate_rate"),
            rng=random.Random(seed),
        )
        with self._lock:
            active = plan.drop_rate > 0 or plan.duplicate_rate > 0
            self._state.callback_plan = plan if active else None

    def reset(self) -> None:
        """Disarm everything and zero the counters."""
        with self._lock:
            self._state = _State()

    # -- consulted by the server and the dispatcher -------------------------------------------
    def take_failure(self, api: str) -> int | None:
        """The status to inject into this request of ``api``, or None to answer normally."""
        with self._lock:
            pending = self._state.pending_failures.get(api)
            status: int | None = pending.pop(0) if pending else None
            plan = self._state.random_plan
            if (
                status is None
                and plan is not None
                and api in plan.apis
                and plan.rng.random() < plan.rate
            ):
                status = plan.rng.choice(plan.statuses)
            if status is not None:
                self._count(f"{api}_{status}")
            return status

    def response_delay(self, api: str) -> float:
        with self._lock:
            seconds = self._state.delays.get(api, 0.0)
            if seconds > 0:
                self._count(f"{api}_delayed")
            return seconds

    def stall_for(self, api: str) -> float:
        """How long this request of ``api`` stalls before its unprocessed 503 (0: no stall)."""
        with self._lock:
            seconds = self._state.stalls.get(api, 0.0)
            if seconds > 0:
                self._count(f"{api}_stalled")
            return seconds

    def callback_fate(self) -> str:
        """DELIVER, DROP or DUPLICATE for the callback about to be sent."""
        with self._lock:
            state = self._state
            fate = DELIVER
            if state.drop_next > 0:
                state.drop_next -= 1
                fate = DROP
            elif state.duplicate_next > 0:
                state.duplicate_next -= 1
                fate = DUPLICATE
            elif state.callback_plan is not None:
                fate = self._random_fate(state.callback_plan)
            if fate != DELIVER:
                self._count(f"callbacks_{fate}ped" if fate == DROP else f"callbacks_{fate}d")
            return fate

    def take_reorder_slot(self) -> int:
        """The reorder window still open (>0: hold this callback), consuming one slot."""
        with self._lock:
            window = self._state.reorder_window
            if window > 0:
                self._state.reorder_window = window - 1
                self._count("callbacks_reordered")
            return window

    def summary(self) -> dict[str, int]:
        """Counters of injected faults, e.g. {'cos_503': 2, 'callbacks_dropped': 1}."""
        with self._lock:
            return dict(self._state.counters)

    # -- internals (lock held) ------------------------------------------------------------------
    def _random_fate(self, plan: _CallbackPlan) -> str:
        draw = plan.rng.random()
        if draw < plan.drop_rate:
            return DROP
        if draw < plan.drop_rate + plan.duplicate_rate:
            return DUPLICATE
        return DELIVER

    def _count(self, name: str) -> None:
        self._state.counters[name] = self._state.counters.get(name, 0) + 1
