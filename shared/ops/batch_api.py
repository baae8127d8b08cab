"""Python API of ``backfill --engine ci``: ``run_batch_backfill`` and the dry run's cost counts.

Builds settings, credentials and clients from an environ mapping as the functions do: the upload
settings give the filters (recorded with each batch) and the second chances of stale or
transiently failed objects (a job of their own, through the upload path and its callback); the
reconcile settings give the tag prefix, fields and cap the drain writes, as the callback function
writes them. Logging is left to the caller's configuration.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import requests

from shared.decision_log import DecisionLog
from shared.ops.batch_backfill import (
    BatchBackfill,
    BatchBackfillResult,
    BatchOptions,
    new_run_id,
)
from shared.ops.batch_cost import LIST_PAGE, BatchCounts
from shared.ops.batch_plan import ALREADY_TAGGED, FILTERED, GONE, KEPT
from shared.ops.batch_state import LISTING, PREFIX, BatchPlan
from shared.ops.batch_submit import check_plan
from shared.ops.progress import Progress
from shared.reconcile.batch_record import BatchFilters
from shared.reconcile.batch_runner import DrainClients, DrainSettings
from shared.reconcile.resubmit import resubmitter
from shared.results.documents import result_documents
from shared.scf.invocation import environ_or_process, environ_transport, run_log
from shared.settings.functions import UploadSettings, load_upload_settings
from shared.settings.reconcile import load_reconcile_settings
from shared.tencent.ci_batches import CiBatchClient
from shared.tencent.ci_client import CiClient
from shared.tencent.cos_client import CosClient

BACKFILL_FN = "backfill"


def planned_filters(settings: UploadSettings, bucket: str) -> BatchFilters:
    """The upload function's filters for ``bucket``; the result-document location, when it is
    in this bucket, is one more excluded prefix (nothing under it is ever processed)."""
    extensions = None if settings.extensions is None else tuple(sorted(settings.extensions))
    excluded = tuple(settings.exclude_prefixes)
    location = settings.result_document
    if location is not None and location.bucket == bucket:
        excluded = (*excluded, location.prefix)
    return BatchFilters(extensions, tuple(settings.include_prefixes), excluded)


def run_batch_backfill(
    plan: BatchPlan,
    *,
    state_file: Path,
    options: BatchOptions,
    environ: Mapping[str, str] | None = None,
    progress: Progress | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    session: requests.Session | None = None,
    log: DecisionLog | None = None,
    run_id: Callable[[], str] = new_run_id,
) -> BatchBackfillResult:
    """Plan, submit and (unless ``options.wait`` is off) drain the batches of ``plan``."""
    check_plan(plan)
    env = environ_or_process(environ)
    upload = load_upload_settings(env)
    tags = load_reconcile_settings(env)
    transport = environ_transport(env, upload.endpoint_url, upload.max_attempts, session)
    log = log or run_log(BACKFILL_FN, env, upload.callback_secret)
    store = CosClient(transport)
    engine = CiBatchClient(transport, queue_id=upload.queue_id)
    documents = result_documents(tags.result_document, store)
    clients = DrainClients(store, engine, store, documents)
    jobs = CiClient(transport, queue_id=upload.queue_id)
    resubmit, _ = resubmitter(env, store, jobs, log)
    settings = DrainSettings(
        tags.tag_prefix, tags.tag_fields, tags.own_tag_cap, concurrency=options.concurrency
    )
    backfill = BatchBackfill(
        clients,
        plan,
        planned_filters(upload, plan.bucket),
        settings,
        log,
        state_file=state_file,
        options=options,
        resubmit=resubmit,
        progress=progress,
        clock=clock,
        sleep=sleep,
        run_id=run_id,
    )
    return backfill.run()


def dry_run_counts(
    plan: BatchPlan, counts: Mapping[str, int], *, part_rows: int, tags_per_object: int
) -> BatchCounts:
    """What the real run would send and pay, from a dry run's classification."""
    listed = sum(counts.values())
    filtered_in = listed - counts.get(FILTERED, 0)
    kept = counts.get(KEPT, 0)
    ci_lists = plan.source == PREFIX or plan.as_is  # CI then runs a job on every object
    return BatchCounts(
        listed=listed,
        filtered_in=filtered_in,
        jobs=listed if ci_lists else kept,
        listing_requests=math.ceil(listed / LIST_PAGE) if plan.source == LISTING else 0,
        tag_reads=filtered_in if plan.skip_tagged and not ci_lists else 0,
        manifest_puts=0 if ci_lists or not kept else math.ceil(kept / part_rows) + 1,
        tags_per_object=tags_per_object,
    )


PLAN_NAMES = {
    KEPT: "to submit",
    FILTERED: "filtered",
    ALREADY_TAGGED: "already tagged",
    GONE: "gone",
}
