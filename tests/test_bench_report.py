"""The benchmark's arithmetic: outcomes, counter deltas, medians/percentiles and budget verdicts."""

from __future__ import annotations

import json
from typing import Any

import pytest

from benchmarks.backfill_phase import BackfillRun
from benchmarks.emulator_handle import Counters
from benchmarks.figures import backfill_rows
from benchmarks.handler_host import outcome_of
from benchmarks.launcher import HostRun
from benchmarks.phases import CALLBACK, UPLOAD, Samples
from benchmarks.report import invalid_outcomes, missed_lines, percentile, render_table
from benchmarks.table import build_rows


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
    tag_reads: int | None = None,
) -> HostRun:
    report: dict[str, Any] = {
        "import_ms": import_ms,
        "first_ms": first_ms,
        "import_cpu_ms": import_ms * 0.9,
        "first_cpu_ms": first_ms * 0.5,
        "latency_ms": latency or [2.0, 2.0, 3.0, 4.0],
        "cpu_ms": cpu or [1.0, 1.0, 1.0, 1.0],
        "outcomes": {outcome: events},
        "hwm_kb": hwm_kb,
        "maxrss_kb": 99_999,
        "sys_cpu_ms": 0.4,
        "context_switches": 8,
    }
    reads = events if tag_reads is None else tag_reads
    counters = Counters(requests * events - events, events, connections, reads, events)
    return HostRun(report, 100.0, counters, events)


def _samples(*, tags: int = 7, **kwargs: Any) -> Samples:
    run = _run(**kwargs)
    return Samples(
        cold=[run],
        warm=[run],
        check_on=[run],
        round_trip=[run],
        round_trip_check_on=[run],
        ci_slow=[run],
        worst={"padded": run},
        tags=[tags] * 4,
        today_tags=[10] * 4,
    )


def _rows(
    ours: dict[str, Any], sdk: dict[str, Any], memory: int = 128
) -> dict[tuple[str, str], Any]:
    samples = {
        ("ours", UPLOAD): _samples(**ours),
        ("sdk", UPLOAD): _samples(**sdk),
        ("ours", CALLBACK): _samples(**{**ours, "outcome": "200 tagged"}),
        ("sdk", CALLBACK): _samples(**{**sdk, "outcome": "200 tagged"}),
    }
    sizes = {("ours", f): 1_000_000 for f in (UPLOAD, CALLBACK)}
    sizes.update({("sdk", f): 5_000_000 for f in (UPLOAD, CALLBACK)})
    memory_mb = {UPLOAD: memory, CALLBACK: memory}
    rows = build_rows(samples, sizes, memory_mb)
    return {(row.figure.strip(), row.function): row for row in rows}


def test_outcomes_are_the_same_word_for_both_implementations() -> None:
    assert outcome_of({"submitted": [{"key": "a"}], "skipped": [], "failed": []}) == "submitted"
    assert outcome_of({"results": [{"key": "a", "job_id": "j1"}]}) == "submitted"
    assert outcome_of({"submitted": [], "skipped": [{"key": "a"}], "failed": []}) != "submitted"
    assert outcome_of({"results": [{"key": "a", "skipped": "extension"}]}) != "submitted"
    tagged = {"statusCode": 200, "body": json.dumps({"outcome": "tagged"})}
    assert outcome_of(tagged) == "200 tagged"
    assert outcome_of({"statusCode": 200, "body": json.dumps({"skipped": "stale"})}) == "200 stale"


def test_counter_delta_leaves_out_the_stats_request_connection() -> None:
    after, before = Counters(80, 30, 7, 12, 5), Counters(70, 30, 4, 10, 4)
    assert after.minus(before) == Counters(10, 0, 2, 2, 1)
    assert after.minus(before).requests == 10


def test_percentile_interpolates_and_median_of_one() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 99) == pytest.approx(99.01)
    assert percentile([5.0], 99) == 5.0


COLD = "2. cold start CPU: import + 1st event (median of 1)"
WARM = "3. warm CPU per event (4 events)"


def test_parity_budgets_judged_from_ratios() -> None:
    even = _rows({"import_ms": 75, "cpu": [1.0] * 4}, {"import_ms": 75, "cpu": [1.0] * 4})
    assert even[(COLD, "upload")].ok is True  # 1.0x is parity
    assert even[(WARM, "callback")].ok is True
    slow = _rows({"import_ms": 80, "cpu": [1.05] * 4}, {"import_ms": 75, "cpu": [1.0] * 4})
    assert slow[(COLD, "upload")].ok is False
    assert slow[(WARM, "upload")].ok is False  # 1.05x > 1.0x
    assert slow[("1. deploy zip", "upload")].ok is True  # 1.0 MB, 0.2x
    assert "import of index 72.0 ms vs 67.5 ms CPU" in slow[(COLD, "upload")].reason


