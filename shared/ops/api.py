"""Python API of the operator tools: ``run_backfill`` and ``run_reconcile``.

Each builds its settings, credentials and clients from an environ mapping exactly as the SCF
functions do (``shared.settings.functions`` loaders, ``credential_from_environ`` per request, the
``MEDIA_TAGGER_ENDPOINT_URL`` override for the emulator) and runs the use case. The CLI
(``python -m shared``), the reconcile timer function and tests call these. Logging is left to
the caller's configuration (``configure_logging``); decision lines go to ``media_tagger``.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import requests

from shared.decision_log import DecisionLog
from shared.ops.backfill import Backfill, BackfillResult, BackfillTarget
from shared.ops.progress import Progress
from shared.ops.rate_limit import RateLimitedJobs, TokenBucket
from shared.ops.reconcile import Reconciler, ReconcileSummary, ReconcileWindow
from shared.records import replace
from shared.scf.invocation import environ_credentials, platform_secrets
from shared.settings.functions import load_upload_settings
from shared.settings.reconcile import load_reconcile_settings
from shared.tencent.ci_client import CiClient
from shared.tencent.cos_client import CosClient
from shared.tencent.credentials import credential_from_environ
from shared.tencent.endpoints import Endpoint
from shared.tencent.transport import Transport
from shared.upload.service import UploadService

BACKFILL_FN = "backfill"
RECONCILE_FN = "reconcile"
DEFAULT_RATE = 5.0  # jobs per second; CI documents no QPS for POST /jobs (429 SlowDown exists)


def _environ(environ: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if environ is None else environ


def _transport(
    environ: Mapping[str, str],
    endpoint_url: str | None,
    max_attempts: int,
    session: requests.Session | None,
) -> Transport:
    credential_from_environ(environ)  # fail fast (ConfigError naming the variable)
    return Transport(
        environ_credentials(environ),  # read per request: role keys rotate
        endpoint=Endpoint(endpoint_url),
        session=session,
        max_attempts=max_attempts,
    )


def operator_log(fn: str, environ: Mapping[str, str], *secrets: str | None) -> DecisionLog:
    """A decision log for one run: request_id is a fresh run id; known secrets are scrubbed."""
    known = (*platform_secrets(environ), *secrets)
    return DecisionLog(fn, f"{fn}-{uuid.uuid4().hex[:12]}", secrets=known)


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
) -> BackfillResult:
    """Backfill ``target`` with the upload function's settings (idempotency check forced on).
    ``clock``/``sleep`` drive the rate limiter and the progress display; ``dry_run`` reads the
    state file but never writes it and submits nothing."""
    env = _environ(environ)
    settings = replace(load_upload_settings(env), idempotency_check=True)
    transport = _transport(env, settings.endpoint_url, settings.max_attempts, session)
    log = log or operator_log(BACKFILL_FN, env, settings.callback_secret)
    store = CosClient(transport)
    jobs = RateLimitedJobs(CiClient(transport), TokenBucket(rate, clock=clock, sleep=sleep))
    service = UploadService(settings, store, jobs, log, dry_run=dry_run)
    return Backfill(
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


def run_reconcile(
    buckets: str | Sequence[str],
    region: str,
    *,
    since: float | None = None,
    until: float | None = None,
    environ: Mapping[str, str] | None = None,
    dry_run: bool = False,
    deadline: float | None = None,
    clock: Callable[[], float] = time.time,
    session: requests.Session | None = None,
    log: DecisionLog | None = None,
) -> ReconcileSummary:
    """Reconcile jobs created from ``since`` to ``until`` (epoch seconds; defaults: the
    MEDIA_TAGGER_RECONCILE_WINDOW / _SETTLE window ending now) in each bucket of ``region``."""
    env = _environ(environ)
    settings = load_reconcile_settings(env)
    transport = _transport(env, settings.endpoint_url, settings.max_attempts, session)
    log = log or operator_log(RECONCILE_FN, env)
    default = ReconcileWindow.ending_at(clock(), settings.window_s, settings.settle_s)
    window = ReconcileWindow(
        default.start if since is None else since, default.end if until is None else until
    )
    started = clock()
    summary = ReconcileSummary()
    for bucket in (buckets,) if isinstance(buckets, str) else tuple(buckets):
        reconciler = Reconciler(
            CosClient(transport),
            CiClient(transport),
            log,
            tag_prefix=settings.tag_prefix,
            tag_fields=settings.tag_fields,
            dry_run=dry_run,
            clock=clock,
            deadline=deadline,
        )
        summary.add(reconciler.run(bucket, region, window))
    ms = round((clock() - started) * 1000)
    log.decision("reconcile-summary", ms=ms, dry_run=dry_run, **summary.as_dict())
    return summary
