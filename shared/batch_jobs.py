"""CI batch jobs (``inventorytriggerjob``): their typed values and the ports the batch code uses.

A batch job makes Cloud Infinite run one MediaInfo job per object of a prefix or a COS inventory
manifest (cos-ci-api.md section 10, ci-facts.md section 8). ``BatchEngine`` is CI's batch API plus
the per-object job listing by batch (``GET /jobs?inventoryTriggerJobId=``); ``ObjectBodies`` reads
and writes small objects (the batch record, manifests). ``shared.tencent.ci_batches`` and
``shared.tencent.cos_client`` implement them over HTTP; tests implement them with fakes. Values
and Protocols only: no I/O, no parsing.
"""

from __future__ import annotations

from typing import Protocol

from shared.models import JobsPage, ObjectRef
from shared.records import record

# Documented states of a batch (ci-facts.md 8.1); the last three are final.
BATCH_STATES = ("Submitted", "Running", "Success", "Failed", "Pause", "Cancel")
FINAL_BATCH_STATES = frozenset({"Success", "Failed", "Cancel"})
PREFIX_INPUT, MANIFEST_INPUT, OBJECT_INPUT = "Prefix", "Manifest", "Object"
INPUT_KINDS = (MANIFEST_INPUT, PREFIX_INPUT, OBJECT_INPUT)
NO_CALLBACK = "no"  # CallBack "no": no callback at all, not even the queue's (CI batch doc)


@record
class BatchInput:
    """What the batch runs over: ``kind`` is Prefix, Manifest (a manifest.json URL) or Object."""

    kind: str
    value: str


@record
class BatchRequest:
    """What POST /inventorytriggerjob needs for a MediaInfo batch (Type=Job)."""

    name: str
    input: BatchInput
    user_data: str
    callback: str = NO_CALLBACK
    job_level: int = 0


@record
class BatchJob:
    """One batch as CI describes it (times are CI's text, ``-`` read as None)."""

    job_id: str
    state: str
    name: str | None = None
    code: str | None = None
    message: str | None = None
    creation_time: str | None = None
    start_time: str | None = None
    end_time: str | None = None
    input: BatchInput | None = None
    user_data: str | None = None

    @property
    def is_final(self) -> bool:
        return self.state in FINAL_BATCH_STATES


@record
class BatchPage:
    """GET /inventorytriggerjob[/<id>]: the batches found, unknown ids, the paging token."""

    batches: tuple[BatchJob, ...] = ()
    non_exist_job_ids: tuple[str, ...] = ()
    next_token: str | None = None


class BatchEngine(Protocol):
    def create_batch(
        self, bucket: str, region: str, request: BatchRequest, *, deadline: float | None = None
    ) -> BatchJob: ...

    def describe_batch(
        self, bucket: str, region: str, batch_id: str, *, deadline: float | None = None
    ) -> BatchJob | None:
        """The batch, or None when CI lists the id in NonExistJobIds."""
        ...

    def find_batches(
        self,
        bucket: str,
        region: str,
        *,
        name: str | None = None,
        states: tuple[str, ...] = (),
        size: int = 100,
        next_token: str | None = None,
        deadline: float | None = None,
    ) -> BatchPage:
        """One page of this bucket's MediaInfo batches (Type=Job), newest first."""
        ...

    def cancel_batch(
        self, bucket: str, region: str, batch_id: str, *, deadline: float | None = None
    ) -> None: ...

    def list_batch_jobs(
        self,
        bucket: str,
        region: str,
        batch_id: str,
        *,
        start_creation_time: str | None = None,
        next_token: str | None = None,
        size: int = 100,
        deadline: float | None = None,
    ) -> JobsPage:
        """One page of the batch's per-object MediaInfo jobs, oldest first."""
        ...


class ObjectBodies(Protocol):
    def get_object_bytes(
        self, obj: ObjectRef, *, max_bytes: int, deadline: float | None = None
    ) -> bytes | None:
        """The object's bytes, or None when it does not exist (404)."""
        ...

    def put_object_bytes(
        self, obj: ObjectRef, body: bytes, *, content_type: str, deadline: float | None = None
    ) -> None: ...
