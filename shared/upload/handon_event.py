"""The event the upload function sends itself with the records it could not submit in time.

When an invocation's deadline, a full or paused CI queue, or throttling leaves records unsubmitted,
they are handed on: the function invokes itself asynchronously (``ports.RecordHandOn``) with

    {"MediaTaggerHandOn": {"version": 1, "generation": 2, "since": <epoch s>,
     "notBefore": <epoch s>,
     "fruitless": 0, "reason": "queue-saturated",
     "objects": [{"bucket", "region", "key", "size", "etag", "versionId", "eventName",
                  "eventTime"}, ...]}}

``since`` is when the first invocation saw the records, ``notBefore`` when the next attempt may
start, ``fruitless`` how many generations in a row submitted nothing for a reason that is not a
queue signal. One SCF async event carries at most 128 KB, so ``hand_on_events`` splits the
objects into events under ``MAX_EVENT_BYTES``. ``parse_hand_on_event`` is strict: anything else
is not a hand-on event (None) or a typed ``EventError``. Pure: no I/O, no clock.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from shared.errors import EventError
from shared.records import record
from shared.upload.cos_event import UploadRecord

HAND_ON_KEY = "MediaTaggerHandOn"
HAND_ON_VERSION = 1
MAX_EVENT_BYTES = 100 * 1024  # SCF async events: 128 KB (scf-platform.md, limits); room to spare
_OBJECT_TEXT = ("bucket", "region", "key", "eventName")


@record
class HandOnState:
    """Where a chain of hand-ons stands."""

    generation: int
    since: float
    not_before: float = 0.0
    fruitless: int = 0
    reason: str = ""


def _object_json(item: UploadRecord) -> dict[str, Any]:
    return {
        "bucket": item.bucket,
        "region": item.region,
        "key": item.key,
        "size": item.size,
        "etag": item.etag,
        "versionId": item.version_id,
        "eventName": item.event_name,
        "eventTime": item.event_time,
    }


def _event(state: HandOnState, objects: list[dict[str, Any]]) -> dict[str, Any]:
    body = {
        "version": HAND_ON_VERSION,
        "generation": state.generation,
        "since": state.since,
        "notBefore": state.not_before,
        "fruitless": state.fruitless,
        "reason": state.reason,
        "objects": objects,
    }
    return {HAND_ON_KEY: body}


def _size(value: Any) -> int:
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def hand_on_events(state: HandOnState, records: Sequence[UploadRecord]) -> Iterator[dict[str, Any]]:
    """Events carrying ``records`` for the next generation, each under ``MAX_EVENT_BYTES``."""
    batch: list[dict[str, Any]] = []
    used = _size(_event(state, []))
    for item in records:
        entry = _object_json(item)
        cost = _size(entry) + 1
        if batch and used + cost > MAX_EVENT_BYTES:
            yield _event(state, batch)
            batch, used = [], _size(_event(state, []))
        batch.append(entry)
        used += cost
    if batch:
        yield _event(state, batch)


def _number(node: Mapping[str, Any], name: str, *, whole: bool = False) -> float:
    value = node.get(name)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise EventError(f"hand-on event: {name} is not a non-negative number")
    if whole and not float(value).is_integer():
        raise EventError(f"hand-on event: {name} is not a whole number")
    return float(value)


def _optional_text(node: Mapping[str, Any], name: str) -> str | None:
    value = node.get(name)
    if value is None or (isinstance(value, str) and value):
        return value
    raise EventError(f"hand-on event: object {name} is not a string")


def _record(index: int, node: Any) -> UploadRecord:
    if not isinstance(node, Mapping):
        raise EventError(f"hand-on event: object {index} is not an object")
    texts = {name: node.get(name) for name in _OBJECT_TEXT}
    if not all(isinstance(value, str) and value for value in texts.values()):
        raise EventError(f"hand-on event: object {index} lacks bucket, region, key or eventName")
    event_time = node.get("eventTime")
    return UploadRecord(
        index=index,
        bucket=str(texts["bucket"]),
        region=str(texts["region"]),
        key=str(texts["key"]),
        size=int(_number(node, "size", whole=True)),
        etag=_optional_text(node, "etag"),
        version_id=_optional_text(node, "versionId"),
        event_name=str(texts["eventName"]),
        request_id=None,
        event_time=int(_number(node, "eventTime", whole=True)) if event_time is not None else None,
    )


def parse_hand_on_event(event: Any) -> tuple[HandOnState, tuple[UploadRecord, ...]] | None:
    """(state, records) of a hand-on event; None for any other event; EventError if malformed."""
    body = event.get(HAND_ON_KEY) if isinstance(event, Mapping) else None
    if body is None:
        return None
    if not isinstance(body, Mapping) or body.get("version") != HAND_ON_VERSION:
        raise EventError("hand-on event: unknown version")
    objects = body.get("objects")
    if not isinstance(objects, list) or not objects:
        raise EventError("hand-on event: objects is not a non-empty list")
    reason = body.get("reason", "")
    state = HandOnState(
        generation=int(_number(body, "generation", whole=True)),
        since=_number(body, "since"),
        not_before=_number(body, "notBefore"),
        fruitless=int(_number(body, "fruitless", whole=True)),
        reason=reason if isinstance(reason, str) else "",
    )
    return state, tuple(_record(index, node) for index, node in enumerate(objects))
