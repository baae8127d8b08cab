"""From the handler processes' reports to one table: every figure for both implementations, ratios
and budgets. Medians over runs, percentiles over the pooled warm invocations. A run whose
invocations did not all do the full work (every upload submitted, every callback tagged) is
invalid whatever its numbers say. Pure: no I/O besides what the caller prints.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from benchmarks.launcher import HostRun
from benchmarks.phases import CALLBACK, UPLOAD, Samples

ZIP_BUDGET_BYTES = 1_500_000  # deploy.package.MAX_ZIP_BYTES: "1.5 MB" read as decimal MB
RSS_BUDGET_BYTES = 40_000_000  # "40 MB", decimal as well (the stricter reading)
EXPECTED_OUTCOME = {UPLOAD: "submitted", CALLBACK: "200 tagged"}
FUNCTION_LABEL = {UPLOAD: "upload", CALLBACK: "callback"}

Check = Callable[[float, float], bool]


@dataclass(frozen=True)
class Row:
    figure: str
    function: str
    ours: float
    sdk: float
    unit: str
    budget: str = ""
    ok: bool | None = None  # None: reported, not budgeted

    @property
    def ratio(self) -> float | None:
        return self.ours / self.sdk if self.sdk else None


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values)) if values else float("nan")


def percentile(values: Sequence[float], pct: int) -> float:
    if len(values) < 2:
        return float(values[0]) if values else float("nan")
    return float(statistics.quantiles(values, n=100, method="inclusive")[pct - 1])


def pooled(runs: Sequence[HostRun], name: str) -> list[float]:
    return [value for run in runs for value in run.report[name]]


def cpu_per_event(runs: Sequence[HostRun]) -> float:
    """Median over warm processes of each one's mean CPU per measured invocation."""
    return median([sum(run.report["cpu_ms"]) / len(run.report["cpu_ms"]) for run in runs])


def per_measured(runs: Sequence[HostRun], name: str) -> float:
    """Median over warm processes of a run total divided by its measured invocations."""
    return median([run.report[name] / len(run.report["cpu_ms"]) for run in runs])


def peak_rss_bytes(runs: Sequence[HostRun]) -> float:
    return float(max((run.report["hwm_kb"] or run.report["maxrss_kb"]) * 1024 for run in runs))


def per_object(runs: Sequence[HostRun]) -> float:
    return max(run.counters.requests / run.events for run in runs)


def invalid_outcomes(function: str, samples: Samples) -> list[str]:
    """Descriptions of invocations that did not do the full work."""
    wanted = EXPECTED_OUTCOME[function]
    runs = samples.cold + samples.warm + samples.round_trip + samples.check_off
    problems: dict[str, int] = {}
    for run in runs:
        for outcome, count in run.report["outcomes"].items():
            if outcome != wanted:
                problems[outcome] = problems.get(outcome, 0) + count
    return [f"{FUNCTION_LABEL[function]}: {count} x {what}" for what, count in problems.items()]


def _ratio_check(limit: float) -> Check:
    return lambda ours, sdk: sdk > 0 and ours <= limit * sdk


def _row(
    figure: str,
    function: str,
    values: tuple[float, float],
    unit: str,
    *,
    budget: str = "",
    check: Check | None = None,
) -> Row:
    ours, sdk = values
    return Row(
        figure, FUNCTION_LABEL[function], ours, sdk, unit, budget, check and check(ours, sdk)
    )


def zip_rows(function: str, sizes: tuple[int, int]) -> list[Row]:
    def within(ours: float, sdk: float) -> bool:
        return ours <= ZIP_BUDGET_BYTES / 1e6 and ours <= 0.4 * sdk

    values = (sizes[0] / 1e6, sizes[1] / 1e6)
    budget = "<= 1.5 MB and <= 0.4x"
    return [_row("1. deploy zip", function, values, "MB", budget=budget, check=within)]


def cold_rows(function: str, ours: Samples, sdk: Samples) -> list[Row]:
    count = min(len(ours.cold), len(sdk.cold))
    figure = f"2. cold start: import + 1st event (median of {count})"

    def both(pick: Callable[[HostRun], float]) -> tuple[float, float]:
        return median([pick(run) for run in ours.cold]), median([pick(run) for run in sdk.cold])

    cold = both(lambda run: run.cold_ms)
    return [
        _row(figure, function, cold, "ms", budget="<= 0.9x", check=_ratio_check(0.9)),
        _row("   of which import of index", function, both(lambda r: r.report["import_ms"]), "ms"),
        _row("   process wall, incl. interpreter", function, both(lambda r: r.wall_ms), "ms"),
    ]


def _latencies(ours: list[HostRun], sdk: list[HostRun]) -> tuple[tuple[float, float], ...]:
    """(p50 ours, p50 sdk), (p99 ours, p99 sdk) over the pooled measured invocations."""
    pools = (pooled(ours, "latency_ms"), pooled(sdk, "latency_ms"))
    return (median(pools[0]), median(pools[1])), (
        percentile(pools[0], 99),
        percentile(pools[1], 99),
    )


