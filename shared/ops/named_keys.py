"""Backfill of named objects instead of a listing: ``--key K`` (repeatable), ``--keys-from FILE``.

The recovery path for records the upload function could not submit: their ERROR decision lines
(outcome ``unsubmitted``) name the command with ``--key``, and ``--keys-from`` takes a file of
keys, one per line, or of JSON decision lines, from which the keys of ``unsubmitted`` lines are
taken ("-" reads stdin). The backfill HEADs each named object (its ETag, size and Last-Modified,
in the listing's form by ``listing_time``, feed the same per-object path as a listed object); a
missing one is one ``object-gone`` line and counted as gone. Pure: no I/O.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from email.utils import parsedate_to_datetime

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


def listing_time(http_date: str | None) -> str | None:
    """HEAD's Last-Modified (an HTTP date) in GET Bucket's form (ISO 8601, UTC, milliseconds)."""
    if not http_date:
        return None
    try:
        return parsedate_to_datetime(http_date).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
