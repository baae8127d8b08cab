"""The measuring phases of ``make bench``: the same events, the same emulator, both implementations.

Four emulator processes, one per phase, each used by both implementations in alternating order:
uploads on loopback (CI jobs parked, so no ffprobe runs while measuring), uploads with 20 ms
added to every answer, callbacks on loopback, callbacks with 20 ms. Callback objects get their
jobs run and their real CI callbacks captured first; their tags are cleared before every
handler process so each invocation does the full work (three reads and one tag write).
Every handler process is fresh: cold runs handle one event, warm runs ``warmup + events``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.fixture import (
    CallbackSink,
    RunningEmulator,
    SeededObject,
    Seeder,
    cos_event_line,
    running_emulator,
)
from benchmarks.launcher import HostRun, function_environ, run_host

UPLOAD = "submit_on_upload"
CALLBACK = "tag_on_callback"
IMPLEMENTATIONS = ("ours", "sdk")
PARKED_JOB_DELAY_S = 3600.0  # upload phases: submitted jobs never run while measured
UPLOAD_OBJECTS = 8
ROUND_TRIP_MS = 20
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


FULL_PLAN = Plan(events=400, rounds=3, warmup=20, cold_runs=11, latency_events=100)
SMOKE_PLAN = Plan(events=4, rounds=1, warmup=2, cold_runs=1, latency_events=2)


@dataclass
class Samples:
    """Every run of one implementation's function, by kind."""

    cold: list[HostRun] = field(default_factory=list)
    warm: list[HostRun] = field(default_factory=list)
    round_trip: list[HostRun] = field(default_factory=list)  # with 20 ms per answer
    check_off: list[HostRun] = field(default_factory=list)  # upload without the tag check


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
        count = plan.warmup + plan.events
        for turn in range(plan.rounds):
            for impl in alternating(turn):
                lines = [cos_event_line(objects[i % len(objects)]) for i in range(count)]
                run = bench.run(impl, UPLOAD, lines, emulator, warmup=plan.warmup)
                bench.samples_of(impl, UPLOAD).warm.append(run)
        check_off = {"MEDIA_TAGGER_IDEMPOTENCY_CHECK": "false"}
        for impl in IMPLEMENTATIONS:
            lines = [cos_event_line(objects[i % len(objects)]) for i in range(count)]
            run = bench.run(impl, UPLOAD, lines, emulator, warmup=plan.warmup, settings=check_off)
            bench.samples_of(impl, UPLOAD).check_off.append(run)


def upload_round_trip_phase(bench: Bench, plan: Plan) -> None:
    log = bench.scratch / "emulator-20ms.log"
    with running_emulator(ROUND_TRIP_MS, PARKED_JOB_DELAY_S, log) as emulator:
        objects = Seeder(emulator.endpoint_url).put_objects("up", UPLOAD_OBJECTS, bench.media)
        count = LATENCY_WARMUP + plan.latency_events
        for impl in IMPLEMENTATIONS:
            lines = [cos_event_line(objects[i % len(objects)]) for i in range(count)]
            run = bench.run(impl, UPLOAD, lines, emulator, warmup=LATENCY_WARMUP)
            bench.samples_of(impl, UPLOAD).round_trip.append(run)


def callback_events(
    bench: Bench, emulator: RunningEmulator, count: int
) -> tuple[Seeder, list[SeededObject], list[str]]:
    """``count`` objects with finished MediaInfo jobs and the callbacks CI sent for them."""
    seeder = Seeder(emulator.endpoint_url)
    objects = seeder.put_objects("cb", count, bench.media)
    sink = CallbackSink().start()
    try:
        seeder.submit_jobs(objects, sink.url, bench.secret)
        lines = sink.wait_for([obj.key for obj in objects], CALLBACK_TIMEOUT_S)
    finally:
        sink.stop()
    return seeder, objects, lines


def callback_phase(bench: Bench, plan: Plan) -> None:
    count = plan.warmup + plan.events
    with running_emulator(0, 0.0, bench.scratch / "emulator-cb.log") as emulator:
        seeder, objects, lines = callback_events(bench, emulator, count)
        for turn in range(plan.cold_runs):
            for impl in alternating(turn):
                index = turn % count
                seeder.clear_tags([objects[index]])
                run = bench.run(impl, CALLBACK, [lines[index]], emulator, warmup=0)
                bench.samples_of(impl, CALLBACK).cold.append(run)
        for turn in range(plan.rounds):
            for impl in alternating(turn):
                seeder.clear_tags(objects)
                run = bench.run(impl, CALLBACK, lines, emulator, warmup=plan.warmup)
                bench.samples_of(impl, CALLBACK).warm.append(run)


def callback_round_trip_phase(bench: Bench, plan: Plan) -> None:
    count = LATENCY_WARMUP + plan.latency_events
    log = bench.scratch / "emulator-cb-20ms.log"
    with running_emulator(ROUND_TRIP_MS, 0.0, log) as emulator:
        seeder, objects, lines = callback_events(bench, emulator, count)
        for impl in IMPLEMENTATIONS:
            seeder.clear_tags(objects)
            run = bench.run(impl, CALLBACK, lines, emulator, warmup=LATENCY_WARMUP)
            bench.samples_of(impl, CALLBACK).round_trip.append(run)


PHASES: tuple[tuple[str, Callable[[Bench, Plan], None]], ...] = (
    ("uploads, loopback", upload_phase),
    ("uploads, 20 ms per answer", upload_round_trip_phase),
    ("callbacks, loopback", callback_phase),
    ("callbacks, 20 ms per answer", callback_round_trip_phase),
)
