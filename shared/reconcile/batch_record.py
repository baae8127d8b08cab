"""A batch's drain state, kept in its bucket so the reconcile timer can drain it unattended.

One JSON object per batch at ``.media-tagger/batches/<batch id>.json`` (``shared.contract.batch``:
a prefix the upload function refuses, so writing it never starts a job). It holds what the drain
needs and nothing secret: the batch id, its run, UserData and input, the upload filters it was
planned with (the timer may not have the upload settings), the cursor and the counts.

The cursor: CI lists a batch's jobs oldest first from ``startCreationTime`` (whole seconds,
inclusive). ``watermark_s`` is a creation second before which every job has been applied; ``seen``
maps the ids of jobs at or after it that were applied to their creation second, so a pass that
starts again at the watermark skips them. Any saved cursor is true on its own, so two drains that
overwrite each other's record (the CLI and the timer at once) lose nothing: the later pass redoes
at most what the other did (``unchanged``, two reads each). Counts are informational. A PUT
replaces the object atomically, so a kill leaves the old record or the new one. No I/O beyond
the ports it is handed; ValueError for a record this version did not write.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from shared.batch_jobs import BatchInput, ObjectBodies
from shared.contract.batch import BATCH_RECORDS_PREFIX, batch_record_key
from shared.models import ObjectRef
from shared.ports import ObjectStore
from shared.records import field, record, replace

RECORD_FORMAT = "media-tagger-batch-record/1"
MAX_RECORD_BYTES = 16 * 1024 * 1024
JSON_TYPE = "application/json"


@record
class BatchFilters:
    """The upload filters the batch was planned with (None extensions: every extension)."""

    extensions: tuple[str, ...] | None
    include_prefixes: tuple[str, ...] = ()
    exclude_prefixes: tuple[str, ...] = ()


@record
class DrainCursor:
    watermark_s: int | None = None
    seen: Mapping[str, int] = field(default_factory=dict)


@record
class BatchRecord:
    bucket: str
    region: str
    batch_id: str
    run_id: str
    user_data: str
    input: BatchInput
    filters: BatchFilters
    cursor: DrainCursor = field(default_factory=DrainCursor)
    counts: Mapping[str, int] = field(default_factory=dict)
    batch_state: str = "Submitted"
    drained: bool = False

    def counted(self, outcomes: Mapping[str, int]) -> BatchRecord:
        names = set(self.counts) | set(outcomes)
        total = {n: self.counts.get(n, 0) + outcomes.get(n, 0) for n in sorted(names)}
        return replace(self, counts=total)

    def to_json(self) -> dict[str, Any]:
        filters = self.filters
        return {
            "format": RECORD_FORMAT,
            "bucket": self.bucket,
            "region": self.region,
            "batch_id": self.batch_id,
            "run_id": self.run_id,
            "user_data": self.user_data,
            "input": {"kind": self.input.kind, "value": self.input.value},
            "filters": {
                "extensions": None if filters.extensions is None else list(filters.extensions),
                "include_prefixes": list(filters.include_prefixes),
                "exclude_prefixes": list(filters.exclude_prefixes),
            },
            "cursor": {"watermark_s": self.cursor.watermark_s, "seen": dict(self.cursor.seen)},
            "counts": dict(self.counts),
            "batch_state": self.batch_state,
            "drained": self.drained,
        }


def _strings(value: Any, what: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError(f"{what} must be a list of strings")
    return tuple(value)


def _filters(data: Any) -> BatchFilters:
    if not isinstance(data, dict):
        raise ValueError("filters must be an object")
    extensions = data.get("extensions")
    return BatchFilters(
        extensions=None if extensions is None else _strings(extensions, "extensions"),
        include_prefixes=_strings(data.get("include_prefixes", []), "include_prefixes"),
        exclude_prefixes=_strings(data.get("exclude_prefixes", []), "exclude_prefixes"),
    )


def _cursor(data: Any) -> DrainCursor:
    if not isinstance(data, dict):
        raise ValueError("cursor must be an object")
    watermark, seen = data.get("watermark_s"), data.get("seen", {})
    if watermark is not None and not isinstance(watermark, int):
        raise ValueError("watermark_s must be a whole number or null")
    if not isinstance(seen, dict) or not all(isinstance(s, int) for s in seen.values()):
        raise ValueError("seen must map job ids to whole seconds")
    return DrainCursor(watermark, {str(job): int(s) for job, s in seen.items()})


def _text(data: Mapping[str, Any], name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a string")
    return value


def record_from_json(data: Any) -> BatchRecord:
    if not isinstance(data, dict) or data.get("format") != RECORD_FORMAT:
        raise ValueError(f"not a {RECORD_FORMAT} document")
    given = data.get("input")
    if not isinstance(given, dict):
        raise ValueError("input must be an object")
    counts = data.get("counts", {})
    if not isinstance(counts, dict) or not all(isinstance(n, int) for n in counts.values()):
        raise ValueError("counts must map names to whole numbers")
    return BatchRecord(
        bucket=_text(data, "bucket"),
        region=_text(data, "region"),
        batch_id=_text(data, "batch_id"),
        run_id=_text(data, "run_id"),
        user_data=_text(data, "user_data"),
        input=BatchInput(_text(given, "kind"), _text(given, "value")),
        filters=_filters(data.get("filters")),
        cursor=_cursor(data.get("cursor", {})),
        counts={str(name): int(n) for name, n in counts.items()},
        batch_state=_text(data, "batch_state"),
        drained=data.get("drained") is True,
    )


def record_ref(bucket: str, region: str, batch_id: str) -> ObjectRef:
    return ObjectRef(bucket, region, batch_record_key(batch_id))


def load_record(
    bodies: ObjectBodies, bucket: str, region: str, batch_id: str, deadline: float | None = None
) -> BatchRecord | None:
    """The batch's record, or None when there is none; ValueError when it is not usable."""
    ref = record_ref(bucket, region, batch_id)
    raw = bodies.get_object_bytes(ref, max_bytes=MAX_RECORD_BYTES, deadline=deadline)
    if raw is None:
        return None
    try:
        loaded = record_from_json(json.loads(raw.decode("utf-8")))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{ref.key} is not JSON: {exc}") from exc
    if (loaded.bucket, loaded.region, loaded.batch_id) != (bucket, region, batch_id):
        raise ValueError(f"{ref.key} describes batch {loaded.batch_id} of {loaded.bucket}")
    return loaded


def save_record(bodies: ObjectBodies, batch: BatchRecord, deadline: float | None = None) -> None:
    body = json.dumps(batch.to_json(), ensure_ascii=False, separators=(",", ":")).encode()
    ref = record_ref(batch.bucket, batch.region, batch.batch_id)
    bodies.put_object_bytes(ref, body, content_type=JSON_TYPE, deadline=deadline)


def list_record_ids(
    store: ObjectStore, bucket: str, region: str, deadline: float | None = None
) -> list[str]:
    """The batch ids with a record in ``bucket`` (GET Bucket under the records prefix)."""
    ids: list[str] = []
    marker = ""
    while True:
        page = store.list_objects(
            bucket, region, prefix=BATCH_RECORDS_PREFIX, marker=marker, deadline=deadline
        )
        for listed in page.objects:
            name = listed.key[len(BATCH_RECORDS_PREFIX) :]
            if name.endswith(".json") and "/" not in name:
                ids.append(name[: -len(".json")])
        if not page.is_truncated or not page.objects:
            return ids
        marker = page.next_marker or page.objects[-1].key
