"""Plan a batch backfill: which objects go into the batch's manifest, and writing it to the bucket.

Objects come from GET Bucket (marker paging, one prefix after the other) or from the rows of a
COS inventory the caller names (``--manifest``: read with GET Object, each CSV file checked
against its md5Checksum). Each goes through the upload function's filters (``decide_object``:
extensions, include/exclude prefixes, folder markers, empty objects, the reserved prefix) and,
with ``skip_tagged``, one GET ?tagging: tags that hold a final result for the listed ETag leave
the object out (``result_is_current``; a hundredth of a MediaInfo job's price, docs/costs.md).
Tag reads run ``concurrency`` at a time, per chunk of ``CHUNK`` objects. Kept rows become gzipped
CSV parts (COS inventory format, ``shared.tencent.inventory``) under the run's manifest prefix,
then ``manifest.json``; CI's ``Input.Manifest`` is its URL. Positions (``<n>:<key>`` in the n-th
prefix, ``<file>:<row>`` in an inventory) let a resumed run continue after the last written part.
No decisions about batches here, and HTTP only through the ports.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote, unquote, urlsplit

from shared.batch_jobs import ObjectBodies
from shared.contract.batch import manifest_prefix
from shared.errors import ConfigError, CosNotFoundError
from shared.media.applied_job import recorded_result, result_is_current
from shared.models import ObjectRef
from shared.ops.batch_state import ManifestPart
from shared.ports import ObjectStore
from shared.reconcile.batch_record import BatchFilters
from shared.reconcile.batch_runner import batch_filter
from shared.records import record
from shared.tencent.endpoints import cos_host
from shared.tencent.inventory import (
    MANIFEST_NAME,
    InventoryRow,
    ManifestFile,
    build_manifest,
    check_file,
    decode_rows,
    encode_rows,
    file_entry,
    names_bucket,
    parse_manifest,
)
from shared.time_window import iso_second

CHUNK = 1000
DEFAULT_PART_ROWS = 100_000
MAX_MANIFEST_BYTES = 16 * 1024 * 1024
MAX_PART_BYTES = 256 * 1024 * 1024
KEPT, FILTERED, ALREADY_TAGGED, GONE = "rows", "filtered", "already_tagged", "gone"


@record
class SourceObject:
    position: str
    key: str
    size: int | None
    etag: str | None
    last_modified: str | None  # ISO 8601, as GET Bucket and inventories print it


def object_url(bucket: str, region: str, key: str) -> str:
    return f"https://{cos_host(bucket, region)}/{quote(key, safe='/')}"


def manifest_location(text: str, bucket: str, region: str) -> tuple[ObjectRef, str]:
    """``--manifest`` (cos://bucket/key, an https COS URL, or a key in ``bucket``) -> the
    object to read and the URL CI gets as Input.Manifest."""
    parts = urlsplit(text)
    if parts.scheme in ("http", "https", "cos"):
        host = parts.hostname or ""
        named = host.split(".", 1)[0] if parts.scheme != "cos" else host
        key = unquote(parts.path.lstrip("/"))
        if not named or not key:
            raise ConfigError("--manifest", f"{text!r} names no bucket and key")
        return ObjectRef(named, region, key), object_url(named, region, key)
    return ObjectRef(bucket, region, text), object_url(bucket, region, text)


def _after(position: str | None) -> tuple[int, str]:
    if not position:
        return 0, ""
    index, _, rest = position.partition(":")
    return int(index), rest


def listing_objects(
    store: ObjectStore, bucket: str, region: str, prefixes: Sequence[str], after: str | None
) -> Iterator[SourceObject]:
    """Every object of ``prefixes`` (all: [""]) after ``after``, in listing order."""
    start, marker = _after(after)
    for index, prefix in enumerate(prefixes or ("",)):
        if index < start:
            continue
        marker = marker if index == start else ""
        while True:
            page = store.list_objects(bucket, region, prefix=prefix, marker=marker)
            for listed in page.objects:
                yield SourceObject(
                    f"{index}:{listed.key}", listed.key, listed.size, listed.etag,
                    listed.last_modified,
                )  # fmt: skip
            if not page.is_truncated or not page.objects:
                break
            marker = page.next_marker or page.objects[-1].key


def _file_rows(
    bodies: ObjectBodies, location: ObjectRef, entry: ManifestFile, schema: Sequence[str]
) -> list[InventoryRow]:
    ref = ObjectRef(location.bucket, location.region, entry.key)
    data = bodies.get_object_bytes(ref, max_bytes=MAX_PART_BYTES)
    if data is None:
        raise ConfigError("--manifest", f"the inventory file {entry.key!r} does not exist")
    try:
        check_file(entry, data)
        return list(decode_rows(data, schema))
    except ValueError as exc:
        raise ConfigError("--manifest", str(exc)) from exc


def inventory_objects(
    bodies: ObjectBodies, location: ObjectRef, bucket: str, after: str | None
) -> Iterator[SourceObject]:
    """The rows of the inventory whose manifest.json is ``location`` that name ``bucket``."""
    raw = bodies.get_object_bytes(location, max_bytes=MAX_MANIFEST_BYTES)
    if raw is None:
        raise ConfigError("--manifest", f"{location.key!r} does not exist in {location.bucket}")
    try:
        manifest = parse_manifest(raw)
    except ValueError as exc:
        raise ConfigError("--manifest", str(exc)) from exc
    start_file, start_row = _after(after)
    first_row = int(start_row) + 1 if start_row else 0
    for file_index, entry in enumerate(manifest.files):
        if file_index < start_file:
            continue
        rows = _file_rows(bodies, location, entry, manifest.file_schema)
        for row_index, row in enumerate(rows):
            if file_index == start_file and row_index < first_row:
                continue
            if names_bucket(row.bucket, bucket):
                position = f"{file_index}:{row_index}"
                yield SourceObject(position, row.key, row.size, row.etag, row.last_modified)


class ManifestPlanner:
    """Classifies source objects and writes the kept ones as the run's manifest."""

    def __init__(
        self,
        store: ObjectStore,
        bodies: ObjectBodies,
        bucket: str,
        region: str,
        filters: BatchFilters,
        *,
        run_id: str,
        tag_prefix: str,
        skip_tagged: bool,
        concurrency: int = 8,
    ) -> None:
        self._store, self._bodies = store, bodies
        self._bucket, self._region = bucket, region
        self._accept = batch_filter(filters)
        self._run_id = run_id
        self._prefix = tag_prefix
        self._skip_tagged = skip_tagged
        self._concurrency = max(1, concurrency)

    def classify(self, chunk: Sequence[SourceObject]) -> list[str]:
        """KEPT, FILTERED, ALREADY_TAGGED or GONE for each object of ``chunk``, in order."""
        # An inventory row without Size is not taken for empty: CI reads the object anyway.
        verdicts = [
            FILTERED if self._accept(item.key, 1 if item.size is None else item.size) else KEPT
            for item in chunk
        ]
        if not self._skip_tagged:
            return verdicts
        wanted = [item for item, verdict in zip(chunk, verdicts) if verdict == KEPT]
        with ThreadPoolExecutor(self._concurrency, thread_name_prefix="plan-tags") as pool:
            tagged = dict(zip((item.position for item in wanted), pool.map(self._tagged, wanted)))
        return [tagged.get(item.position, verdict) for item, verdict in zip(chunk, verdicts)]

    def _tagged(self, item: SourceObject) -> str:
        obj = ObjectRef(self._bucket, self._region, item.key)
        try:
            tags = self._store.get_object_tagging(obj)
        except CosNotFoundError:
            return GONE
        recorded = recorded_result(tags, self._prefix)
        current = result_is_current(recorded, item.etag or "", iso_second(item.last_modified))
        return ALREADY_TAGGED if item.etag and current else KEPT

    def write_part(self, number: int, rows: Sequence[SourceObject]) -> ManifestPart:
        key = f"{manifest_prefix(self._run_id)}data/{number:06d}.csv.gz"
        data = encode_rows(
            InventoryRow(self._bucket, item.key, item.size, item.last_modified, item.etag)
            for item in rows
        )
        self._put(key, data, "application/gzip")
        entry = file_entry(key, data)
        return ManifestPart(entry.key, entry.size, entry.md5, len(rows))

    def write_manifest(self, parts: Sequence[ManifestPart], storage_size: int) -> str:
        """Write manifest.json for ``parts``; the URL CI gets as Input.Manifest."""
        key = manifest_prefix(self._run_id) + MANIFEST_NAME
        files = [ManifestFile(part.key, part.size, part.md5) for part in parts]
        count = sum(part.rows for part in parts)
        body = build_manifest(
            self._bucket, self._bucket, files, object_count=count, storage_size=storage_size
        )
        self._put(key, body, "application/json")
        return object_url(self._bucket, self._region, key)

    def _put(self, key: str, body: bytes, content_type: str) -> None:
        ref = ObjectRef(self._bucket, self._region, key)
        self._bodies.put_object_bytes(ref, body, content_type=content_type)
