"""Options and results of the soak run (emulator.soak.run), and the summary table it prints.

Pure data and formatting: no I/O besides writing the summary to the given stream.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, TextIO

SUMMARY_FIELDS = ("objects", "rewritten", "upload s", "seconds", "objects/s", "retries",
                  "scf retries", "hand-ons", "injected", "dropped", "duplicated", "reordered",
                  "absorbed", "reconciled", "lost", "wrong")  # fmt: skip
PHASES = ("clean", "faults", "burst")


@dataclass(frozen=True)
class SoakOptions:
    uploads: int = 500
    phases: tuple[str, ...] = PHASES
    failure_rate: float = 0.30  # COS and CI requests answering 503 or 429 (issue 10's figures)
    drop_rate: float = 0.20  # callbacks never sent
    duplicate_rate: float = 0.05  # callbacks sent twice
    workers: int = 16
    seed: int = 6
    timeout_s: float = 300.0
    reconcile: bool = True  # False shows what the faults alone leave behind
    rewrites: bool = True  # delete/re-create and A->B->A (emulator.soak.rewrites), not in burst
    reorder_window: int = 5  # faults phase: callbacks held and delivered newest first (0: off)
    burst_uploads: int = 1000
    burst_capacity: int | None = None  # None: burst_uploads / 10
    burst_concurrency: int = 10
    burst_pause_s: float = 3.0


@dataclass
class PhaseResult:
    name: str
    objects: int
    rewritten: dict[str, int] = field(default_factory=dict)
    upload_seconds: float = 0.0
    seconds: float = 0.0
    hand_ons: int = 0
    burst: dict[str, Any] | None = None
    settled: bool = True
    retries: Counter[str] = field(default_factory=Counter)
    scf_retries: int = 0
    injected: dict[str, int] = field(default_factory=dict)
    absorbed: int = 0
    callbacks: dict[str, int] = field(default_factory=dict)
    reconcile: list[dict[str, Any]] = field(default_factory=list)
    verdicts: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    leaked: int = 0

    @property
    def failed(self) -> bool:
        return bool(self.verdicts["lost"] or self.verdicts["wrong"] or self.leaked)

    def row(self) -> tuple[object, ...]:
        faults = self.injected
        injected = sum(v for k, v in faults.items() if not k.startswith("callbacks_"))
        repaired = sum(p.get("outcomes", {}).get("tagged", 0) for p in self.reconcile)
        return (
            self.objects, sum(self.rewritten.values()), f"{self.upload_seconds:.1f}",
            f"{self.seconds:.1f}", f"{self.objects / max(self.seconds, 1e-9):.1f}",
            sum(self.retries.values()), self.scf_retries, self.hand_ons, injected,
            faults.get("callbacks_dropped", 0), faults.get("callbacks_duplicated", 0),
            faults.get("callbacks_reordered", 0), self.absorbed,
            repaired if self.reconcile else "-", self.verdicts["lost"], self.verdicts["wrong"],
        )  # fmt: skip


def report(results: list[PhaseResult], options: SoakOptions, out: TextIO) -> None:
    width = max(len(f) for f in SUMMARY_FIELDS)
    out.write(f"soak: {options.uploads} uploads per phase ({options.burst_uploads} in burst), "
              f"{options.workers} in parallel, seed {options.seed}, {os.cpu_count()} CPUs; "
              f"faults: {options.failure_rate:.0%} COS/CI 503|429, {options.drop_rate:.0%} "
              f"callbacks dropped, {options.duplicate_rate:.0%} duplicated, reorder window "
              f"{options.reorder_window}\n")  # fmt: skip
    out.write(f"{'phase':<{width}}" + "".join(f"{r.name:>12}" for r in results) + "\n")
    rows = [r.row() for r in results]
    for index, name in enumerate(SUMMARY_FIELDS):
        out.write(f"{name:<{width}}" + "".join(f"{row[index]!s:>12}" for row in rows) + "\n")
    for result in results:
        detail = {"retries by": dict(result.retries), "injected": result.injected,
                  "reconcile passes": result.reconcile, "secrets in logs": result.leaked,
                  "settled": result.settled, "callbacks": result.callbacks,
                  "rewritten": result.rewritten}  # fmt: skip
        out.write(f"{result.name}: {json.dumps(detail, sort_keys=True)}\n")
        if result.burst is not None:
            out.write(burst_line(result) + "\n")
        out.writelines(f"  {line}\n" for line in result.problems)
    lost = sum(r.verdicts["lost"] for r in results)
    wrong = sum(r.verdicts["wrong"] for r in results)
    verdict_line = "FAILED" if any(r.failed for r in results) else "OK"
    out.write(f"{verdict_line}: lost = {lost}, wrong = {wrong}\n")


def burst_line(result: PhaseResult) -> str:
    """The burst's drain in one sentence (figures from emulator.soak.burst.burst_figures)."""
    b = result.burst or {}
    paused = (
        f"paused {b['paused_s']} s after {b['paused_after_uploads']} uploads"
        if b["paused_after_uploads"]
        else "not paused"
    )
    return (
        f"burst: {result.objects} uploads stored in {result.upload_seconds:.1f} s against a queue "
        f"of {b['capacity']} waiting / {b['concurrency']} running (peak waiting "
        f"{b['peak_waiting']}), {paused}; drained in {result.seconds:.1f} s: {b['jobs']} jobs "
        f"at {b['jobs_per_s']} "
        f"jobs/s over {b['jobs_span_s']} s (mean job {b['mean_job_s']} s), "
        f"{b['refused_submits']} submits refused (QueueSaturated/QueuePaused), "
        f"{b['hand_on_invocations']} hand-on invocations (max generation {b['max_generation']})"
    )
