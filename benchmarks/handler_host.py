"""The handler process of the benchmarks: import ``index`` from an unpacked zip, invoke, report.

Run by the runtime's own Python as a script (never imported)::

    <python3.X> -S -s handler_host.py ZIP_DIR EVENTS.jsonl RESULT.json WARMUP

with ``cwd=ZIP_DIR`` and PYTHONDONTWRITEBYTECODE set, as SCF runs /var/user: only the zip and
the standard library are importable. Each line of EVENTS.jsonl is ``[event, context]``; a line is
decoded before its invocation's clocks start. Per invocation it records wall time
(``perf_counter``) and process CPU (``process_time``: every thread of this process, so the
callback's read threads count, and nothing of the emulator's). The first WARMUP invocations are
not in the latency/CPU lists. The root logger gets a stdout handler, as the SCF runtime's log
capture does. Standard library only: this file shares the interpreter with the handler under test.
"""

from __future__ import annotations

import importlib
import json
import logging
import resource
import sys
import time
from typing import Any


def outcome_of(result: Any) -> str:
    """One word per invocation, the same for both implementations when they did the same work."""
    if not isinstance(result, dict):
        return "unknown"
    if "statusCode" in result:
        body = json.loads(result.get("body") or "{}")
        return f"{result['statusCode']} {body.get('outcome') or body.get('skipped') or ''}".strip()
    if "submitted" in result:  # ours: {"submitted": [...], "skipped": [...], "failed": [...]}
        return "submitted" if result["submitted"] and not result["failed"] else "not-submitted"
    results = result.get("results") or []  # the SDK reference: {"results": [{"job_id": ...}]}
    return "submitted" if results and all("job_id" in item for item in results) else "not-submitted"


def invoke(handler: Any, line: str) -> tuple[float, float, str]:
    event, context = json.loads(line)
    cpu_started = time.process_time()
    started = time.perf_counter()
    try:
        outcome = outcome_of(handler(event, context))
    except Exception as exc:  # counted and reported: the bench refuses results with errors
        outcome = f"error {type(exc).__name__}: {str(exc)[:200]}"
    wall = time.perf_counter() - started
    return wall * 1000, (time.process_time() - cpu_started) * 1000, outcome


def peak_rss_kb() -> int | None:
    """VmHWM: the peak RSS of this process image. ru_maxrss is not used for the figure because
    Linux carries the forking parent's peak over an execve (a child of a 40 MB driver would report
    at least 40 MB). None where /proc is not available."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _chain(first: str, rest: Any) -> Any:
    yield first
    yield from rest


def main() -> int:
    zip_dir, events_path, result_path, warmup = sys.argv[1:5]
    sys.path[0] = zip_dir  # replaces this script's folder: nothing of the repository is visible
    logging.basicConfig(stream=sys.stdout, format="%(asctime)s %(levelname)s %(message)s")
    report: dict[str, Any] = {"latency_ms": [], "cpu_ms": [], "outcomes": {}}
    measured_from = resource.getrusage(resource.RUSAGE_SELF)
    with open(events_path, encoding="utf-8") as events:
        lines = iter(events)
        first = next(lines)
        started, cpu_started = time.perf_counter(), time.process_time()
        handler = importlib.import_module("index").main_handler
        report["import_ms"] = (time.perf_counter() - started) * 1000
        report["import_cpu_ms"] = (time.process_time() - cpu_started) * 1000
        for number, line in enumerate(_chain(first, lines)):
            wall_ms, cpu_ms, outcome = invoke(handler, line)
            if number == 0:
                report["first_ms"], report["first_cpu_ms"] = wall_ms, cpu_ms
            if number + 1 == int(warmup):
                measured_from = resource.getrusage(resource.RUSAGE_SELF)
            if number >= int(warmup):
                report["latency_ms"].append(wall_ms)
                report["cpu_ms"].append(cpu_ms)
            report["outcomes"][outcome] = report["outcomes"].get(outcome, 0) + 1
    report["process_cpu_ms"] = time.process_time() * 1000
    usage = resource.getrusage(resource.RUSAGE_SELF)
    # user / kernel split of the measured invocations (thread hand-offs show up as kernel time)
    report["user_cpu_ms"] = (usage.ru_utime - measured_from.ru_utime) * 1000
    report["sys_cpu_ms"] = (usage.ru_stime - measured_from.ru_stime) * 1000
    report["context_switches"] = (usage.ru_nvcsw - measured_from.ru_nvcsw) + (
        usage.ru_nivcsw - measured_from.ru_nivcsw
    )
    report["maxrss_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    report["hwm_kb"] = peak_rss_kb()
    report["python"] = list(sys.version_info[:3])
    report["modules"] = len(sys.modules)
    with open(result_path, "w", encoding="utf-8") as handle:
        json.dump(report, handle)
    return 0


if __name__ == "__main__":
    sys.exit(main())
