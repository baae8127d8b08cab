"""Submit the batches of a planned batch backfill, exactly once each, and give each its record.

Inputs: one per ``--prefix`` (source ``prefix``), the caller's inventory (``--manifest-as-is``)
or the run's own manifest (nothing to submit when no object was kept). A batch is named
``media-tagger-<run>-<n>`` and carries the run's UserData and CallBack ``no``: the drain applies
the results, and a per-object callback would carry no token the callback function could check
(each would cost an invocation and be refused). The name is saved in the state file before the
POST, so after a kill in between the resumed run finds the batch (GET ?name=) instead of creating
a second one. The batch's record (``shared.reconcile.batch_record``) is written before the batch
id reaches the state file, so every recorded batch has one for the drain and the timer. HTTP only
through the ports.
"""

from __future__ import annotations

from collections.abc import Callable

from shared.batch_jobs import MANIFEST_INPUT, PREFIX_INPUT, BatchInput, BatchRequest
from shared.contract.batch import batch_name, batch_user_data, manifest_prefix
from shared.decision_log import DecisionLog
from shared.errors import ConfigError
from shared.ops.batch_plan import manifest_location, object_url
from shared.ops.batch_state import MANIFEST, PREFIX, BatchBackfillState, BatchPlan
from shared.reconcile.batch_record import BatchFilters, BatchRecord, load_record, save_record
from shared.reconcile.batch_runner import DrainClients
from shared.records import replace
from shared.tencent.inventory import MANIFEST_NAME

SaveState = Callable[[BatchBackfillState], BatchBackfillState]


def check_plan(plan: BatchPlan) -> None:
    """ConfigError for a plan that cannot run (checked before anything is read)."""
    if plan.source == PREFIX and not plan.prefixes:
        raise ConfigError("--batch-input prefix", "needs at least one --prefix")
    if plan.source == MANIFEST and not plan.manifest:
        raise ConfigError("--manifest", "is required for an inventory source")


def batch_inputs(plan: BatchPlan, state: BatchBackfillState) -> list[BatchInput]:
    """What each batch of the run runs over, in submission order."""
    if plan.source == PREFIX:
        return [BatchInput(PREFIX_INPUT, prefix) for prefix in plan.prefixes]
    if plan.source == MANIFEST and plan.as_is and plan.manifest is not None:
        _, url = manifest_location(plan.manifest, plan.bucket, plan.region)
        return [BatchInput(MANIFEST_INPUT, url)]
    if not state.parts:
        return []  # nothing was kept: no batch
    key = manifest_prefix(state.run_id) + MANIFEST_NAME
    return [BatchInput(MANIFEST_INPUT, object_url(plan.bucket, plan.region, key))]


class BatchSubmitter:
    def __init__(
        self,
        clients: DrainClients,
        plan: BatchPlan,
        filters: BatchFilters,
        log: DecisionLog,
        save: SaveState,
    ) -> None:
        self._clients, self._plan, self._filters = clients, plan, filters
        self._log, self._save = log, save

    def submit(self, state: BatchBackfillState) -> BatchBackfillState:
        """Every input without a batch yet gets one; the state after each is saved."""
        user_data = batch_user_data(state.run_id)
        for index, given in enumerate(batch_inputs(self._plan, state)):
            if index < len(state.batches):
                continue
            name = batch_name(f"{state.run_id}-{index}")
            batch_id = self._adopt(name) if state.pending_name == name else None
            if batch_id is None:
                state = self._save(replace(state, pending_name=name))
                request = BatchRequest(name, given, user_data)
                created = self._clients.engine.create_batch(
                    self._plan.bucket, self._plan.region, request
                )
                batch_id = created.job_id
            self._ensure_record(state, batch_id, given, user_data)
            self._log.decision(
                "batch-submitted", bucket=self._plan.bucket, batch_id=batch_id,
                input_kind=given.kind, input=given.value, name=name,
            )  # fmt: skip
            batches = (*state.batches, (batch_id, given))
            state = self._save(replace(state, batches=batches, pending_name=None))
        return state

    def _adopt(self, name: str) -> str | None:
        """The batch a killed run created with ``name``, if CI has it."""
        page = self._clients.engine.find_batches(self._plan.bucket, self._plan.region, name=name)
        return next((batch.job_id for batch in page.batches if batch.name == name), None)

    def _ensure_record(
        self, state: BatchBackfillState, batch_id: str, given: BatchInput, user_data: str
    ) -> None:
        bucket, region, bodies = self._plan.bucket, self._plan.region, self._clients.bodies
        if load_record(bodies, bucket, region, batch_id) is not None:
            return
        fresh = BatchRecord(bucket, region, batch_id, state.run_id, user_data, given, self._filters)
        save_record(bodies, fresh)
