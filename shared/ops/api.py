"""Python API of backfill: ``run_backfill`` (reconcile's is ``shared.reconcile.runner``).

Each builds its settings, credentials and clients from an environ mapping exactly as the SCF
functions do (``shared.settings.functions`` loaders, ``credential_from_environ`` per request, the
``MEDIA_TAGGER_ENDPOINT_URL`` override for the emulator) and runs the use case. The CLI
(``python -m shared``), the reconcile timer function and tests call these. Logging is left to
the caller's configuration (``configure_logging``); decision lines go to ``media_tagger``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path

import requests

from shared.decision_log import DecisionLog
from shared.ops.adaptive_rate import MIN_RATE, AdaptiveJobs, AdaptiveRate
from shared.ops.backfill import DEFAULT_CONCURRENCY, Backfill, BackfillResult, BackfillTarget
from shared.ops.progress import Progress
from shared.ops.queue_fill import QueueWatch
from shared.ops.stop_signal import StopSignal
from shared.ops.wait import DEFAULT_TIMEOUT_S, ResultWait, WaitReport
from shared.records import replace
from shared.scf.invocation import environ_or_process, environ_transport, run_log
from shared.settings.functions import load_upload_settings
from shared.tencent.ci_client import CiClient
from shared.tencent.cos_client import CosClient
from shared.upload.service import UploadService

BACKFILL_FN = "backfill"
# Jobs per second at most. CI publishes no QPS for POST /jobs (only 429 SlowDown and 403
# QueueSaturated as signals); its only published request rates are for image processing (async:
# 100/s mainland, 50/s finance and overseas). A media queue holds 10,000 jobs and runs 10 at once
# (every sample in CI's docs): faster than the queue drains, backfill fills it and the upload
# function's own submissions meet QueueSaturated. 10/s: a fifth of the lowest published CI rate,
# and what 10 concurrent jobs of about a second each drain (docs/operations.md "Backfill"). The
# pace comes down on SlowDown / QueueSaturated and back up (shared.ops.adaptive_rate).
DEFAULT_RATE = 10.0


def run_backfill(
    target: BackfillTarget,
    *,
    environ: Mapping[str, str] | None = None,
    rate: float = DEFAULT_RATE,
    dry_run: bool = False,
    state_file: Path | None = None,
    max_objects: int | None = None,
    count_first: bool = True,
    progress: Progress | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    session: requests.Session | None = None,
    log: DecisionLog | None = None,
    wait_timeout_s: float | None = DEFAULT_TIMEOUT_S,
    concurrency: int = DEFAULT_CONCURRENCY,
) -> BackfillResult:
    """Backfill ``target`` with the upload function's settings (idempotency check forced on).
    ``clock``/``sleep`` drive the rate limiter, the progress display and the wait; ``dry_run``
    reads the state file but never writes it and submits nothing; ``concurrency`` objects are
    handled at once (the rate limiter is shared). Then, unless
    ``wait_timeout_s`` is None (or nothing was submitted), it waits up to that long for every
    submitted job's result to reach its object (``shared.ops.wait``)."""
    env = environ_or_process(environ)
    settings = replace(load_upload_settings(env), idempotency_check=True)
    transport = environ_transport(env, settings.endpoint_url, settings.max_attempts, session)
    log = log or run_log(BACKFILL_FN, env, settings.callback_secret)
    store = CosClient(transport)
    ci = CiClient(transport, queue_id=settings.queue_id)
    stop = StopSignal(sleep)
    pace = AdaptiveRate(rate, min_rate=min(MIN_RATE, rate), clock=clock, sleep=stop.sleep)
    jobs = AdaptiveJobs(ci, pace, QueueWatch(ci, clock=clock), clock=clock, stop=stop)
    if progress is not None:
        progress.show_also(jobs.status_parts)
    service = UploadService(settings, store, jobs, log, dry_run=dry_run)
    result = Backfill(
        service,
        store,
        log,
        target,
        state_file=state_file,
        write_state=not dry_run,
        progress=progress,
        clock=clock,
        count_first=count_first,
        max_objects=max_objects,
        concurrency=concurrency,
        stop=stop,
    ).run()
    if wait_timeout_s is None or dry_run or result.interrupted or not result.submitted:
        return result
    report = _wait_for_results(
        result,
        store,
        CiClient(transport),
        target,
        tag_prefix=settings.tag_prefix,
        log=log,
        progress=progress,
        timeout_s=wait_timeout_s,
        clock=clock,
        sleep=sleep,
    )
    return replace(result, wait=report)


def _wait_for_results(
    result: BackfillResult,
    store: CosClient,
    jobs: CiClient,
    target: BackfillTarget,
    *,
    tag_prefix: str,
    log: DecisionLog,
    progress: Progress | None,
    timeout_s: float,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
) -> WaitReport:
    """Wait for every submitted job's result to reach its object; log one decision line."""
    if progress is not None:
        progress.note(f"waiting for the results of {len(result.submitted)} jobs ...")
    waiting = ResultWait(
        store,
        jobs,
        target.bucket,
        target.region,
        tag_prefix,
        timeout_s=timeout_s,
        clock=clock,
        sleep=sleep,
    )
    report = waiting.wait(result.submitted)
    log.decision(
        "backfill-wait",
        bucket=target.bucket,
        reason=None if report.complete else "results-missing",
        ms=round(report.seconds * 1000),
        written=report.written,
        missing=[job.key for job, _ in report.missing],
        unfinished=[job.key for job in report.unfinished],
    )
    return report
