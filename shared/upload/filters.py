"""Which uploads deserve a MediaInfo job: a pure decision with a stated reason for every skip.

Checks in order (cheapest and most certain first): event type (only cos:ObjectCreated:*), the
result-document location (``result_location_skip``: whatever the extension, a document written
there must never start a job, or every document would raise an upload event that makes a job that
writes a document ...), folder markers (key ends with '/'), empty objects, the prefix the batch
path writes its own objects under (``shared.contract.batch.RESERVED_PREFIX``: refused whatever
the settings say, so those writes can never start a job), include prefixes, exclude prefixes,
then the case-insensitive extension allow-list (the COS trigger's suffix filter is
case-sensitive and takes one suffix, so the real filtering happens here). ``decide_object`` is
the per-object part (every check but the event type); backfill applies it to listed objects, so
both see the same filters. No I/O and no logging: the caller logs.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Union

from shared.contract.batch import RESERVED_PREFIX, is_reserved_key
from shared.models import ResultLocation
from shared.records import record
from shared.upload.cos_event import UploadRecord

OBJECT_CREATED_PREFIX = "cos:ObjectCreated:"
RESULT_LOCATION_REASON = "result-document-location"


@record
class Accept:
    """Submit a job for this record."""


@record
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


def event_skip(event_name: str) -> Skip | None:
    """Only object creations deserve a job (tagging and deletions raise other events)."""
    if not event_name.startswith(OBJECT_CREATED_PREFIX):
        return Skip(f"not-object-created:{event_name}")
    return None


def result_location_skip(bucket: str, key: str, location: ResultLocation | None) -> Skip | None:
    """Nothing under the result location is processed: no extension or prefix setting can
    bring it back (MEDIA_TAGGER_RESULT_DOCUMENT; docs/result-document.md "Loop safety")."""
    if location is not None and location.holds(bucket, key):
        return Skip(RESULT_LOCATION_REASON)
    return None


def _object_skip(key: str, size: int) -> Skip | None:
    if key.endswith("/"):
        return Skip("folder-marker")
    if size == 0:
        return Skip("empty-object")
    if is_reserved_key(key):
        return Skip(f"reserved-prefix:{RESERVED_PREFIX}")
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


def decide_object(
    key: str,
    size: int,
    *,
    extensions: Collection[str] | None,
    include_prefixes: Sequence[str] = (),
    exclude_prefixes: Sequence[str] = (),
) -> UploadDecision:
    """Accept, or the first Skip that applies to this object. ``extensions`` None allows all."""
    skip = (
        _object_skip(key, size)
        or _prefix_skip(key, include_prefixes, exclude_prefixes)
        or _extension_skip(key, extensions)
    )
    return Accept() if skip is None else skip


def decide_upload(
    record: UploadRecord,
    *,
    extensions: Collection[str] | None,
    include_prefixes: Sequence[str] = (),
    exclude_prefixes: Sequence[str] = (),
) -> UploadDecision:
    """The event type first, then ``decide_object``."""
    skip = event_skip(record.event_name)
    if skip is not None:
        return skip
    return decide_object(
        record.key,
        record.size,
        extensions=extensions,
        include_prefixes=include_prefixes,
        exclude_prefixes=exclude_prefixes,
    )
