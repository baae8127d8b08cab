"""``python -m emulator soak``: many parallel uploads through the whole pipeline, with and without
faults and beyond CI's queue, then an outcome check of every object (nothing lost, nothing wrong).

Phase "clean": N uploads in parallel (emulator.soak.plan: mixed media, non-media, filtered,
hostile keys, multipart-sized media sent in parts as cos-python-sdk-v5's upload_file would; some
deleted and re-created or overwritten A -> B -> A while their job waits, emulator.soak.rewrites).
Phase "faults": the same on a fresh emulator with a share of COS and CI requests answering
503/429, callbacks dropped, duplicated and reordered, then ``reconcile`` until a pass is clean.
Phase "burst": M uploads against a queue of M / 10 waiting jobs, paused once in the middle, no
reconcile (emulator.soak.burst). The phases are ``emulator.soak.phase``; every object's tags are
compared with what its current content must carry. The functions' JSON log lines go to a file
that is scanned for secrets. Prints a summary and returns non-zero when anything was lost, wrong
or leaked. It never talks to the cloud.
"""

from __future__ import annotations

import contextlib
import logging
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from emulator.soak.driver import RetryCounter
from emulator.soak.phase import run_phase
from emulator.soak.plan import make_multipart_sample, make_samples, plan_objects
from emulator.soak.report import PhaseResult, SoakOptions, report
from emulator.soak.rewrites import with_rewrites
from shared.decision_log import configure_logging


@contextlib.contextmanager
def captured_logs(path: Path, counter: RetryCounter) -> Iterator[None]:
    """Function JSON lines (stdout) and emulator logs into ``path``; retries counted."""
    emulator_log = logging.getLogger("emulator")
    transport_log = logging.getLogger("shared.tencent.transport")
    with path.open("w", encoding="utf-8") as sink, contextlib.redirect_stdout(sink):
        handler = logging.StreamHandler(sink)
        saved = emulator_log.propagate
        emulator_log.addHandler(handler)
        emulator_log.propagate = False
        transport_log.addHandler(counter)
        configure_logging()
        try:
            yield
        finally:
            transport_log.removeHandler(counter)
            emulator_log.removeHandler(handler)
            emulator_log.propagate = saved


def run_soak(options: SoakOptions, out: TextIO) -> tuple[int, list[PhaseResult]]:
    """(exit status, per-phase results): 0 when nothing was lost, wrong or leaked."""
    results = []
    counter = RetryCounter()
    with tempfile.TemporaryDirectory(prefix="cos-soak-") as scratch_dir:
        scratch = Path(scratch_dir)
        samples = make_samples(scratch)
        big = make_multipart_sample(scratch, samples[0])
        with captured_logs(scratch / "functions.log", counter):
            for name in options.phases:
                count = options.burst_uploads if name == "burst" else options.uploads
                objects = plan_objects(count, f"{name}/", samples, options.seed, big)
                if name != "burst" and options.rewrites:
                    objects = with_rewrites(objects)
                results.append(run_phase(name, objects, options, scratch, counter))
    report(results, options, out)
    return (1 if any(r.failed for r in results) else 0), results
