"""The backfill figures of ``make bench``: objects per second on loopback, threads against one.

An emulator process (jobs parked: no ffprobe runs, no result arrives, so every object costs its
duplicate check and its POST /jobs) holds ``OBJECTS`` small media objects; ``python -m shared
backfill`` runs against it as the operator would (a subprocess, ``--no-wait --no-count``, a
fresh state file) with a high ``--rate``, once with the default ``--concurrency`` and once with
``--concurrency 1`` (serial, as before); the same pair with 20 ms added to every answer (where
threads matter: each object waits for two round trips); then at the default ``--rate`` on a few
objects. Objects per second = objects handled / the run's own duration from its summary line
(its interpreter start is left out).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass

from benchmarks.emulator_handle import BUCKET, ROOT, RunningEmulator, running_emulator
from benchmarks.fixture import REGION, Seeder
from benchmarks.phases import (
    PARKED_CALLBACK_URL,
    PARKED_JOB_DELAY_S,
    ROUND_TRIP_MS,
    Bench,
    Plan,
)
from emulator import EmulatorCredentials
from shared.ops.api import DEFAULT_RATE
from shared.ops.backfill import DEFAULT_CONCURRENCY

OBJECTS = 1500
SLOW_OBJECTS = 300  # with 20 ms answers: the serial run takes ~12 s
HIGH_RATE = 1000
DEFAULT_RATE_OBJECTS = 50
RUN_TIMEOUT_S = 600


@dataclass(frozen=True)
class BackfillRun:
    concurrency: int
    rate: float
    objects: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.objects / self.seconds if self.seconds > 0 else float("nan")


def backfill_environ(emulator: RunningEmulator, secret: str) -> dict[str, str]:
    keys = EmulatorCredentials.default()
    environ = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "TENCENTCLOUD_SECRETID": keys.secret_id,
        "TENCENTCLOUD_SECRETKEY": keys.secret_key,
        "MEDIA_TAGGER_ENDPOINT_URL": emulator.endpoint_url,
        "MEDIA_TAGGER_CALLBACK_URL": PARKED_CALLBACK_URL,
        "MEDIA_TAGGER_CALLBACK_SECRET": secret,
    }
    if keys.token:
        environ["TENCENTCLOUD_SESSIONTOKEN"] = keys.token
    return environ


def run_backfill(
    bench: Bench, emulator: RunningEmulator, prefix: str, *, concurrency: int, rate: float
) -> BackfillRun:
    state = bench.scratch / f"backfill-{prefix}-{concurrency}.state.json"
    command = [sys.executable, "-m", "shared", "backfill", "--bucket", BUCKET, "--region", REGION]
    command += ["--prefix", f"{prefix}/", "--rate", f"{rate:g}", "--no-wait", "--no-count"]
    command += ["--concurrency", str(concurrency), "--state-file", str(state)]
    done = subprocess.run(
        command,
        cwd=ROOT,
        env=backfill_environ(emulator, bench.secret),
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"backfill failed ({done.returncode}):\n{done.stderr[-2000:]}")
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    if summary.get("outcome") != "backfill-summary" or not summary.get("complete"):
        raise RuntimeError(f"backfill did not complete: {summary}")
    return BackfillRun(concurrency, rate, int(summary["submitted"]), summary["ms"] / 1000)


def _pair(bench: Bench, emulator: RunningEmulator, name: str, count: int) -> None:
    """Threads, then one thread, each over ``count`` objects of its own, at a high rate."""
    seeder = Seeder(emulator.endpoint_url)
    for concurrency, label in ((DEFAULT_CONCURRENCY, "threads"), (1, "serial")):
        prefix = f"{name}-{label}"
        seeder.put_objects(prefix, count, b"x" * 16)
        run = run_backfill(bench, emulator, prefix, concurrency=concurrency, rate=HIGH_RATE)
        bench.backfill[prefix] = run


def backfill_phase(bench: Bench, plan: Plan) -> None:
    """Fills ``bench.backfill``: threads and serial (loopback, 20 ms), then the default rate."""
    full = plan.events > 100
    log = bench.scratch / "emulator-bf.log"
    with running_emulator(0, PARKED_JOB_DELAY_S, log) as emulator:
        _pair(bench, emulator, "loopback", OBJECTS if full else 40)
        Seeder(emulator.endpoint_url).put_objects(
            "default", DEFAULT_RATE_OBJECTS if full else 10, b"x" * 16
        )
        bench.backfill["default"] = run_backfill(
            bench, emulator, "default", concurrency=DEFAULT_CONCURRENCY, rate=DEFAULT_RATE
        )
    log = bench.scratch / "emulator-bf-20ms.log"
    with running_emulator(ROUND_TRIP_MS, PARKED_JOB_DELAY_S, log) as emulator:
        _pair(bench, emulator, "20ms", SLOW_OBJECTS if full else 10)


BACKFILL_PHASES: tuple[tuple[str, Callable[[Bench, Plan], None]], ...] = (
    ("backfill, loopback and 20 ms per answer", backfill_phase),
)
