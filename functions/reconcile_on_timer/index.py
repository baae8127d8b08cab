"""SCF entry point of the reconcile function (timer trigger, invoked asynchronously).

Glue only: read the environment and the context, then ``shared.reconcile.runner.run_reconcile`` over
MEDIA_TAGGER_RECONCILE_BUCKETS in MEDIA_TAGGER_RECONCILE_REGION (default: the function's own
region), for jobs created in the window MEDIA_TAGGER_RECONCILE_WINDOW back from now minus
MEDIA_TAGGER_RECONCILE_SETTLE; then it drains the CI batches in flight of those buckets (batch
backfill: ``shared.reconcile.batch_runner``; nothing to do, and one GET Bucket, when there are
none). Work stops before the function's time limit (the next run's window overlaps; a batch's
drain resumes from its saved cursor). Objects that failed transiently make the invocation raise
after all were tried, so the failure is visible and SCF's async retry runs (reconcile and the
drain are idempotent). Nothing is built at import time; imports are absolute ``shared.*`` so
this works from the zip root.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from typing import Any

import requests

from shared.decision_log import DecisionLog
from shared.errors import ConfigError, MediaTaggerError
from shared.reconcile.batch_runner import run_batch_drains
from shared.reconcile.runner import run_reconcile
from shared.reconcile.service import ReconcileWindow
from shared.scf.invocation import (
    context_request_id,
    context_time_limit_ms,
    invocation_deadline,
    load_function_settings,
    platform_secrets,
)
from shared.settings.functions import RECONCILE_BUCKETS, RECONCILE_REGION
from shared.settings.reconcile import ReconcileSettings, load_reconcile_settings

FUNCTION_NAME = "reconcile_on_timer"


class ReconcileIncompleteError(MediaTaggerError):
    """Some objects failed transiently; raised after all were tried so the run shows failed."""

    retryable = True


def _timer_settings(env: Mapping[str, str]) -> ReconcileSettings:
    """The reconcile settings, with the buckets and region the timer needs."""
    settings = load_reconcile_settings(env)
    if not settings.buckets:
        raise ConfigError(RECONCILE_BUCKETS, "missing (comma list of <name>-<appid>)")
    if settings.region is None:
        raise ConfigError(RECONCILE_REGION, "missing (and TENCENTCLOUD_REGION is not set)")
    return settings


def handle(
    event: Any,
    context: Any,
    *,
    environ: Mapping[str, str] | None = None,
    clock: Callable[[], float] = time.time,
    session: requests.Session | None = None,
) -> dict[str, Any]:
    """One timer tick with its collaborators injectable (tests pass them)."""
    started = clock()
    env = os.environ if environ is None else environ
    log = DecisionLog(FUNCTION_NAME, context_request_id(context), secrets=platform_secrets(env))
    settings = load_function_settings(_timer_settings, env, log)
    window = ReconcileWindow.ending_at(started, settings.window_s, settings.settle_s)
    deadline = invocation_deadline(started, context_time_limit_ms(context))
    summary = run_reconcile(
        settings.buckets,
        str(settings.region),
        since=window.start,
        until=window.end,
        environ=env,
        deadline=deadline,
        clock=clock,
        session=session,
        log=log,
    )
    batches = run_batch_drains(
        settings.buckets,
        str(settings.region),
        environ=env,
        deadline=deadline,
        clock=clock,
        session=session,
        log=log,
    )
    result = {"window": [window.start, window.end], **summary.as_dict()}
    result["batches"] = batches.as_dict()
    failed = summary.errors + batches.errors
    if failed:
        raise ReconcileIncompleteError(f"{failed} object(s) failed transiently: {result}")
    return result


def main_handler(event: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
    """SCF handler ``index.main_handler``."""
    return handle(event, context)
