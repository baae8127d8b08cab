"""What every phase of ``make bench`` shares (plan, samples, the bench) and the upload phases.

One emulator process per phase, used by both implementations in alternating order. Upload phases
(CI jobs parked, so no ffprobe runs while measuring): loopback (cold, warm, duplicate check on),
20 ms added to every answer (check off and on), CI 10x slower than COS (20 ms / 200 ms), and
the worst input the defaults allow (one 100-record event). The callback phases are in
``benchmarks.callback_phases``. Every handler process is fresh: cold runs handle one event,
warm runs ``warmup + events``. Both implementations run at their defaults, which do equal work
(no duplicate check, the same 7 tags); the check is measured on both by setting it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from benchmarks.emulator_handle import RunningEmulator, running_emulator
from benchmarks.fixture import Seeder, cos_batch_line, cos_event_line
from benchmarks.launcher import HostRun, function_environ, run_host
from benchmarks.worst_inputs import UPLOAD_RECORDS

if TYPE_CHECKING:
    from benchmarks.backfill_phase import BackfillRun

UPLOAD = "submit_on_upload"
CALLBACK = "tag_on_callback"
IMPLEMENTATIONS = ("ours", "sdk")
PARKED_JOB_DELAY_S = 3600.0  # upload phases: submitted jobs never run while measured
UPLOAD_OBJECTS = 8
ROUND_TRIP_MS = 20
CI_EXTRA_MS = 180  # CI answers in 200 ms, COS in 20 ms: "CI 10x slower than COS"
CHECK_ON = {"MEDIA_TAGGER_IDEMPOTENCY_CHECK": "true"}
LATENCY_WARMUP = 3
CALLBACK_TIMEOUT_S = 300.0
# The upload phases never deliver callbacks (jobs stay queued); the URL only has to be valid.
PARKED_CALLBACK_URL = "http://127.0.0.1:9/callback"


@dataclass(frozen=True)
class Plan:
    events: int  # measured warm events per round and implementation
    rounds: int
    warmup: int  # invocations per warm process before measuring
    cold_runs: int
    latency_events: int  # events per implementation with 20 ms round trips
    slow_events: int  # events per implementation with CI 10x slower than COS


FULL_PLAN = Plan(events=400, rounds=3, warmup=20, cold_runs=21, latency_events=100, slow_events=20)
SMOKE_PLAN = Plan(events=4, rounds=1, warmup=2, cold_runs=1, latency_events=2, slow_events=2)


@dataclass
class Samples:
    """Every run of one implementation's function, by kind."""

    cold: list[HostRun] = field(default_factory=list)
    warm: list[HostRun] = field(default_factory=list)  # defaults, loopback
    check_on: list[HostRun] = field(default_factory=list)  # upload with the duplicate check
    round_trip: list[HostRun] = field(default_factory=list)  # with 20 ms per answer
    round_trip_check_on: list[HostRun] = field(default_factory=list)  # upload, 20 ms, check on
    ci_slow: list[HostRun] = field(default_factory=list)  # COS 20 ms, CI 200 ms per answer
    worst: dict[str, HostRun] = field(default_factory=dict)  # worst input kind -> its process
    tags: list[int] = field(default_factory=list)  # tags per object after a default run
    today_tags: list[int] = field(default_factory=list)  # sdk: with the 10-field set of before


@dataclass
class Bench:
    """Shared by the phases: interpreter, unpacked zips, media body, scratch folder, secret."""

    python: str
    runtime_name: str
    unpacked: dict[tuple[str, str], Path]
    media: bytes
    scratch: Path
    secret: str
    samples: dict[tuple[str, str], Samples] = field(default_factory=dict)
    backfill: dict[str, BackfillRun] = field(default_factory=dict)  # benchmarks.backfill_phase

    def run(
        self,
        implementation: str,
        function: str,
        lines: Sequence[str],
        emulator: RunningEmulator,
        *,
        warmup: int,
        settings: dict[str, str] | None = None,
        wrapper: Sequence[str] = (),
    ) -> HostRun:
        zip_dir = self.unpacked[(implementation, function)]
        values = {
            "MEDIA_TAGGER_ENDPOINT_URL": emulator.endpoint_url,
            "MEDIA_TAGGER_CALLBACK_URL": PARKED_CALLBACK_URL,
            "MEDIA_TAGGER_CALLBACK_SECRET": self.secret,
            "MEDIA_TAGGER_TAG_PREFIX": "media:",
            "MEDIA_TAGGER_MAX_ATTEMPTS": "4",
            "MEDIA_TAGGER_LOG_LEVEL": "INFO",
            **(settings or {}),
        }
        environ = function_environ(function, self.runtime_name, zip_dir, values)
        return run_host(
            self.python,
            zip_dir,
            lines,
            environ,
            warmup=warmup,
            emulator=emulator,
            scratch=self.scratch,
            wrapper=wrapper,
        )

    def samples_of(self, implementation: str, function: str) -> Samples:
        return self.samples.setdefault((implementation, function), Samples())


