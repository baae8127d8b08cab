"""``backfill --engine ci``: plan, submit and drain CI batch jobs for a bucket, resumably.

Phases, each checkpointed in the state file (``shared.ops.batch_state``) before the next begins:
1. **plan** (sources ``listing`` and ``manifest``, unless the inventory goes as it is): classify
   the objects and write the kept ones as a COS inventory manifest (``shared.ops.batch_plan``),
   one CSV part at a time; a resumed run continues after the last written part;
2. **submit** each batch exactly once, with its record in the bucket (``shared.ops.batch_submit``);
3. **cancel** (when asked), then **drain** until every batch is drained
   (``shared.ops.batch_watch``), unless the caller leaves that to the reconcile timer.
A dry run classifies (GET Bucket, GET ?tagging with ``skip_tagged``) but writes, submits and
saves nothing; its counts feed the cost estimate. Ctrl-C stops after the last checkpoint.
"""

from __future__ import annotations

import secrets
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from pathlib import Path

from shared.decision_log import DecisionLog
from shared.errors import ConfigError
from shared.ops.batch_plan import (
    CHUNK,
    DEFAULT_PART_ROWS,
    KEPT,
    ManifestPlanner,
    SourceObject,
    inventory_objects,
    listing_objects,
    manifest_location,
)
from shared.ops.batch_state import (
    LISTING,
    MANIFEST,
    BatchBackfillState,
    BatchPlan,
    load_batch_state,
    save_batch_state,
)
from shared.ops.batch_submit import BatchSubmitter
from shared.ops.batch_watch import BatchWatch, WatchOutcome
from shared.ops.progress import Progress, ProgressPoint
from shared.reconcile.batch_record import BatchFilters
from shared.reconcile.batch_runner import DrainClients, DrainSettings
from shared.reconcile.resubmit import Resubmit
from shared.records import record, replace


@record
class BatchOptions:
    dry_run: bool = False
    wait: bool = True
    cancel: bool = False
    timeout_s: float | None = None
    poll_s: float = 5.0
    part_rows: int = DEFAULT_PART_ROWS
    concurrency: int = 8


@record
class BatchBackfillResult:
    state: BatchBackfillState
    watch: WatchOutcome | None = None
    already_complete: bool = False
    interrupted: bool = False


def new_run_id(clock: Callable[[], float] = time.time) -> str:
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(clock()))
    return f"{stamp}-{secrets.token_hex(3)}"


def _chunks(items: Iterable[SourceObject]) -> Iterator[list[SourceObject]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, CHUNK)):
        yield chunk


