"""Python API of reconcile: ``run_reconcile`` over buckets, as the timer and the CLI run it.

Builds the reconcile settings, credentials and clients from an environ mapping exactly as the SCF
functions do (``shared.settings.reconcile``, role keys read per request, the
``MEDIA_TAGGER_ENDPOINT_URL`` override for the emulator) and runs a ``Reconciler`` per
bucket. Logging is left to the caller's configuration; decision lines go to ``media_tagger``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence

import requests

from shared.decision_log import DecisionLog
from shared.reconcile.resubmit import resubmitter
from shared.reconcile.service import Reconciler, ReconcileSummary, ReconcileWindow
from shared.results.documents import result_documents
from shared.scf.invocation import environ_or_process, environ_transport, run_log
from shared.settings.reconcile import load_reconcile_settings
from shared.tencent.ci_client import CiClient
from shared.tencent.cos_client import CosClient

RECONCILE_FN = "reconcile"


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
    env = environ_or_process(environ)
    settings = load_reconcile_settings(env)
    transport = environ_transport(env, settings.endpoint_url, settings.max_attempts, session)
    log = log or run_log(RECONCILE_FN, env)
    default = ReconcileWindow.ending_at(clock(), settings.window_s, settings.settle_s)
    window = ReconcileWindow(
        default.start if since is None else since, default.end if until is None else until
    )
    started = clock()
    summary = ReconcileSummary()
    store, jobs = CosClient(transport), CiClient(transport, queue_id=settings.queue_id)
    documents = result_documents(settings.result_document, store)
    resubmit, why_not = resubmitter(env, store, jobs, log, deadline=deadline)
    if why_not is not None:
        log.decision("resubmission-off", reason=why_not, level=logging.WARNING)
    for bucket in (buckets,) if isinstance(buckets, str) else tuple(buckets):
        reconciler = Reconciler(
            store,
            jobs,
            log,
            tag_prefix=settings.tag_prefix,
            tag_fields=settings.tag_fields,
            own_tag_cap=settings.own_tag_cap,
            dry_run=dry_run,
            clock=clock,
            deadline=deadline,
            resubmit=resubmit,
            documents=documents,
        )
        summary.add(reconciler.run(bucket, region, window))
    ms = round((clock() - started) * 1000)
    log.decision("reconcile-summary", ms=ms, dry_run=dry_run, **summary.as_dict())
    return summary
