"""One soak phase on a fresh emulator: clean, faults (then reconcile) or burst.

"clean": the planned uploads (with rewrites) and nothing else. "faults": the same with a share of
COS/CI requests answering 503/429, callbacks dropped, duplicated and, every ``REARM_EVERY``
uploads, a window of callbacks delivered newest first; then ``reconcile`` (shared.reconcile)
until a pass meets no transient error and submits nothing. "burst": the queue's capacity a tenth
of the uploads, a pause in the middle (``emulator.soak.burst``), no reconcile. Every object is
then checked (``emulator.soak.driver``). Talks only to the loopback emulator it starts.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from emulator.app import Emulator
from emulator.ci.queue import DEFAULT_MAX_CONCURRENT, DEFAULT_MAX_SIZE
from emulator.soak.burst import BurstOptions, QueueSampler, burst_capacity, burst_figures
from emulator.soak.driver import (
    BUCKET,
    REGION,
    RetryCounter,
    absorbed_duplicates,
    check_outcomes,
    driver_transport,
    leaked_secrets,
    upload_all,
)
from emulator.soak.plan import PlannedObject
from emulator.soak.report import PhaseResult, SoakOptions
from emulator.soak.rewrites import rewrite_counts
from shared.errors import MediaTaggerError
from shared.tencent.transport import Transport

RECONCILE_PASSES = 8
# An operator's reconcile against a flaky backend: more attempts per request than the functions'
# default 4, so fewer passes re-read every object (each pass still meets the injected faults).
RECONCILE_ENVIRON = {"MEDIA_TAGGER_MAX_ATTEMPTS": "6"}
RECONCILE_UNSETTLED = ("resubmitted", "skipped:in-flight", "skipped:stale")
REARM_EVERY = 20  # uploads between two reordering windows in the faults phase


def reconcile_until_clean(
    emulator: Emulator, since: float, result: PhaseResult, timeout_s: float
) -> None:
    """Reconcile passes until one meets no transient error, no job in flight and submits
    nothing (a job it submits calls back, or not, before the next pass). A pass whose listing
    fails is recorded and followed by another, as the timer's next run would be."""
    from shared.reconcile.runner import run_reconcile  # noqa: PLC0415 -- issue 5's API, loaded on use

    for _ in range(RECONCILE_PASSES):
        started = time.monotonic()
        try:
            summary = run_reconcile(
                BUCKET, REGION, since=since - 60, until=time.time() + 60,
                environ={**emulator.function_environ(), **RECONCILE_ENVIRON},
            )  # fmt: skip
        except MediaTaggerError as exc:  # the listing ran out of retries: the timer's next run
            result.reconcile.append({"failed": f"{type(exc).__name__}: {exc}"[:200]})
            continue
        result.reconcile.append({**summary.as_dict(), "s": round(time.monotonic() - started, 1)})
        unsettled = sum(summary.outcomes.get(name, 0) for name in RECONCILE_UNSETTLED)
        if not summary.errors and not summary.incomplete and not unsettled:
            return
        emulator.wait_idle(timeout_s)


def arm_faults(emulator: Emulator, options: SoakOptions) -> Callable[[int], None]:
    """The faults phase's injections; returns the per-upload hook that re-opens a reordering
    window (``Faults.reorder_callbacks``) every ``REARM_EVERY`` uploads."""
    faults = emulator.faults
    faults.random_failures(options.failure_rate, (503, 429), seed=options.seed)
    faults.random_callback_faults(options.drop_rate, options.duplicate_rate, seed=options.seed)

    def rearm(index: int) -> None:
        if options.reorder_window and index % REARM_EVERY == 0:
            faults.reorder_callbacks(options.reorder_window)

    return rearm


def _nothing(index: int) -> None:
    return None


def _upload_and_settle(emulator: Emulator, transport: Transport, objects: list[PlannedObject],
                       options: SoakOptions, result: PhaseResult, *,
                       after_each: Callable[[int], None]) -> list[str]:  # fmt: skip
    started = time.monotonic()
    etags = upload_all(transport, objects, options.workers, after_each)
    result.upload_seconds = time.monotonic() - started
    result.settled = emulator.wait_idle(options.timeout_s)
    result.seconds = time.monotonic() - started
    return etags


def _emulator(directory: Path, queue: BurstOptions | None) -> Emulator:
    return Emulator(
        directory,
        job_runner_delay_s=0.01,
        buckets=[BUCKET],
        queue_max_size=queue.capacity if queue else DEFAULT_MAX_SIZE,
        queue_max_concurrent=queue.concurrency if queue else DEFAULT_MAX_CONCURRENT,
    )


def run_phase(name: str, objects: list[PlannedObject], options: SoakOptions, scratch: Path,
              counter: RetryCounter) -> PhaseResult:  # fmt: skip
    result = PhaseResult(name, len(objects), rewritten=rewrite_counts(objects))
    counter.counts.clear()
    queue = burst_options(options, len(objects)) if name == "burst" else None
    with _emulator(scratch / name, queue) as emulator:
        transport, since = driver_transport(emulator, options.workers), time.time()
        if queue is not None:
            with QueueSampler(emulator, queue, len(objects)) as sampler:
                etags = _upload_and_settle(
                    emulator, transport, objects, options, result, after_each=sampler.stored
                )
            result.burst = burst_figures(emulator, sampler, queue)
        else:
            hook = arm_faults(emulator, options) if name == "faults" else _nothing
            etags = _upload_and_settle(
                emulator, transport, objects, options, result, after_each=hook
            )
        if name == "faults" and options.reconcile:
            reconcile_until_clean(emulator, since, result, options.timeout_s)
        _observe(emulator, transport, objects, etags, result, counter=counter, scratch=scratch)
    return result


def _observe(emulator: Emulator, transport: Transport, objects: list[PlannedObject],
             etags: list[str], result: PhaseResult, *, counter: RetryCounter,
             scratch: Path) -> None:  # fmt: skip
    """Faults off, then every object checked and the phase's figures collected."""
    result.injected = emulator.faults.summary()
    emulator.faults.random_failures(0.0)
    emulator.faults.random_callback_faults(0.0, 0.0)
    check_outcomes(transport, objects, etags, result)
    stats = emulator.stats()
    result.retries = Counter(counter.counts)
    result.scf_retries = stats["upload_failures"]
    result.hand_ons = sum("MediaTaggerHandOn" in call.event for call in emulator.upload.invocations)
    result.absorbed = absorbed_duplicates(emulator)
    result.callbacks = stats["callbacks"]
    log_text = (scratch / "functions.log").read_text(encoding="utf-8", errors="replace")
    result.leaked = leaked_secrets(log_text, emulator, objects)


def burst_options(options: SoakOptions, uploads: int) -> BurstOptions:
    capacity = burst_capacity(uploads, options.burst_capacity)
    return BurstOptions(capacity, options.burst_concurrency, options.burst_pause_s)
