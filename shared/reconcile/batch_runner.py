"""Drain the batches of a bucket: wiring for the reconcile timer and ``python -m shared backfill``.

``drain_bucket`` finds the bucket's batch records (GET Bucket under ``.media-tagger/batches/``:
one request per 1000 batches), skips those already drained and runs one ``BatchDrain`` pass over
each until the deadline. The writer gets the upload filters the batch was planned with, from its
record, so the timer needs no upload settings to filter; it needs them (MEDIA_TAGGER_CALLBACK_URL
and _SECRET) only to give stale or transiently failed objects a job of their own
(``shared.reconcile.resubmit``); with MEDIA_TAGGER_RESULT_DOCUMENT set it writes each result's
document before the tags, as the callback does. ``run_batch_drains`` builds every client from an
environ mapping as the functions do. A record that cannot be read is logged and left alone.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import requests

from shared.batch_jobs import BatchEngine, ObjectBodies
from shared.decision_log import DecisionLog
from shared.errors import MediaTaggerError
from shared.ports import ObjectStore
from shared.reconcile.batch_apply import BatchJobApplier
from shared.reconcile.batch_drain import DEFAULT_CONCURRENCY, BatchDrain, DrainReport
from shared.reconcile.batch_record import BatchFilters, BatchRecord, list_record_ids, load_record
from shared.reconcile.resubmit import Resubmit, resubmitter
from shared.records import record
from shared.results.batch_writer import BatchResultWriter, ObjectFilter
from shared.results.documents import result_documents
from shared.results.writer import DocumentsFirst
from shared.scf.invocation import environ_or_process, environ_transport, run_log
from shared.settings.reconcile import load_reconcile_settings
from shared.tencent.ci_batches import CiBatchClient
from shared.tencent.ci_client import CiClient
from shared.tencent.cos_client import CosClient
from shared.upload.filters import Skip, decide_object

DRAIN_FN = "batch-drain"


@record
class DrainClients:
    store: ObjectStore
    engine: BatchEngine
    bodies: ObjectBodies
    documents: DocumentsFirst | None = None  # result documents (MEDIA_TAGGER_RESULT_DOCUMENT)


@record
class DrainSettings:
    tag_prefix: str
    tag_fields: tuple[str, ...]
    own_tag_cap: int
    concurrency: int = DEFAULT_CONCURRENCY
    save_every_s: float = 1.0


@dataclass
class BatchDrainSummary:
    batches: int = 0
    drained: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    errors: int = 0
    incomplete: bool = False

    def add(self, report: DrainReport) -> None:
        self.batches += 1
        self.drained += report.drained
        self.outcomes.update(report.outcomes)
        self.errors += report.errors
        self.incomplete = self.incomplete or report.stopped == "deadline"

    def merge(self, other: BatchDrainSummary) -> None:
        self.batches += other.batches
        self.drained += other.drained
        self.outcomes.update(other.outcomes)
        self.errors += other.errors
        self.incomplete = self.incomplete or other.incomplete

    def as_dict(self) -> dict[str, Any]:
        return {
            "batches": self.batches,
            "drained": self.drained,
            "outcomes": dict(sorted(self.outcomes.items())),
            "errors": self.errors,
            "incomplete": self.incomplete,
        }


def batch_filter(filters: BatchFilters) -> ObjectFilter:
    """The upload function's filters as the batch was planned with them."""
    extensions = None if filters.extensions is None else frozenset(filters.extensions)

    def accept(key: str, size: int) -> str | None:
        decision = decide_object(
            key,
            size,
            extensions=extensions,
            include_prefixes=filters.include_prefixes,
            exclude_prefixes=filters.exclude_prefixes,
        )
        return decision.reason if isinstance(decision, Skip) else None

    return accept


