"""Options and results of the soak run (emulator.soak.run), and the summary table it prints.

Pure data and formatting: no I/O besides writing the summary to the given stream.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, TextIO

SUMMARY_FIELDS = ("objects", "seconds", "objects/s", "retries", "scf retries", "injected",
                  "dropped", "duplicated", "absorbed", "reconciled", "lost", "wrong")  # fmt: skip


@dataclass(frozen=True)
class SoakOptions:
    uploads: int = 500
    phases: tuple[str, ...] = ("clean", "faults")
    failure_rate: float = 0.10  # COS and CI requests answering 503 or 429
    drop_rate: float = 0.025  # callbacks never sent
    duplicate_rate: float = 0.025  # callbacks sent twice
    workers: int = 16
    seed: int = 6
    timeout_s: float = 300.0
    reconcile: bool = True  # False shows what the faults alone leave behind


@dataclass
class PhaseResult:
    name: str
    objects: int
    seconds: float = 0.0
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
            self.objects, f"{self.seconds:.1f}", f"{self.objects / max(self.seconds, 1e-9):.1f}",
            sum(self.retries.values()), self.scf_retries, injected,
            faults.get("callbacks_dropped", 0), faults.get("callbacks_duplicated", 0),
            self.absorbed, repaired if self.reconcile else "-",
            self.verdicts["lost"], self.verdicts["wrong"],
        )  # fmt: skip


def report(results: list[PhaseResult], options: SoakOptions, out: TextIO) -> None:
    width = max(len(f) for f in SUMMARY_FIELDS)
    out.write(f"soak: {options.uploads} uploads per phase, {options.workers} in parallel, "
              f"seed {options.seed}, {os.cpu_count()} CPUs\n")  # fmt: skip
    out.write(f"{'phase':<{width}}" + "".join(f"{r.name:>12}" for r in results) + "\n")
    rows = [r.row() for r in results]
    for index, name in enumerate(SUMMARY_FIELDS):
        out.write(f"{name:<{width}}" + "".join(f"{row[index]!s:>12}" for row in rows) + "\n")
    for result in results:
        detail = {"retries by": dict(result.retries), "injected": result.injected,
                  "reconcile passes": result.reconcile, "secrets in logs": result.leaked,
                  "settled": result.settled, "callbacks": result.callbacks}  # fmt: skip
        out.write(f"{result.name}: {json.dumps(detail, sort_keys=True)}\n")
        out.writelines(f"  {line}\n" for line in result.problems)
    lost = sum(r.verdicts["lost"] for r in results)
    wrong = sum(r.verdicts["wrong"] for r in results)
    verdict_line = "FAILED" if any(r.failed for r in results) else "OK"
    out.write(f"{verdict_line}: lost = {lost}, wrong = {wrong}\n")