class BatchBackfill:
    """One ``backfill --engine ci`` run; ``run`` may be called once."""

    def __init__(
        self,
        clients: DrainClients,
        plan: BatchPlan,
        filters: BatchFilters,
        settings: DrainSettings,
        log: DecisionLog,
        *,
        state_file: Path,
        options: BatchOptions,
        resubmit: Resubmit | None = None,
        progress: Progress | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        run_id: Callable[[], str] = new_run_id,
    ) -> None:
        self._clients, self._plan, self._filters = clients, plan, filters
        self._settings, self._log = settings, log
        self._state_file, self._options = state_file, options
        self._resubmit, self._progress = resubmit, progress
        self._clock, self._sleep, self._run_id = clock, sleep, run_id

    def run(self) -> BatchBackfillResult:
        saved = load_batch_state(self._state_file, self._plan)
        if saved is not None and saved.complete:
            return BatchBackfillResult(saved, already_complete=True)
        state = saved or BatchBackfillState(self._plan, self._run_id())
        if saved is not None:
            self._note(f"resuming run {saved.run_id} ({self._state_file})")
        if self._options.cancel and saved is None:
            raise ConfigError(
                f"--state-file {self._state_file}", "does not exist: nothing to cancel"
            )
        try:
            if self._options.dry_run:
                return BatchBackfillResult(self._classify(state, write=False))
            if not self._options.cancel:  # a cancel only stops what was submitted
                planned = self._classify(state, write=True)
                submitter = BatchSubmitter(
                    self._clients, self._plan, self._filters, self._log, self._save
                )
                state = submitter.submit(planned)
            return self._follow(state)
        except KeyboardInterrupt:
            latest = load_batch_state(self._state_file, self._plan) or state
            return BatchBackfillResult(latest, interrupted=True)

    def _save(self, state: BatchBackfillState) -> BatchBackfillState:
        if not self._options.dry_run:
            save_batch_state(self._state_file, state)
        return state

    def _planner(self, state: BatchBackfillState) -> ManifestPlanner:
        plan = self._plan
        return ManifestPlanner(
            self._clients.store, self._clients.bodies, plan.bucket, plan.region, self._filters,
            run_id=state.run_id, tag_prefix=self._settings.tag_prefix,
            skip_tagged=plan.skip_tagged, concurrency=self._options.concurrency,
        )  # fmt: skip

    def _objects(self, after: str | None) -> Iterator[SourceObject]:
        plan = self._plan
        if plan.source == MANIFEST and plan.manifest is not None:
            location, _ = manifest_location(plan.manifest, plan.bucket, plan.region)
            return inventory_objects(self._clients.bodies, location, plan.bucket, after)
        return listing_objects(self._clients.store, plan.bucket, plan.region, plan.prefixes, after)

    def _needs_manifest(self) -> bool:
        source = self._plan.source
        return source == LISTING or (source == MANIFEST and not self._plan.as_is)

    def _classify(self, state: BatchBackfillState, *, write: bool) -> BatchBackfillState:
        """Plan (or, for a dry run, only count) the objects; the state once all are planned."""
        if state.planned or (write and not self._needs_manifest()):
            return self._save(replace(state, planned=True))
        planner, counts = self._planner(state), Counter(state.counts)
        buffer: list[SourceObject] = []
        last = state.after
        for chunk in _chunks(self._objects(state.after)):
            verdicts = planner.classify(chunk)
            counts.update(verdicts)
            buffer += [item for item, verdict in zip(chunk, verdicts) if verdict == KEPT]
            last = chunk[-1].position
            if write and len(buffer) >= self._options.part_rows:
                state = self._write_part(state, planner, buffer, counts, last)
                buffer = []
            self._show_plan(counts)
        if write and buffer:
            state = self._write_part(state, planner, buffer, counts, last)
        if write and state.parts:
            planner.write_manifest(state.parts, sum(part.size for part in state.parts))
        return self._save(replace(state, planned=True, counts=dict(counts), after=last))

    def _write_part(
        self,
        state: BatchBackfillState,
        planner: ManifestPlanner,
        rows: list[SourceObject],
        counts: Counter[str],
        last: str | None,
    ) -> BatchBackfillState:
        """Write ``rows`` as the next part; the counts up to ``last`` are saved with it."""
        parts = (*state.parts, planner.write_part(len(state.parts), rows))
        return self._save(replace(state, parts=parts, counts=dict(counts), after=last))

    def _follow(self, state: BatchBackfillState) -> BatchBackfillResult:
        options = self._options
        watch = BatchWatch(
            self._clients, self._settings, self._log,
            bucket=self._plan.bucket, region=self._plan.region, resubmit=self._resubmit,
            progress=self._progress, total=state.counts.get(KEPT), clock=self._clock,
            sleep=self._sleep,
        )  # fmt: skip
        ids = [batch_id for batch_id, _ in state.batches]
        if options.cancel:
            watch.cancel(ids)
            state = self._save(replace(state, cancelled=True))
        if not options.wait:
            return BatchBackfillResult(state)
        outcome = watch.drain(ids, timeout_s=options.timeout_s, poll_s=options.poll_s)
        if outcome.drained:
            state = self._save(replace(state, complete=True))
        return BatchBackfillResult(state, outcome)

    def _show_plan(self, counts: Counter[str]) -> None:
        if self._progress is not None:
            listed = sum(counts.values())
            shown = sorted((name, n) for name, n in counts.items() if n)
            self._progress.update(ProgressPoint(listed, None, counts[KEPT], shown))

    def _note(self, text: str) -> None:
        if self._progress is not None:
            self._progress.note(text)