def warm_rows(function: str, ours: Samples, sdk: Samples) -> list[Row]:
    events = sum(len(run.report["latency_ms"]) for run in ours.warm)
    cpu = (cpu_per_event(ours.warm), cpu_per_event(sdk.warm))
    p50, p99 = _latencies(ours.warm, sdk.warm)
    figure = f"3. warm CPU per event ({events} events)"
    kernel = (per_measured(ours.warm, "sys_cpu_ms"), per_measured(sdk.warm, "sys_cpu_ms"))
    switches = (
        per_measured(ours.warm, "context_switches"),
        per_measured(sdk.warm, "context_switches"),
    )
    return [
        _row(figure, function, cpu, "ms", budget="<= 0.85x", check=_ratio_check(0.85)),
        _row("   of which kernel (sys) CPU", function, kernel, "ms"),
        _row("   context switches per event", function, switches, "csw"),
        _row("   warm latency p50, loopback", function, p50, "ms"),
        _row("   warm latency p99, loopback", function, p99, "ms"),
    ]


def round_trip_rows(function: str, ours: Samples, sdk: Samples) -> list[Row]:
    p50, p99 = _latencies(ours.round_trip, sdk.round_trip)
    budget, check = ("<= 0.6x", _ratio_check(0.6)) if function == CALLBACK else ("", None)
    return [
        _row("4. latency p50, 20 ms per answer", function, p50, "ms", budget=budget, check=check),
        _row("   latency p99, 20 ms per answer", function, p99, "ms"),
    ]


def rss_rows(function: str, ours: Samples, sdk: Samples) -> list[Row]:
    values = (peak_rss_bytes(ours.warm) / 1e6, peak_rss_bytes(sdk.warm) / 1e6)

    def within(ours_mb: float, sdk_mb: float) -> bool:
        return ours_mb * 1e6 <= RSS_BUDGET_BYTES

    figure = "5. peak RSS, warm process"
    return [_row(figure, function, values, "MB", budget="<= 40 MB", check=within)]


def traffic_rows(function: str, ours: Samples, sdk: Samples) -> list[Row]:
    def at_most(limit: float) -> Check:
        return lambda ours_value, sdk_value: ours_value <= limit

    limit = 2 if function == UPLOAD else 4
    requests = (per_object(ours.warm), per_object(sdk.warm))
    figure = "6. HTTP requests per object"
    rows = [_row(figure, function, requests, "req", budget=f"<= {limit}", check=at_most(limit))]
    if function == UPLOAD:
        values = (per_object(ours.check_off), per_object(sdk.check_off))
        figure = "   same, idempotency check off"
        rows.append(_row(figure, function, values, "req", budget="<= 1", check=at_most(1)))
    first = max(run.counters.connections for run in ours.cold)
    conns = (max_connections(ours.warm), max_connections(sdk.warm))
    per_obj = tuple(max(r.counters.connections / r.events for r in s.warm) for s in (ours, sdk))
    reuse = f"<= 1st event's ({first})"
    rows += [
        _row(
            "   TCP connections per warm instance",
            function,
            conns,
            "conn",
            budget=reuse,
            check=at_most(first),
        ),
        _row("   TCP connections per object", function, (per_obj[0], per_obj[1]), "conn"),
    ]
    return rows


def max_connections(runs: Sequence[HostRun]) -> float:
    return float(max(run.counters.connections for run in runs))


def build_rows(
    samples: dict[tuple[str, str], Samples], zip_sizes: dict[tuple[str, str], int]
) -> list[Row]:
    rows: list[Row] = []
    for function in (UPLOAD, CALLBACK):
        rows += zip_rows(function, (zip_sizes[("ours", function)], zip_sizes[("sdk", function)]))
    builders = (cold_rows, warm_rows, round_trip_rows, rss_rows, traffic_rows)
    for build in builders:
        for function in (UPLOAD, CALLBACK):
            rows += build(function, samples[("ours", function)], samples[("sdk", function)])
    return rows


def _number(value: float) -> str:
    if math.isnan(value):
        return "-"
    return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.1f}"


def render_table(rows: Sequence[Row]) -> str:
    """A Markdown table (it is pasted into docs/performance.md as printed)."""
    lines = [
        "| figure | function | ours | SDK-based | ours/SDK | budget | result |",
        "|---|---|---:|---:|---:|---|---|",
    ]
    for row in rows:
        ratio = f"{row.ratio:.2f}x" if row.ratio is not None else "-"
        result = "" if row.ok is None else ("ok" if row.ok else "**MISSED**")
        lines.append(
            f"| {row.figure} | {row.function} | {_number(row.ours)} {row.unit} "
            f"| {_number(row.sdk)} {row.unit} | {ratio} | {row.budget} | {result} |"
        )
    return "\n".join(lines)
