"""Backfill of named objects instead of a listing: ``--key K`` (repeatable), ``--keys-from FILE``.

The recovery path for records the upload function could not submit: their ERROR decision lines
(outcome ``unsubmitted``) name the command with ``--key``, and ``--keys-from`` takes a file of
keys, one per line, or of JSON decision lines, from which the keys of ``unsubmitted`` lines are
taken ("-" reads stdin). Each named object is read with HEAD (its ETag, size and Last-Modified
feed the same per-object path as a listed object); a missing one is skipped as gone. No HTTP here
(ports only).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from email.utils import parsedate_to_datetime

from shared.errors import CosNotFoundError
from shared.models import ListedObject, ObjectRef
from shared.ops.backfill_tally import BackfillTarget
from shared.ports import ObjectStore

UNSUBMITTED = "unsubmitted"


def keys_from_lines(lines: Iterable[str]) -> tuple[str, ...]:
    """Keys of plain lines, or of JSON decision lines whose outcome is ``unsubmitted``; in order,
    each once. A JSON line that is not such a decision is left out."""
    keys: dict[str, None] = {}
    for raw in lines:
        line = raw.rstrip("\r\n")
        if not line.strip():
            continue
        if line.lstrip().startswith("{"):
            try:
                decision = json.loads(line)
            except ValueError:
                continue
            key = decision.get("key") if isinstance(decision, dict) else None
            if decision.get("outcome") == UNSUBMITTED and isinstance(key, str) and key:
                keys.setdefault(key, None)
            continue
        keys.setdefault(line, None)
    return tuple(keys)


def _iso(http_date: str | None) -> str | None:
    if not http_date:
        return None
    try:
        return parsedate_to_datetime(http_date).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def named_objects(store: ObjectStore, target: BackfillTarget) -> Iterator[ListedObject]:
    """The named objects that exist, as listed objects (HEAD each, in the order given)."""
    for key in target.keys:
        try:
            head = store.head_object(ObjectRef(target.bucket, target.region, key))
        except CosNotFoundError:
            continue  # gone since: nothing to submit (the summary counts what was handled)
        yield ListedObject(key, head.etag, head.size, _iso(head.last_modified))
