"""The callback phases of ``make bench``: loopback, 20 ms answers, CI 10x slower, worst bodies.

Callback objects get their MediaInfo jobs run and their real CI callbacks captured first; their
tags are cleared before every handler process so each invocation does the full work (three
reads and one tag write). After the 20 ms run each object's tags are counted (the
tags-per-object figure); the SDK-based reference is then also run with the 10-field tag set the
project wrote before issue 10 (``TODAY_FIELDS``), the "today's" of the tag-cost budget.
The worst-input processes handle one real callback, then one body of the largest allowed size
(``benchmarks.worst_inputs``), on a second object whose tags are cleared.
"""

from __future__ import annotations

from collections.abc import Callable

from benchmarks.emulator_handle import RunningEmulator, running_emulator
from benchmarks.fixture import CallbackSink, SeededObject, Seeder
from benchmarks.phases import (
    CALLBACK,
    CI_EXTRA_MS,
    IMPLEMENTATIONS,
    LATENCY_WARMUP,
    ROUND_TRIP_MS,
    Bench,
    Plan,
    alternating,
)
from benchmarks.worst_inputs import worst_callback_lines

CALLBACK_TIMEOUT_S = 300.0
TODAY_FIELDS = "duration,resolution,vcodec,acodec,fps,bitrate,container,rotation"
TODAY_EVENTS = 10


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
            samples = bench.samples_of(impl, CALLBACK)
            samples.round_trip.append(run)
            samples.tags = seeder.tag_counts(objects)
        today = objects[:TODAY_EVENTS]
        seeder.clear_tags(today)
        settings = {"MEDIA_TAGGER_TAG_FIELDS": TODAY_FIELDS}
        bench.run("sdk", CALLBACK, lines[: len(today)], emulator, warmup=0, settings=settings)
        bench.samples_of("sdk", CALLBACK).today_tags = seeder.tag_counts(today)


def callback_ci_slow_phase(bench: Bench, plan: Plan) -> None:
    count = LATENCY_WARMUP + plan.slow_events
    log = bench.scratch / "emulator-cb-ci-slow.log"
    with running_emulator(ROUND_TRIP_MS, 0.0, log, ci_extra_ms=CI_EXTRA_MS) as emulator:
        seeder, objects, lines = callback_events(bench, emulator, count)
        for impl in IMPLEMENTATIONS:
            seeder.clear_tags(objects)
            run = bench.run(impl, CALLBACK, lines, emulator, warmup=LATENCY_WARMUP)
            bench.samples_of(impl, CALLBACK).ci_slow.append(run)


def callback_worst_phase(bench: Bench, plan: Plan) -> None:
    """Per implementation and worst body: a fresh process, one real callback, then that body."""
    with running_emulator(0, 0.0, bench.scratch / "emulator-cb-worst.log") as emulator:
        seeder, objects, lines = callback_events(bench, emulator, 2)
        for kind, worst in worst_callback_lines(lines[1]).items():
            for impl in IMPLEMENTATIONS:
                seeder.clear_tags(objects)
                run = bench.run(impl, CALLBACK, [lines[0], worst], emulator, warmup=1)
                bench.samples_of(impl, CALLBACK).worst[kind] = run


CALLBACK_PHASES: tuple[tuple[str, Callable[[Bench, Plan], None]], ...] = (
    ("callbacks, loopback", callback_phase),
    ("callbacks, 20 ms per answer", callback_round_trip_phase),
    ("callbacks, CI 10x slower than COS", callback_ci_slow_phase),
    ("callbacks, largest allowed bodies", callback_worst_phase),
)
