"""Which uploads deserve a MediaInfo job: a pure decision with a stated reason for every skip.

Checks in order (cheapest and most certain first): event type (only cos:ObjectCreated:*),
folder markers (key ends with '/'), empty objects, include prefixes, exclude prefixes, then the
case-insensitive extension allow-list (the COS trigger's suffix filter is case-sensitive and takes
one suffix, so the real filtering happens here). No I/O and no logging: the caller logs.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Union

from shared.cos_event import UploadRecord

OBJECT_CREATED_PREFIX = "cos:ObjectCreated:"


@dataclass(frozen=True)
class Accept:
    """Submit a job for this record."""


@dataclass(frozen=True)
class Skip:
    """Do nothing for this record, because ``reason`` (a short, stable, loggable text)."""

    reason: str


UploadDecision = Union[Accept, Skip]


def extension_of(key: str) -> str | None:
    """Lower-case extension of the last path segment; None for 'name', '.hidden', 'name.'."""
    name = key.rsplit("/", 1)[-1]
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem or not extension:
        return None
    return extension.lower()


def _prefix_skip(
    key: str, include_prefixes: Sequence[str], exclude_prefixes: Sequence[str]
) -> Skip | None:
    if include_prefixes and not key.startswith(tuple(include_prefixes)):
        return Skip("outside-include-prefixes")
    for prefix in exclude_prefixes:
        if key.startswith(prefix):
            return Skip(f"excluded-prefix:{prefix}")
    return None


def _record_skip(record: UploadRecord) -> Skip | None:
    if not record.event_name.startswith(OBJECT_CREATED_PREFIX):
        return Skip(f"not-object-created:{record.event_name}")
    if record.key.endswith("/"):
        return Skip("folder-marker")
    if record.size == 0:
        return Skip("empty-object")
    return None


def _extension_skip(key: str, extensions: Collection[str] | None) -> Skip | None:
    if extensions is None:
        return None
    extension = extension_of(key)
    if extension is None:
        return Skip("no-extension")
    if extension not in extensions:
        return Skip(f"extension-not-allowed:{extension}")
    return None


def decide_upload(
    record: UploadRecord,
    *,
    extensions: Collection[str] | None,
    include_prefixes: Sequence[str] = (),
    exclude_prefixes: Sequence[str] = (),
) -> UploadDecision:
    """Accept, or the first Skip that applies. ``extensions`` None allows every key."""
    skip = (
        _record_skip(record)
        or _prefix_skip(record.key, include_prefixes, exclude_prefixes)
        or _extension_skip(record.key, extensions)
    )
    return Accept() if skip is None else skip
