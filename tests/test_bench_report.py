"""The benchmark's arithmetic: outcomes, counter deltas, medians/percentiles and budget verdicts."""

from __future__ import annotations

import json
from typing import Any

import pytest

from benchmarks.fixture import Counters
from benchmarks.handler_host import outcome_of
from benchmarks.launcher import HostRun
from benchmarks.phases import CALLBACK, UPLOAD, Samples
from benchmarks.report import build_rows, invalid_outcomes, percentile, render_table


def _run(
    *,
    import_ms: float = 50.0,
    first_ms: float = 5.0,
    latency: list[float] | None = None,
    cpu: list[float] | None = None,
    requests: int = 2,
    connections: int = 1,
    events: int = 4,
    hwm_kb: int | None = 30_000,
    outcome: str = "submitted",
) -> HostRun:
    report: dict[str, Any] = {
        "import_ms": import_ms,
        "first_ms": first_ms,
        "latency_ms": latency or [2.0, 2.0, 3.0, 4.0],
        "cpu_ms": cpu or [1.0, 1.0, 1.0, 1.0],
        "outcomes": {outcome: events},
        "hwm_kb": hwm_kb,
        "maxrss_kb": 99_999,
        "sys_cpu_ms": 0.4,
        "context_switches": 8,
    }
    return HostRun(report, 100.0, Counters(requests * events, connections), events)


def _samples(**kwargs: Any) -> Samples:
    run = _run(**kwargs)
    return Samples(cold=[run], warm=[run], round_trip=[run], check_off=[run])


def _rows(ours: dict[str, Any], sdk: dict[str, Any]) -> dict[tuple[str, str], Any]:
    samples = {
        ("ours", UPLOAD): _samples(**ours),
        ("sdk", UPLOAD): _samples(**sdk),
        ("ours", CALLBACK): _samples(**{**ours, "outcome": "200 tagged"}),
        ("sdk", CALLBACK): _samples(**{**sdk, "outcome": "200 tagged"}),
    }
    sizes = {("ours", f): 1_000_000 for f in (UPLOAD, CALLBACK)}
    sizes.update({("sdk", f): 5_000_000 for f in (UPLOAD, CALLBACK)})
    return {(row.figure.strip(), row.function): row for row in build_rows(samples, sizes)}


def test_outcomes_are_the_same_word_for_both_implementations() -> None:
    assert outcome_of({"submitted": [{"key": "a"}], "skipped": [], "failed": []}) == "submitted"
    assert outcome_of({"results": [{"key": "a", "job_id": "j1"}]}) == "submitted"
    assert outcome_of({"submitted": [], "skipped": [{"key": "a"}], "failed": []}) != "submitted"
    assert outcome_of({"results": [{"key": "a", "skipped": "extension"}]}) != "submitted"
    tagged = {"statusCode": 200, "body": json.dumps({"outcome": "tagged"})}
    assert outcome_of(tagged) == "200 tagged"
    assert outcome_of({"statusCode": 200, "body": json.dumps({"skipped": "stale"})}) == "200 stale"


def test_counter_delta_leaves_out_the_stats_request_connection() -> None:
    assert Counters(110, 7).minus(Counters(100, 4)) == Counters(10, 2)


def test_percentile_interpolates_and_median_of_one() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 99) == pytest.approx(99.01)
    assert percentile([5.0], 99) == 5.0


def test_budgets_judged_from_ratios_and_limits() -> None:
    fast = _rows({"import_ms": 60, "cpu": [0.8] * 4}, {"import_ms": 75, "cpu": [1.0] * 4})
    assert fast[("2. cold start: import + 1st event (median of 1)", "upload")].ok is True
    assert fast[("3. warm CPU per event (4 events)", "callback")].ok is True
    slow = _rows({"import_ms": 100, "cpu": [0.9] * 4}, {"import_ms": 75, "cpu": [1.0] * 4})
    assert slow[("2. cold start: import + 1st event (median of 1)", "upload")].ok is False
    assert slow[("3. warm CPU per event (4 events)", "upload")].ok is False  # 0.9x > 0.85x
    assert slow[("1. deploy zip", "upload")].ok is True  # 1.0 MB, 0.2x


def test_traffic_and_memory_budgets() -> None:
    rows = _rows({"requests": 3, "hwm_kb": 50_000}, {})
    assert rows[("6. HTTP requests per object", "upload")].ok is False  # 3 > 2
    assert rows[("6. HTTP requests per object", "callback")].ok is True  # 3 <= 4
    assert rows[("5. peak RSS, warm process", "upload")].ok is False  # 51.2 MB
    assert rows[("5. peak RSS, warm process", "upload")].ours == pytest.approx(51.2)
    assert "**MISSED**" in render_table(list(rows.values()))


def test_a_failed_invocation_makes_the_run_invalid() -> None:
    samples = _samples(outcome="error TransportError: refused")
    assert invalid_outcomes(UPLOAD, samples) == ["upload: 16 x error TransportError: refused"]
    assert invalid_outcomes(UPLOAD, _samples()) == []
