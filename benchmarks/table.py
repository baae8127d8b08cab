"""All rows of ``make bench`` in the order the table shows them (see figures.py and money.py).

``memory_of`` reads each function's ``memorySize`` from serverless.yml, the value the cost rows
bill ours at and the 64 MB budget checks. Pure but for that one read.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from benchmarks import figures, money
from benchmarks.backfill_phase import BackfillRun
from benchmarks.phases import CALLBACK, UPLOAD, Samples
from benchmarks.report import Row
from deploy.runtime import load_manifest

ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS = (UPLOAD, CALLBACK)


def memory_of(root: Path = ROOT) -> dict[str, int]:
    instances = load_manifest(root / "serverless.yml")["instances"]
    return {name: int(instances[name]["inputs"]["memorySize"]) for name in FUNCTIONS}


def build_rows(
    samples: Mapping[tuple[str, str], Samples],
    zip_sizes: Mapping[tuple[str, str], int],
    memory: Mapping[str, int],
    backfill: Mapping[str, BackfillRun] | None = None,
) -> list[Row]:
    rows: list[Row] = []
    for function in FUNCTIONS:
        rows += figures.zip_rows(
            function, (zip_sizes[("ours", function)], zip_sizes[("sdk", function)])
        )
    for build in (figures.cold_rows, figures.warm_rows, figures.latency_rows):
        for function in FUNCTIONS:
            rows += build(function, samples[("ours", function)], samples[("sdk", function)])
    for function in FUNCTIONS:
        ours, sdk = samples[("ours", function)], samples[("sdk", function)]
        rows += money.memory_rows(function, ours, sdk, memory[function])
    for function in FUNCTIONS:
        rows += figures.traffic_rows(
            function, samples[("ours", function)], samples[("sdk", function)]
        )
    rows += money.tag_rows(samples[("ours", CALLBACK)], samples[("sdk", CALLBACK)])
    return rows + money.cost_rows(samples, memory) + figures.backfill_rows(backfill or {})
