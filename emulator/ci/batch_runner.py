"""Runs the emulator's CI batches: enumerate the input, one MediaInfo job per object, follow them.

Each batch runs on a thread of its own: Running, then its objects in order (Prefix: the bucket's
listing under it; Manifest: the inventory's rows, ``emulator.ci.inventory``; Object: that one),
filtered by ``TimeInterval`` on the objects' upload time. Every object gets a job through the
media queue, as POST /jobs would (JobLevel, waiting jobs, running slots); a full or paused queue
holds the batch back instead of failing it. ``object_delay_s`` between objects lets a batch run
over time, so it can be cancelled while it runs. A cancel stops creating jobs and cancels the
jobs still waiting; running ones finish. The batch is Success once every job it created has
finished (CI does not document whether it waits for them; the drain does not depend on it).
Objects are listed and read through the callables the server hands in, never ``emulator.cos``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from emulator.ci.batches import BatchRecord, BatchStore
from emulator.ci.inventory import InventoryError, InventoryObject, manifest_keys
from emulator.ci.jobs import JobRecord, JobStore
from emulator.ci.queue import MediaQueue
from emulator.wire import ServiceError

LOG = logging.getLogger(__name__)
POLL_S = 0.02
ListObjects = Callable[[str, str], "list[InventoryObject]"]
ReadObject = Callable[[str, str], "bytes | None"]
ObjectTime = Callable[[str, str], "float | None"]


class BatchRunner:
    def __init__(
        self,
        batches: BatchStore,
        jobs: JobStore,
        queue: MediaQueue,
        *,
        list_objects: ListObjects,
        read_object: ReadObject,
        upload_time: ObjectTime,
        object_delay_s: float = 0.0,
    ) -> None:
        self._batches, self._jobs, self._queue = batches, jobs, queue
        self._list_objects, self._read_object = list_objects, read_object
        self._upload_time = upload_time
        self.object_delay_s = object_delay_s
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    @property
    def active(self) -> int:
        """Batches not final yet."""
        return sum(1 for batch in self._batches.all() if not batch.is_final)

    def start_batch(self, batch_id: str) -> None:
        thread = threading.Thread(
            target=self._run_logged, args=(batch_id,), name=f"ci-batch-{batch_id[:9]}", daemon=True
        )
        with self._lock:
            self._threads.append(thread)
        thread.start()

    def stop(self) -> None:
        self._stopping.set()
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout=5)

    def _run_logged(self, batch_id: str) -> None:
        try:
            self._run(batch_id)
        except Exception:  # a broken batch must not take the emulator down
            LOG.exception("batch %s crashed", batch_id)
            self._batches.update(
                batch_id, state="Failed", code="InternalError", message="batch crashed",
                stamp=("end_time",),
            )  # fmt: skip

    def _cancelled(self, batch_id: str) -> bool:
        batch = self._batches.get(batch_id)
        return self._stopping.is_set() or batch is None or batch.cancel_requested

    def _run(self, batch_id: str) -> None:
        batch = self._batches.update(batch_id, state="Running", stamp=("start_time",))
        try:
            keys = self._keys(batch)
        except InventoryError as exc:
            LOG.info("batch %s failed: %s", batch_id, exc)
            self._batches.update(
                batch_id, state="Failed", code=exc.code, message=exc.message, stamp=("end_time",)
            )
            return
        created: list[str] = []
        for key in keys:
            if self._cancelled(batch_id) or (
                self.object_delay_s and self._stopping.wait(self.object_delay_s)
            ):
                break
            job = self._admit(batch, key)
            if job is None:
                break
            created.append(job.job_id)
            self._batches.update(batch_id, jobs_created=len(created))
        self._follow(batch_id, created)

    def _keys(self, batch: BatchRecord) -> list[str]:
        if batch.input_kind == "Object":
            keys = [batch.input_value]
        elif batch.input_kind == "Prefix":
            listed = self._list_objects(batch.bucket, batch.input_value)
            keys = [obj.key for obj in listed]
        else:
            keys = manifest_keys(batch.input_value, batch.bucket, self._read_object)
        if batch.time_start is None and batch.time_end is None:
            return keys
        return [key for key in keys if self._in_interval(batch, key)]

    def _in_interval(self, batch: BatchRecord, key: str) -> bool:
        uploaded = self._upload_time(batch.bucket, key)
        if uploaded is None:
            return True  # a missing object still gets its job (which fails), as a listing row
        second = int(uploaded)
        return (batch.time_start is None or second >= batch.time_start) and (
            batch.time_end is None or second <= batch.time_end
        )

    def _admit(self, batch: BatchRecord, key: str) -> JobRecord | None:
        """The object's job, once the queue takes it; None when the batch stops first."""
        fields: dict[str, Any] = {
            "bucket": batch.bucket, "region": batch.region, "object_key": key,
            "queue_id": batch.queue_id or self._queue.view().queue_id,
            "job_level": batch.job_level, "user_data": batch.user_data,
            "callback_url": None if batch.callback in (None, "no") else batch.callback,
            "callback_format": batch.callback_format, "batch_id": batch.batch_id,
        }  # fmt: skip
        while not self._cancelled(batch.batch_id):
            try:
                return self._queue.admit(
                    int(batch.job_level),
                    lambda: self._jobs.create(**fields),
                    lambda created: created.job_id,
                )
            except ServiceError:  # QueueSaturated / QueuePaused: the batch waits its turn
                self._stopping.wait(POLL_S)
        return None

    def _follow(self, batch_id: str, created: list[str]) -> None:
        """Wait for the batch's jobs; Success, or Cancel once a cancel came."""
        waiting = set(created)
        while waiting and not self._stopping.is_set():
            if self._cancelled(batch_id):
                self._jobs.cancel_waiting(waiting)
            waiting = self._jobs.unfinished(waiting)
            if waiting:
                self._stopping.wait(POLL_S)
        final = "Cancel" if self._cancelled(batch_id) else "Success"
        self._batches.update(batch_id, state=final, stamp=("end_time",))
        LOG.info("batch %s %s (%d jobs)", batch_id, final, len(created))
