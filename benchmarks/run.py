"""``make bench`` / ``python -m benchmarks``: build both implementations, run every phase, print
one table, check the budgets.

Exit status: 0 when every budget is met, 1 when one is missed (said loudly, after the table),
2 when the run is invalid (an invocation did not do the full work, or the harness failed).
``--smoke`` runs tiny counts for CI: it checks that every figure is produced, not the budgets
(tiny samples are noise). ``--json`` also writes the rows and the machine for tools and tests.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import secrets
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks import backfill_phase, build, callback_phases, phases, prices, report, table
from deploy.runtime import BuildError, dotted
from emulator.demo import make_sample_video

LOUD = "!" * 100
PHASES = phases.UPLOAD_PHASES + callback_phases.CALLBACK_PHASES + backfill_phase.BACKFILL_PHASES


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny counts; budgets not enforced")
    parser.add_argument("--json", type=Path, help="also write rows + machine as JSON here")
    return parser.parse_args(argv)


def machine(python: str, version: tuple[int, int]) -> dict[str, Any]:
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "platform": platform.platform(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "handler_python": f"{python} (Python {dotted(version)})",
        "emulator_python": platform.python_version(),
    }


def build_zips(runtime: build.Runtime) -> dict[tuple[str, str], build.BuiltZip]:
    ours = build.build_ours(runtime)
    sdk = build.build_sdk(runtime)
    return {
        **{("ours", name): item for name, item in ours.items()},
        **{("sdk", name): item for name, item in sdk.items()},
    }


def prepare(
    runtime: build.Runtime, zips: dict[tuple[str, str], build.BuiltZip], work: Path
) -> phases.Bench:
    """Unpack every zip (as SCF does into /var/user) and make the media the objects carry."""
    unpacked = {
        key: build.unpack(item.path, work / "var-user" / "-".join(key))
        for key, item in zips.items()
    }
    return phases.Bench(
        python=runtime.python,
        runtime_name=f"Python{dotted(runtime.version)}",
        unpacked=unpacked,
        media=make_sample_video(work).read_bytes(),
        scratch=work,
        secret=secrets.token_urlsafe(32),
    )


def measure(bench: phases.Bench, plan: phases.Plan) -> None:
    for title, phase in PHASES:
        started = time.monotonic()
        print(f"  {title} ...", end="", flush=True)
        phase(bench, plan)
        print(f" {time.monotonic() - started:.0f} s", flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    plan = phases.SMOKE_PLAN if args.smoke else phases.FULL_PLAN
    started = time.monotonic()
    try:
        runtime = build.find_runtime()
        print(f"building both implementations for Python{dotted(runtime.version)} ...", flush=True)
        zips = build_zips(runtime)
        with tempfile.TemporaryDirectory(prefix="bench-") as work:
            bench = prepare(runtime, zips, Path(work))
            measure(bench, plan)
    except (BuildError, RuntimeError, OSError) as exc:
        print(f"\n{LOUD}\nBENCH FAILED: {exc}\n{LOUD}", file=sys.stderr)
        return 2
    sizes = {key: item.size for key, item in zips.items()}
    rows = table.build_rows(bench.samples, sizes, table.memory_of(), bench.backfill)
    problems = [
        problem
        for function in (phases.UPLOAD, phases.CALLBACK)
        for impl in phases.IMPLEMENTATIONS
        for problem in report.invalid_outcomes(function, bench.samples[(impl, function)])
    ]
    about = machine(runtime.python, runtime.version)
    print(render(rows, about, plan, time.monotonic() - started))
    if args.json:
        listed = [{**dataclasses.asdict(row), "ratio": row.ratio} for row in rows]
        payload: dict[str, Any] = {"plan": dataclasses.asdict(plan), "machine": about}
        payload.update(problems=problems, rows=listed)
        args.json.write_text(json.dumps(payload, indent=2), encoding="utf-8")
    return verdict(rows, problems, smoke=args.smoke)


def render(
    rows: Sequence[report.Row], about: dict[str, Any], plan: phases.Plan, elapsed: float
) -> str:
    header = [
        "",
        f"machine: {about['cpu']}, {about['cores']} cores, {about['platform']}",
        f"handlers: {about['handler_python']}, emulator: Python {about['emulator_python']}",
        f"plan: {plan}, took {elapsed:.0f} s",
        "",
    ]
    prices_used = ["", "prices (benchmarks/prices.py, CNY, list prices, no free tier):"]
    prices_used.append(prices.render_price_table())
    return "\n".join(header) + report.render_table(rows) + "\n" + "\n".join(prices_used) + "\n"


def verdict(rows: Sequence[report.Row], problems: Sequence[str], *, smoke: bool) -> int:
    if problems:
        print(f"{LOUD}\nINVALID RUN: not every invocation did the full work:", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        print(LOUD, file=sys.stderr)
        return 2
    missed = report.missed_lines(rows)
    if not missed:
        print("every budget met" if not smoke else "smoke run: every figure produced")
        return 0
    if smoke:
        print("smoke run: every figure produced (budgets are not judged on tiny counts)")
        return 0
    print(f"{LOUD}\n" + "\n".join(missed) + f"\n{LOUD}")
    print(f"BUDGET MISSED ({len(missed)}): see the table", file=sys.stderr)
    return 1
