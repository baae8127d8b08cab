"""``python -m benchmarks.machinery``: does our custom machinery pay for itself? (issue 15)

Side by side on the real function zips (runtime Python, .pyc present, the handler host and the
emulator of ``make bench``), each run round-robin over the variants (``benchmarks.variants``):

1. cold start (import of ``index`` + the first event; wall and CPU, median of ``--cold-runs``)
   with ``shared.records.record`` against ``dataclass(frozen=True)`` and ``(..., slots=True)``;
2. warm CPU per event (``--events`` after 20 warm-up, median of ``--rounds`` processes) for the
   same record variants and for the transport's adapter bypass against ``Session.request``;
3. the import cost of the zip's record classes written as record, dataclass, NamedTuple and
   plain ``__slots__`` classes (``benchmarks.class_styles``: NamedTuple and ``__slots__`` are not
   drop-in replacements, so they are measured on synthetic copies of the same class shapes).

Prints Markdown tables for docs/performance.md ("Machinery"); judges nothing.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from benchmarks import build, class_styles, run, variants
from benchmarks.callback_phases import callback_events
from benchmarks.emulator_handle import running_emulator
from benchmarks.fixture import Seeder, cos_event_line
from benchmarks.launcher import HostRun
from benchmarks.phases import CALLBACK, PARKED_JOB_DELAY_S, UPLOAD, UPLOAD_OBJECTS, Bench

SHIPPED = "record"  # the zip as built: shared.records and the adapter bypass
COLD_VARIANTS = (SHIPPED, "dataclass", "dataclass-slots")
WARM_VARIANTS = (SHIPPED, "dataclass", "dataclass-slots", "session-request")
Runs = dict[tuple[str, str], list[HostRun]]


def add_variants(bench: Bench, python: str) -> None:
    for function in (UPLOAD, CALLBACK):
        shipped = bench.unpacked[("ours", function)]
        bench.unpacked[(SHIPPED, function)] = shipped
        for name in variants.VARIANTS:
            target = bench.scratch / "variants" / f"{name}-{function}"
            bench.unpacked[(name, function)] = variants.make_variant(python, shipped, name, target)


def measure_upload(bench: Bench, cold_runs: int, rounds: int, events: int, runs: Runs) -> None:
    log = bench.scratch / "emulator-machinery-up.log"
    with running_emulator(0, PARKED_JOB_DELAY_S, log) as emulator:
        objects = Seeder(emulator.endpoint_url).put_objects("up", UPLOAD_OBJECTS, bench.media)
        lines = [cos_event_line(objects[i % len(objects)]) for i in range(20 + events)]
        for turn in range(cold_runs):
            for name in COLD_VARIANTS:
                line = cos_event_line(objects[turn % len(objects)])
                run_ = bench.run(name, UPLOAD, [line], emulator, warmup=0)
                runs.setdefault((name, "cold-" + UPLOAD), []).append(run_)
        for _ in range(rounds):
            for name in WARM_VARIANTS:
                run_ = bench.run(name, UPLOAD, lines, emulator, warmup=20)
                runs.setdefault((name, "warm-" + UPLOAD), []).append(run_)


def measure_callback(bench: Bench, cold_runs: int, rounds: int, events: int, runs: Runs) -> None:
    log = bench.scratch / "emulator-machinery-cb.log"
    with running_emulator(0, 0.0, log) as emulator:
        seeder, objects, lines = callback_events(bench, emulator, 20 + events)
        for turn in range(cold_runs):
            for name in COLD_VARIANTS:
                index = turn % len(objects)
                seeder.clear_tags([objects[index]])
                run_ = bench.run(name, CALLBACK, [lines[index]], emulator, warmup=0)
                runs.setdefault((name, "cold-" + CALLBACK), []).append(run_)
        for _ in range(rounds):
            for name in WARM_VARIANTS:
                seeder.clear_tags(objects)
                run_ = bench.run(name, CALLBACK, lines, emulator, warmup=20)
                runs.setdefault((name, "warm-" + CALLBACK), []).append(run_)


def _median(runs: Sequence[HostRun], pick: Callable[[HostRun], float]) -> float:
    return float(statistics.median(pick(one) for one in runs))


def _warm_cpu(one: HostRun) -> float:
    return float(sum(one.report["cpu_ms"]) / len(one.report["cpu_ms"]))


def cold_table(runs: Runs) -> str:
    lines = ["| function | variant | cold start, wall | cold start, CPU | vs record (wall) |"]
    lines.append("|---|---|---:|---:|---:|")
    for function in (UPLOAD, CALLBACK):
        base = _median(runs[(SHIPPED, "cold-" + function)], lambda r: r.cold_ms)
        for name in COLD_VARIANTS:
            group = runs[(name, "cold-" + function)]
            wall, cpu = _median(group, lambda r: r.cold_ms), _median(group, lambda r: r.cold_cpu_ms)
            lines.append(
                f"| {function} | {name} | {wall:.1f} ms | {cpu:.1f} ms | {wall / base:.2f}x |"
            )
    return "\n".join(lines)


def warm_table(runs: Runs) -> str:
    lines = ["| function | variant | warm CPU per event | vs shipped | peak RSS |"]
    lines.append("|---|---|---:|---:|---:|")
    for function in (UPLOAD, CALLBACK):
        base = _median(runs[(SHIPPED, "warm-" + function)], _warm_cpu)
        for name in WARM_VARIANTS:
            group = runs[(name, "warm-" + function)]
            cpu = _median(group, _warm_cpu)
            rss = max((one.report["hwm_kb"] or 0) for one in group) / 1024
            lines.append(
                f"| {function} | {name} | {cpu:.3f} ms | {cpu / base:.2f}x | {rss:.1f} MiB |"
            )
    return "\n".join(lines)


def styles_table(bench: Bench, python: str, runs: int) -> str:
    lines = ["| function | classes | " + " | ".join(class_styles.STYLES) + " |"]
    lines.append("|---|---:|" + "---:|" * len(class_styles.STYLES))
    for function in (UPLOAD, CALLBACK):
        zip_dir = bench.unpacked[("ours", function)]
        times = class_styles.time_styles(python, zip_dir, bench.scratch / function, runs)
        cells = " | ".join(f"{times[style]:.2f} ms" for style in class_styles.STYLES)
        lines.append(f"| {function} | {times['classes']:.0f} | {cells} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.machinery", description=__doc__)
    parser.add_argument("--cold-runs", type=int, default=31, help="cold processes per variant")
    parser.add_argument("--rounds", type=int, default=3, help="warm processes per variant")
    parser.add_argument("--events", type=int, default=400, help="measured events per process")
    parser.add_argument("--style-runs", type=int, default=41, help="imports per class style")
    args = parser.parse_args(argv)
    runtime = build.find_runtime()
    zips = run.build_zips(runtime)
    with tempfile.TemporaryDirectory(prefix="bench-machinery-") as work:
        bench = run.prepare(runtime, zips, Path(work))
        add_variants(bench, runtime.python)
        runs: Runs = {}
        measure_upload(bench, args.cold_runs, args.rounds, args.events, runs)
        measure_callback(bench, args.cold_runs, args.rounds, args.events, runs)
        print(f"\n{run.machine(runtime.python, runtime.version)}\n")
        print(f"cold start, median of {args.cold_runs} per variant:\n\n{cold_table(runs)}\n")
        print(f"warm, median of {args.rounds} x {args.events} events:\n\n{warm_table(runs)}\n")
        print(f"import of the record classes, median of {args.style_runs}:\n")
        print(styles_table(bench, runtime.python, args.style_runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
