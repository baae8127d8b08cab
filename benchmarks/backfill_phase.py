"""The backfill figures of ``make bench``: objects per second on loopback, threads against one.

Every run gets an emulator process of its own (jobs parked: no ffprobe runs, no result arrives,
so every object costs its duplicate check and its POST /jobs; the emulator's queue slows down as
jobs pile up, so no run inherits another's) holding ``OBJECTS`` small media objects; ``python -m
shared backfill`` runs against it as the operator would (a subprocess, ``--no-wait --no-count``, a
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
    state = bench.scratch / f"backfill-{prefix}.state.json"
    state.unlink(missing_ok=True)  # every run starts afresh
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


def _measured(
    bench: Bench, latency_ms: int, count: int, *, concurrency: int, rate: float
) -> BackfillRun:
    """One backfill over ``count`` fresh objects in an emulator of its own (the emulator's CI
    queue slows down as parked jobs pile up, so no run inherits another's)."""
    log = bench.scratch / f"emulator-bf-{latency_ms}ms-{concurrency}.log"
    with running_emulator(latency_ms, PARKED_JOB_DELAY_S, log) as emulator:
        Seeder(emulator.endpoint_url).put_objects("bf", count, b"x" * 16)
        return run_backfill(bench, emulator, "bf", concurrency=concurrency, rate=rate)


def backfill_phase(bench: Bench, plan: Plan) -> None:
    """Fills ``bench.backfill``: threads and serial (loopback, 20 ms), then the default rate."""
    full = plan.events > 100
    sizes = {0: OBJECTS if full else 40, ROUND_TRIP_MS: SLOW_OBJECTS if full else 10}
    for latency_ms, name in ((0, "loopback"), (ROUND_TRIP_MS, "20ms")):
        for concurrency, label in ((DEFAULT_CONCURRENCY, "threads"), (1, "serial")):
            bench.backfill[f"{name}-{label}"] = _measured(
                bench, latency_ms, sizes[latency_ms], concurrency=concurrency, rate=HIGH_RATE
            )
    count = DEFAULT_RATE_OBJECTS if full else 10
    bench.backfill["default"] = _measured(
        bench, 0, count, concurrency=DEFAULT_CONCURRENCY, rate=DEFAULT_RATE
    )


BACKFILL_PHASES: tuple[tuple[str, Callable[[Bench, Plan], None]], ...] = (
    ("backfill, loopback and 20 ms per answer", backfill_phase),
)
