"""Rows 5, 7 and 8 of ``make bench``: peak memory and the memory size, tags, cost per object.

What each ratio compares:
- peak RSS: both at their defaults (warm), then with each worst input the defaults allow
  (``benchmarks.worst_inputs``); the budget: deployed at 64 MB when the worst peak is <= 40 MiB;
- tags per object and their monthly cost: ours at its defaults against the SDK-based reference
  writing the 10-field set the project wrote before issue 10 ("today's"; budgets <= 7 tags and
  <= 0.7x the cost); at equal work both write 7;
- cost per million objects: list prices (``benchmarks.prices``) times what was measured per
  object: requests counted by the emulator with 20 ms answers, billed time = that run's p50
  latency, memory = serverless.yml's ``memorySize`` for ours and SCF's default 128 MB for the
  reference; one invocation per object and function; the upload submits one MediaInfo job;
- the duplicate check: what it adds per upload (its run with 20 ms answers) against what a
  caught duplicate saves (one MediaInfo job and one callback), and the break-even share.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from benchmarks import prices
from benchmarks.launcher import HostRun
from benchmarks.phases import CALLBACK, UPLOAD, Samples
from benchmarks.report import (
    MIB,
    Row,
    at_most,
    ci_requests,
    cos_requests,
    mean,
    p50,
    peak_rss_bytes,
    per_object,
    ratio_check,
    row,
)

RSS_BUDGET_BYTES = 40 * MIB
SMALL_MEMORY_MB = 64
SDK_MEMORY_MB = 128  # SCF's default memory for a new function, as Tencent's demos deploy
MAX_TAGS = 7
Pricer = Callable[[str, str, str], prices.Usage]  # (implementation, function, runs) -> usage


def usage(function: str, runs: list[HostRun], memory_mb: int) -> prices.Usage:
    """Per object: one invocation, GB-s at the runs' p50, the requests the emulator counted."""
    return prices.Usage(
        invocations=1.0,
        gb_s=prices.gb_seconds(memory_mb, p50(runs) / 1000),
        cos_requests=per_object(runs, cos_requests),
        ci_requests=per_object(runs, ci_requests),
        ci_jobs=1.0 if function == UPLOAD else 0.0,
    )


def memory_rows(function: str, ours: Samples, sdk: Samples, memory_mb: int) -> list[Row]:
    def peak(runs: list[HostRun]) -> float:
        return peak_rss_bytes(runs) / MIB

    rows = [row("5. peak RSS, warm process", function, (peak(ours.warm), peak(sdk.warm)), "MiB")]
    for kind in ours.worst:
        values = (peak([ours.worst[kind]]), peak([sdk.worst[kind]]))
        rows.append(row(f"   peak RSS, {kind}", function, values, "MiB"))
    worst_kind = max(ours.worst, key=lambda kind: peak([ours.worst[kind]]))
    worst = (peak(list(ours.worst.values())), peak(list(sdk.worst.values())))
    fits = worst[0] * MIB <= RSS_BUDGET_BYTES
    rows.append(row("5. peak RSS, worst input allowed", function, worst, "MiB"))

    def consistent(ours_mb: float, sdk_mb: float) -> bool:
        return fits == (ours_mb == SMALL_MEMORY_MB)

    if fits:
        reason = f"worst peak {worst[0]:.1f} MiB fits 40 MiB: deploy at {SMALL_MEMORY_MB} MB"
    else:
        reason = f"{worst_kind} peaks at {worst[0]:.1f} MiB > 40 MiB: stays above 64 MB"
    rows.append(row("   memorySize deployed (SDK: SCF default)", function,
                    (float(memory_mb), float(SDK_MEMORY_MB)), "MB",
                    budget="64 iff worst <= 40 MiB", check=consistent, reason=reason))  # fmt: skip
    return rows


def tag_rows(ours: Samples, sdk: Samples) -> list[Row]:
    tags = (mean(ours.tags), mean(sdk.today_tags))
    cost = (prices.tag_cost_per_month(tags[0]), prices.tag_cost_per_month(tags[1]))
    return [
        row("7. tags per object, defaults (SDK: today's 10 fields)", CALLBACK, tags, "tags",
            budget=f"<= {MAX_TAGS}", check=at_most(MAX_TAGS)),
        row("   tags per object, SDK at equal work", CALLBACK, (tags[0], mean(sdk.tags)), "tags"),
        row("   tag storage per month per million objects", CALLBACK, cost, "CNY",
            budget="<= 0.7x today's", check=ratio_check(0.7),
            reason=f"{tags[0]:.1f} tags per object against today's {tags[1]:.1f}"),
    ]  # fmt: skip


def cost_rows(samples: Mapping[tuple[str, str], Samples], memory: Mapping[str, int]) -> list[Row]:
    def use(impl: str, function: str, runs_of: str) -> prices.Usage:
        mb = memory[function] if impl == "ours" else SDK_MEMORY_MB
        runs: list[HostRun] = getattr(samples[(impl, function)], runs_of)
        return usage(function, runs, mb)

    rows: list[Row] = []
    both = (0.0, 0.0)
    for function in (UPLOAD, CALLBACK):
        lines = [prices.cost_lines(use(impl, function, "round_trip")) for impl in ("ours", "sdk")]
        total = (sum(lines[0].values()), sum(lines[1].values()))
        both = (both[0] + total[0], both[1] + total[1])
        rows.append(row("8. cost per million objects, one-time", function, total, "CNY"))
        for name in lines[0]:
            if lines[0][name] or lines[1][name]:
                rows.append(row(f"   of which {name}", function,
                                (lines[0][name], lines[1][name]), "CNY"))  # fmt: skip
    rows.append(Row("8. cost per million objects, one-time", "both", *both, "CNY"))
    return rows + duplicate_rows(use)


def duplicate_rows(use: Pricer) -> list[Row]:
    """The duplicate check's cost per upload against what one caught duplicate saves."""
    extra, saved, rate = [], [], []
    for impl in ("ours", "sdk"):
        on = prices.one_time_cost(use(impl, UPLOAD, "round_trip_check_on"), 1)
        off = prices.one_time_cost(use(impl, UPLOAD, "round_trip"), 1)
        callback = prices.one_time_cost(use(impl, CALLBACK, "round_trip"), 1)
        saves = prices.CI_MEDIAINFO.each + callback
        extra.append(on - off)
        saved.append(saves)
        rate.append(100 * prices.break_even_rate(on - off, saves))
    million = prices.PER_MILLION
    return [
        row("   duplicate check: extra per million uploads", UPLOAD,
            (extra[0] * million, extra[1] * million), "CNY"),
        row("   a caught duplicate saves, per million", UPLOAD,
            (saved[0] * million, saved[1] * million), "CNY"),
        row("   break-even share of caught duplicates", UPLOAD, (rate[0], rate[1]), "%"),
    ]  # fmt: skip
