"""CI batch jobs (``inventorytriggerjob``, Type=Job) of the emulator: store, ids, JobsDetail shape.

A batch goes Submitted -> Running -> Success (every per-object job created and finished), Failed
(its input cannot be read: a manifest that is missing, not JSON or whose CSV fails its
md5Checksum) or Cancel (PUT ?cancel: no more jobs are created and the ones still waiting are
cancelled; running ones finish). The runner (``emulator.ci.batch_runner``) moves it along. Batch
ids are CI's: ``b`` + a UUID version 1 stamped with the creation time, its node a
``52:54:00:xx:xx:xx`` address as in every documented batch id (research ci-facts.md section 5).
The JobsDetail shape is the create/describe doc's (ci-facts.md 8.1). Snapshots are immutable;
nothing here speaks HTTP.
"""

from __future__ import annotations

import itertools
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from emulator.ci.jobs import ci_time
from emulator.xmlreply import XmlNode

BATCH_ID_PREFIX = "b"
FINAL_BATCH_STATES = frozenset({"Success", "Failed", "Cancel"})
_UUID_EPOCH_TICKS = 0x01B21DD213814000
_QEMU_NODE = 0x525400 << 24  # 52:54:00, the prefix of every batch id node in CI's samples


def new_batch_id(epoch: float) -> str:
    ticks = int(epoch * 1_000_000) * 10 + _UUID_EPOCH_TICKS
    clock_seq = secrets.randbits(14)
    fields = (
        ticks & 0xFFFFFFFF,
        (ticks >> 32) & 0xFFFF,
        (ticks >> 48) & 0x0FFF,
        clock_seq >> 8,
        clock_seq & 0xFF,
        _QEMU_NODE | secrets.randbits(24),
    )
    return BATCH_ID_PREFIX + uuid.UUID(fields=fields, version=1).hex


@dataclass(frozen=True)
class BatchRecord:
    batch_id: str
    seq: int
    bucket: str
    region: str
    name: str
    input_kind: str  # Prefix, Manifest or Object
    input_value: str
    user_data: str | None
    callback: str | None  # as sent ("no", a URL) or None
    callback_format: str
    job_level: str
    queue_id: str | None
    time_start: float | None
    time_end: float | None
    creation_time: float
    state: str = "Submitted"
    code: str = "Success"
    message: str = ""
    start_time: float | None = None
    end_time: float | None = None
    jobs_created: int = 0
    cancel_requested: bool = False

    @property
    def is_final(self) -> bool:
        return self.state in FINAL_BATCH_STATES


def batch_detail_nodes(batch: BatchRecord) -> list[XmlNode]:
    """The children of one batch ``<JobsDetail>``: Operation echoes the request's."""
    operation: list[XmlNode] = []
    if batch.time_start is not None or batch.time_end is not None:
        interval: list[XmlNode] = [
            ("Start", ci_time(batch.time_start)),
            ("End", ci_time(batch.time_end)),
        ]
        operation.append(("TimeInterval", interval))
    if batch.queue_id is not None:
        operation.append(("QueueId", batch.queue_id))
    if batch.user_data is not None:
        operation.append(("UserData", batch.user_data))
    if batch.callback is not None:
        operation.append(("CallBack", batch.callback))
        operation.append(("CallBackFormat", batch.callback_format))
    operation += [("Tag", "MediaInfo"), ("JobParam", None), ("JobLevel", batch.job_level)]
    return [
        ("Code", batch.code),
        ("Message", batch.message or None),
        ("Type", "Job"),
        ("Name", batch.name),
        ("JobId", batch.batch_id),
        ("State", batch.state),
        ("CreationTime", ci_time(batch.creation_time)),
        ("StartTime", ci_time(batch.start_time)),
        ("EndTime", ci_time(batch.end_time)),
        ("Input", [(batch.input_kind, batch.input_value)]),
        ("Operation", operation),
    ]


class BatchStore:
    """All batches, by id; thread-safe; hands out immutable snapshots."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._batches: dict[str, BatchRecord] = {}
        self._seq = itertools.count(1)

    def create(self, **fields: Any) -> BatchRecord:
        with self._lock:
            created = self._clock()
            batch_id = new_batch_id(created)
            while batch_id in self._batches:
                batch_id = new_batch_id(created)
            batch = BatchRecord(
                batch_id=batch_id, seq=next(self._seq), creation_time=created, **fields
            )
            self._batches[batch_id] = batch
            return batch

    def get(self, batch_id: str) -> BatchRecord | None:
        with self._lock:
            return self._batches.get(batch_id)

    def all(self) -> list[BatchRecord]:
        """Every batch, oldest first."""
        with self._lock:
            return sorted(self._batches.values(), key=lambda batch: batch.seq)

    def update(self, batch_id: str, *, stamp: tuple[str, ...] = (), **changes: Any) -> BatchRecord:
        """Replace fields of a batch; the time fields named in ``stamp`` get the clock's now."""
        with self._lock:
            now = self._clock()
            stamped: dict[str, Any] = {**changes, **dict.fromkeys(stamp, now)}
            batch = replace(self._batches[batch_id], **stamped)
            self._batches[batch_id] = batch
            return batch

    def request_cancel(self, batch_id: str) -> BatchRecord | None:
        """Mark a batch for cancelling (the runner stops it); None when it is unknown."""
        with self._lock:
            batch = self._batches.get(batch_id)
            if batch is None or batch.is_final:
                return batch
            batch = replace(batch, cancel_requested=True)
            self._batches[batch_id] = batch
            return batch