def batch_drain(
    clients: DrainClients,
    settings: DrainSettings,
    batch: BatchRecord,
    log: DecisionLog,
    *,
    resubmit: Resubmit | None,
    deadline: float | None,
    clock: Callable[[], float] = time.monotonic,
    on_page: Callable[[BatchRecord, DrainReport], None] | None = None,
) -> BatchDrain:
    """The drain of ``batch`` with its own filters."""
    writer = BatchResultWriter(
        clients.store,
        tag_prefix=settings.tag_prefix,
        tag_fields=settings.tag_fields,
        accept=batch_filter(batch.filters),
        own_tag_cap=settings.own_tag_cap,
        deadline=deadline,
        documents=clients.documents,
    )
    applier = BatchJobApplier(
        clients.store,
        writer,
        log,
        tag_prefix=settings.tag_prefix,
        resubmit=resubmit,
        deadline=deadline,
        clock=clock,
    )
    return BatchDrain(
        clients.engine,
        clients.bodies,
        applier,
        concurrency=settings.concurrency,
        deadline=deadline,
        clock=clock,
        save_every_s=settings.save_every_s,
        on_page=on_page,
    )


def drain_bucket(
    clients: DrainClients,
    settings: DrainSettings,
    bucket: str,
    region: str,
    log: DecisionLog,
    *,
    resubmit: Resubmit | None = None,
    deadline: float | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> BatchDrainSummary:
    """One pass over every batch of ``bucket`` that is not drained yet."""
    summary = BatchDrainSummary()
    for batch_id in list_record_ids(clients.store, bucket, region, deadline):
        if deadline is not None and clock() >= deadline:
            summary.incomplete = True
            break
        try:
            found = load_record(clients.bodies, bucket, region, batch_id, deadline)
        except ValueError as exc:
            log.decision(
                "skipped", bucket=bucket, reason="unusable-record", level=logging.WARNING,
                batch_id=batch_id, detail=str(exc)[:300],
            )  # fmt: skip
            continue
        if found is None or found.drained:
            continue
        drain = batch_drain(
            clients, settings, found, log, resubmit=resubmit, deadline=deadline, clock=clock
        )
        _, report = drain.drain(found)
        log.decision("batch-drain", bucket=bucket, batch_id=batch_id, **_report_fields(report))
        summary.add(report)
    return summary


def _report_fields(report: DrainReport) -> dict[str, Any]:
    return {
        "batch_state": report.batch_state,
        "pages": report.pages,
        "drained": report.drained,
        "stopped": report.stopped,
        "waiting_for": report.waiting_for,
        "errors": report.errors,
        "outcomes": dict(sorted(report.outcomes.items())),
    }


def run_batch_drains(
    buckets: Sequence[str],
    region: str,
    *,
    environ: Mapping[str, str] | None = None,
    deadline: float | None = None,
    clock: Callable[[], float] = time.time,
    session: requests.Session | None = None,
    log: DecisionLog | None = None,
) -> BatchDrainSummary:
    """Drain every bucket's batches in flight with the reconcile settings of ``environ``."""
    env = environ_or_process(environ)
    settings = load_reconcile_settings(env)
    transport = environ_transport(env, settings.endpoint_url, settings.max_attempts, session)
    log = log or run_log(DRAIN_FN, env)
    store = CosClient(transport)
    clients = DrainClients(
        store,
        CiBatchClient(transport, queue_id=settings.queue_id),
        store,  # its small-object GET/PUT keeps the batch records
        result_documents(settings.result_document, store),
    )
    jobs = CiClient(transport, queue_id=settings.queue_id)
    resubmit, _ = resubmitter(env, store, jobs, log, deadline=deadline)
    drain_settings = DrainSettings(settings.tag_prefix, settings.tag_fields, settings.own_tag_cap)
    summary = BatchDrainSummary()
    for bucket in buckets:
        try:
            found = drain_bucket(
                clients, drain_settings, bucket, region, log,
                resubmit=resubmit, deadline=deadline, clock=clock,
            )  # fmt: skip
        except MediaTaggerError as exc:  # one bucket's trouble does not stop the others
            log.decision(
                "error", bucket=bucket, reason="batch-drain-failed", level=logging.ERROR,
                detail=f"{type(exc).__name__}: {exc}"[:300],
            )  # fmt: skip
            found = BatchDrainSummary(errors=1)
        summary.merge(found)
    return summary
