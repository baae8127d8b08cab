"""The table of ``make bench``: rows, the statistics behind them, budgets, rendering.

A ``Row`` is one figure for one function, ours next to the SDK-based reference's, with an
optional budget and its verdict; ``reason`` says in words what a missed budget measured.
The rows themselves come from ``benchmarks.figures`` (time, traffic) and ``benchmarks.money``
(memory, tags, cost). Every ratio compares ours with the peer measured in the same run.
Pure arithmetic on what the handler processes and the emulator reported; no I/O.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from benchmarks.launcher import HostRun
from benchmarks.phases import CALLBACK, UPLOAD, Samples

EXPECTED_OUTCOME = {UPLOAD: "submitted", CALLBACK: "200 tagged"}
FUNCTION_LABEL = {UPLOAD: "upload", CALLBACK: "callback"}
MIB = 1024 * 1024
# Worst inputs that must still do the full work (the hostile bodies are refused, by design).
MUST_SUCCEED = frozenset({"padded", "100-record event"})

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
    reason: str = ""  # what the measurement says, shown when the budget is missed

    @property
    def ratio(self) -> float | None:
        return self.ours / self.sdk if self.sdk and not math.isnan(self.sdk) else None


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values)) if values else float("nan")


def mean(values: Sequence[float]) -> float:
    return float(statistics.fmean(values)) if values else float("nan")


def percentile(values: Sequence[float], pct: int) -> float:
    if len(values) < 2:
        return float(values[0]) if values else float("nan")
    return float(statistics.quantiles(values, n=100, method="inclusive")[pct - 1])


def pooled(runs: Sequence[HostRun], name: str) -> list[float]:
    return [value for run in runs for value in run.report[name]]


def p50(runs: Sequence[HostRun]) -> float:
    return median(pooled(runs, "latency_ms"))


def cpu_per_event(runs: Sequence[HostRun]) -> float:
    """Median over warm processes of each one's mean CPU per measured invocation."""
    return median([sum(run.report["cpu_ms"]) / len(run.report["cpu_ms"]) for run in runs])


def per_measured(runs: Sequence[HostRun], name: str) -> float:
    """Median over warm processes of a run total divided by its measured invocations."""
    return median([run.report[name] / len(run.report["cpu_ms"]) for run in runs])


def peak_rss_bytes(runs: Sequence[HostRun]) -> float:
    return float(max((run.report["hwm_kb"] or run.report["maxrss_kb"]) * 1024 for run in runs))


def per_object(runs: Sequence[HostRun], count: Callable[[HostRun], int]) -> float:
    """The largest per-object count over ``runs`` (every event carries one object)."""
    return max(count(run) / run.events for run in runs) if runs else float("nan")


def requests(run: HostRun) -> int:
    return run.counters.requests


def cos_requests(run: HostRun) -> int:
    return run.counters.cos


def ci_requests(run: HostRun) -> int:
    return run.counters.ci


def tag_rereads(run: HostRun) -> int:
    """GET ?tagging beyond the one concurrent read per callback."""
    return run.counters.tag_reads - run.events


def invalid_outcomes(function: str, samples: Samples) -> list[str]:
    """Descriptions of invocations that did not do the full work (worst bodies excepted)."""
    wanted = EXPECTED_OUTCOME[function]
    runs = samples.cold + samples.warm + samples.round_trip + samples.check_on
    runs += samples.round_trip_check_on + samples.ci_slow
    runs += [run for kind, run in samples.worst.items() if kind in MUST_SUCCEED]
    problems: dict[str, int] = {}
    for run in runs:
        for outcome, count in run.report["outcomes"].items():
            if outcome != wanted:
                problems[outcome] = problems.get(outcome, 0) + count
    return [f"{FUNCTION_LABEL[function]}: {count} x {what}" for what, count in problems.items()]


def ratio_check(limit: float) -> Check:
    # a hair of tolerance: 7 tags against 10 is exactly 0.7x, whatever the float rounding
    return lambda ours, sdk: sdk > 0 and ours <= limit * sdk * (1 + 1e-9)


def at_most(limit: float) -> Check:
    return lambda ours, sdk: ours <= limit


def at_least(limit: float) -> Check:
    return lambda ours, sdk: ours >= limit


def row(
    figure: str,
    function: str,
    values: tuple[float, float],
    unit: str,
    *,
    budget: str = "",
    check: Check | None = None,
    reason: str = "",
) -> Row:
    ours, sdk = values
    verdict = None if check is None else check(ours, sdk)
    label = FUNCTION_LABEL[function]
    return Row(figure, label, ours, sdk, unit, budget, verdict, reason)


def _number(value: float) -> str:
    if math.isnan(value):
        return "-"
    if value and abs(value) < 0.01:
        return f"{value:.2e}"
    return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.1f}"


def render_table(rows: Sequence[Row]) -> str:
    """A Markdown table (it is pasted into docs/performance.md as printed)."""
    lines = [
        "| figure | function | ours | SDK-based | ours/SDK | budget | result |",
        "|---|---|---:|---:|---:|---|---|",
    ]
    for item in rows:
        ratio = f"{item.ratio:.2f}x" if item.ratio is not None else "-"
        result = "" if item.ok is None else ("ok" if item.ok else "**MISSED**")
        lines.append(
            f"| {item.figure} | {item.function} | {_number(item.ours)} {item.unit} "
            f"| {_number(item.sdk)} {item.unit} | {ratio} | {item.budget} | {result} |"
        )
    return "\n".join(lines)


def missed_lines(rows: Sequence[Row]) -> list[str]:
    """One line per missed budget: the figure, both values, the budget and the measured reason."""
    lines = []
    for item in rows:
        if item.ok is False:
            ratio = f" = {item.ratio:.2f}x" if item.ratio is not None else ""
            why = f": {item.reason}" if item.reason else ""
            lines.append(
                f"BUDGET MISSED {item.figure.strip()} ({item.function}): ours {item.ours:.3f} "
                f"{item.unit}, SDK {item.sdk:.3f} {item.unit}{ratio}, budget {item.budget}{why}"
            )
    return lines
