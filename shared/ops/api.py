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
from shared.ops.backfill import Backfill, BackfillResult, BackfillTarget
from shared.ops.progress import Progress
from shared.ops.queue_fill import QueueWatch
from shared.ops.wait import DEFAULT_TIMEOUT_S, ResultWait
from shared.records import replace
from shared.scf.invocation import environ_or_process, environ_transport, run_log
from shared.settings.functions import load_upload_settings
from shared.tencent.ci_client import CiClient
from shared.tencent.cos_client import CosClient
from shared.upload.service import UploadService

BACKFILL_FN = "backfill"
DEFAULT_RATE = 5.0  # jobs per second at most; CI documents no QPS for POST /jobs (429 SlowDown
# exists): the pace comes down on SlowDown / QueueSaturated and back up (shared.ops.adaptive_rate)


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
) -> BackfillResult:
    """Backfill ``target`` with the upload function's settings (idempotency check forced on).
    ``clock``/``sleep`` drive the rate limiter, the progress display and the wait; ``dry_run``
    reads the state file but never writes it and submits nothing. Then, unless
    ``wait_timeout_s`` is None (or nothing was submitted), it waits up to that long for every
    submitted job's result to reach its object (``shared.ops.wait``)."""
    env = environ_or_process(environ)
    settings = replace(load_upload_settings(env), idempotency_check=True)
    transport = environ_transport(env, settings.endpoint_url, settings.max_attempts, session)
    log = log or run_log(BACKFILL_FN, env, settings.callback_secret)
    store = CosClient(transport)
    ci = CiClient(transport, queue_id=settings.queue_id)
    pace = AdaptiveRate(rate, min_rate=min(MIN_RATE, rate), clock=clock, sleep=sleep)
    jobs = AdaptiveJobs(ci, pace, QueueWatch(ci, clock=clock), clock=clock)
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
    ).run()
    if wait_timeout_s is None or dry_run or result.interrupted or not result.submitted:
        return result
    if progress is not None:
        progress.note(f"waiting for the results of {len(result.submitted)} jobs ...")
    waiting = ResultWait(
        store,
        CiClient(transport),
        target.bucket,
        target.region,
        settings.tag_prefix,
        timeout_s=wait_timeout_s,
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
    return replace(result, wait=report)
