"""Backfill's walk over a bucket: every object after a key, in listing order, page by page.

GET Bucket with marker paging (``ports.ObjectStore.list_objects``); a truncated page that does
not advance the marker is an error rather than an endless loop. No decisions, no logging.
"""

from __future__ import annotations

from collections.abc import Iterator

from shared.errors import CosError
from shared.models import ListedObject
from shared.ops.backfill_tally import BackfillTarget
from shared.ports import ObjectStore


def list_bucket(
    store: ObjectStore, target: BackfillTarget, after: str | None
) -> Iterator[ListedObject]:
    """Every object after ``after`` in listing order, page by page (marker paging)."""
    marker = after or ""
    while True:
        page = store.list_objects(target.bucket, target.region, prefix=target.prefix, marker=marker)
        yield from page.objects
        if not page.is_truncated:
            return
        # COS names NextMarker when truncated; the last key is the documented fallback.
        following = page.next_marker or (page.objects[-1].key if page.objects else "")
        if not following or following <= marker:
            raise CosError(200, "InvalidListing", "GET Bucket is truncated but does not advance")
        marker = following
