"""The emulator's CI batches wired to its object store: runner, API and the inventory writer.

``BatchWiring`` gives ``emulator.ci.batch_runner`` the store's listing, bytes and upload times as
plain callables (``emulator.ci`` stays apart from ``emulator.cos``), serves
``/inventorytriggerjob`` through ``emulator.ci.batch_api``, and writes one-time COS inventories
for the admin endpoint (``emulator.ci.inventory``: straight into the store, so no COS event
fires, as COS's own inventory writes fire none of the user's triggers). No sockets here.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from emulator.ci.batch_api import BatchApi
from emulator.ci.batch_runner import BatchRunner
from emulator.ci.batches import BatchStore
from emulator.ci.inventory import InventoryObject, write_inventory
from emulator.ci.jobs import JobStore
from emulator.ci.queue import MediaQueue
from emulator.cos.store import ObjectStore
from emulator.wire import ApiRequest, Reply


class BatchWiring:
    def __init__(
        self,
        store: ObjectStore,
        jobs: JobStore,
        queue: MediaQueue,
        *,
        clock: Callable[[], float] = time.time,
        object_delay_s: float = 0.0,
    ) -> None:
        self._store = store
        self._clock = clock
        self.batches = BatchStore(clock)
        self.runner = BatchRunner(
            self.batches,
            jobs,
            queue,
            list_objects=self.listed_objects,
            read_object=store.read_bytes,
            upload_time=self._upload_time,
            object_delay_s=object_delay_s,
        )
        self._api = BatchApi(self.batches, self.runner)

    def handle(self, request: ApiRequest) -> Reply:
        return self._api.handle(request)

    def listed_objects(self, bucket: str, prefix: str) -> list[InventoryObject]:
        """The bucket's objects under ``prefix``, in listing order."""
        objects = self._store.objects(bucket)
        return [objects[key] for key in sorted(objects) if key.startswith(prefix)]

    def _upload_time(self, bucket: str, key: str) -> float | None:
        stored = self._store.head(bucket, key)
        return None if stored is None else stored.last_modified

    def write_inventory(
        self,
        *,
        bucket: str,
        destination: str | None = None,
        prefix: str = "",
        inventory_id: str = "inventory01",
    ) -> dict[str, object]:
        """A one-time COS inventory of ``bucket`` (under ``prefix``) written into
        ``destination`` (default: the bucket itself); ValueError for a missing bucket."""
        target = destination or bucket
        for name in (bucket, target):
            if not self._store.bucket_exists(name):
                raise ValueError(f"bucket {name} does not exist")

        def write(where: str, key: str, data: bytes, content_type: str) -> None:
            self._store.put_object(where, key, [data], content_type=content_type, meta={})

        return write_inventory(
            self.listed_objects(bucket, prefix),
            write,
            source_bucket=bucket,
            destination_bucket=target,
            inventory_id=inventory_id,
            when=self._clock(),
        )