def test_traffic_budgets_and_tag_rereads() -> None:
    rows = _rows({"requests": 3, "tag_reads": 8}, {"requests": 4})
    assert rows[("6. HTTP requests per object", "upload")].ok is False  # 3 > 1
    assert rows[("6. HTTP requests per object, 20 ms answers", "callback")].ok is True  # 3 <= 4
    assert rows[("of which tag re-reads, loopback", "callback")].ours == 1.0  # 8 reads, 4 events
    assert "**MISSED**" in render_table(list(rows.values()))


def test_memory_budget_asks_for_64_mb_exactly_when_the_worst_input_fits() -> None:
    small = _rows({"hwm_kb": 30_000}, {}, memory=128)
    assert small[("5. peak RSS, worst input allowed", "upload")].ours == pytest.approx(29.3, 0.01)
    assert small[("memorySize deployed (SDK: SCF default)", "upload")].ok is False
    assert _rows({"hwm_kb": 30_000}, {}, memory=64)[
        ("memorySize deployed (SDK: SCF default)", "upload")
    ].ok
    big = _rows({"hwm_kb": 50_000}, {}, memory=128)  # 48.8 MiB > 40 MiB: 128 MB is right
    row = big[("memorySize deployed (SDK: SCF default)", "callback")]
    assert row.ok is True and "padded peaks at 48.8 MiB > 40 MiB" in row.reason


def test_tag_budgets_compare_the_defaults_with_today() -> None:
    rows = _rows({}, {})
    assert rows[("7. tags per object, defaults (SDK: today's 10 fields)", "callback")].ok
    cost = rows[("tag storage per month per million objects", "callback")]
    assert (cost.ours, cost.sdk) == (pytest.approx(35.0, rel=1e-5), pytest.approx(50.0, rel=1e-5))
    assert cost.ok is True  # 7 / 10 is exactly 0.7x
    eight = _rows({"tags": 8}, {})
    assert eight[("7. tags per object, defaults (SDK: today's 10 fields)", "callback")].ok is False
    assert eight[("tag storage per month per million objects", "callback")].ok is False


def test_a_missed_budget_is_one_loud_line_with_its_reason() -> None:
    slow = _rows({"import_ms": 100}, {"import_ms": 75})
    lines = missed_lines(list(slow.values()))
    cold = [line for line in lines if "cold start" in line and "(upload)" in line]
    assert len(cold) == 1 and "budget <= 1.0x: import of index 90.0 ms vs 67.5 ms CPU" in cold[0]


def test_a_failed_invocation_makes_the_run_invalid() -> None:
    samples = _samples(outcome="error TransportError: refused")
    # cold, warm, check on, 20 ms, 20 ms check on, CI slow, the padded worst body: 7 x 4
    assert invalid_outcomes(UPLOAD, samples) == ["upload: 28 x error TransportError: refused"]
    assert invalid_outcomes(UPLOAD, _samples()) == []


def _backfill(threads_s: float) -> dict[str, BackfillRun]:
    return {
        "loopback-threads": BackfillRun(16, 1000, 1500, threads_s),
        "loopback-serial": BackfillRun(1, 1000, 1500, 15.0),
        "20ms-threads": BackfillRun(16, 1000, 300, 1.5),
        "20ms-serial": BackfillRun(1, 1000, 300, 12.0),
        "default": BackfillRun(16, 10, 50, 5.0),
    }


def test_backfill_must_reach_200_objects_per_second_on_loopback() -> None:
    fast = {row.figure: row for row in backfill_rows(_backfill(threads_s=5.0))}
    loopback = fast["9. backfill objects/s, loopback, --rate 1000 (2nd column: --concurrency 1)"]
    assert (loopback.ours, loopback.sdk, loopback.ok) == (300.0, 100.0, True)
    assert fast["   same, 20 ms per answer"].ratio == pytest.approx(8.0)
    assert fast["   at the default --rate 10, 50 objects"].ratio is None  # no second column
    slow = backfill_rows(_backfill(threads_s=10.0))[0]  # 150 objects/s
    assert slow.ok is False and "16 threads reach 150 objects/s" in slow.reason