def alternating(turn: int) -> tuple[str, ...]:
    """ours-then-sdk on even turns, sdk-then-ours on odd ones (no order bias)."""
    return IMPLEMENTATIONS if turn % 2 == 0 else IMPLEMENTATIONS[::-1]


def upload_phase(bench: Bench, plan: Plan) -> None:
    with running_emulator(0, PARKED_JOB_DELAY_S, bench.scratch / "emulator.log") as emulator:
        objects = Seeder(emulator.endpoint_url).put_objects("up", UPLOAD_OBJECTS, bench.media)
        for turn in range(plan.cold_runs):
            for impl in alternating(turn):
                line = cos_event_line(objects[turn % len(objects)])
                run = bench.run(impl, UPLOAD, [line], emulator, warmup=0)
                bench.samples_of(impl, UPLOAD).cold.append(run)
        lines = [
            cos_event_line(objects[i % len(objects)]) for i in range(plan.warmup + plan.events)
        ]
        for turn in range(plan.rounds):
            for impl in alternating(turn):
                run = bench.run(impl, UPLOAD, lines, emulator, warmup=plan.warmup)
                bench.samples_of(impl, UPLOAD).warm.append(run)
        for impl in IMPLEMENTATIONS:
            run = bench.run(impl, UPLOAD, lines, emulator, warmup=plan.warmup, settings=CHECK_ON)
            bench.samples_of(impl, UPLOAD).check_on.append(run)


def upload_round_trip_phase(bench: Bench, plan: Plan) -> None:
    log = bench.scratch / "emulator-20ms.log"
    with running_emulator(ROUND_TRIP_MS, PARKED_JOB_DELAY_S, log) as emulator:
        objects = Seeder(emulator.endpoint_url).put_objects("up", UPLOAD_OBJECTS, bench.media)
        count = LATENCY_WARMUP + plan.latency_events
        lines = [cos_event_line(objects[i % len(objects)]) for i in range(count)]
        for impl in IMPLEMENTATIONS:
            samples = bench.samples_of(impl, UPLOAD)
            samples.round_trip.append(
                bench.run(impl, UPLOAD, lines, emulator, warmup=LATENCY_WARMUP)
            )
            run = bench.run(impl, UPLOAD, lines, emulator, warmup=LATENCY_WARMUP, settings=CHECK_ON)
            samples.round_trip_check_on.append(run)


def upload_ci_slow_phase(bench: Bench, plan: Plan) -> None:
    log = bench.scratch / "emulator-ci-slow.log"
    with running_emulator(
        ROUND_TRIP_MS, PARKED_JOB_DELAY_S, log, ci_extra_ms=CI_EXTRA_MS
    ) as emulator:
        objects = Seeder(emulator.endpoint_url).put_objects("up", UPLOAD_OBJECTS, bench.media)
        count = LATENCY_WARMUP + plan.slow_events
        lines = [cos_event_line(objects[i % len(objects)]) for i in range(count)]
        for impl in IMPLEMENTATIONS:
            run = bench.run(impl, UPLOAD, lines, emulator, warmup=LATENCY_WARMUP)
            bench.samples_of(impl, UPLOAD).ci_slow.append(run)


def upload_worst_phase(bench: Bench, plan: Plan) -> None:
    """One warm process per implementation: a 1-record event, then two 100-record events."""
    log = bench.scratch / "emulator-worst.log"
    with running_emulator(0, PARKED_JOB_DELAY_S, log) as emulator:
        seeder = Seeder(emulator.endpoint_url)
        objects = seeder.put_objects("batch", UPLOAD_RECORDS, bench.media)
        lines = [cos_event_line(objects[0]), cos_batch_line(objects), cos_batch_line(objects)]
        for impl in IMPLEMENTATIONS:
            run = bench.run(impl, UPLOAD, lines, emulator, warmup=1)
            bench.samples_of(impl, UPLOAD).worst[f"{UPLOAD_RECORDS}-record event"] = run


UPLOAD_PHASES: tuple[tuple[str, Callable[[Bench, Plan], None]], ...] = (
    ("uploads, loopback", upload_phase),
    ("uploads, 20 ms per answer", upload_round_trip_phase),
    ("uploads, CI 10x slower than COS", upload_ci_slow_phase),
    ("uploads, a 100-record event", upload_worst_phase),
)
