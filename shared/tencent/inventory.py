"""The COS inventory format, which CI batch jobs take as ``Input.Manifest``: read and written.

From the COS inventory docs (ci-facts.md section 9): ``manifest.json`` holds ``sourceAppid,
sourceBucket, destinationAppid, destinationBucket, fileFormat ("CSV"), listObjectCount,
listStorageSize, filterObjectCount, filterStorageSize, fileSchema, files[{key, size,
md5Checksum}]``; numbers are JSON strings, bucket names come without the APPID (the sample has
``sourceBucket`` and ``sourceAppid`` apart). Data files are gzipped CSV without a header, columns
in ``fileSchema`` order (comma + space separated), keys URL-encoded ("must be decoded before you
can use it"). Quoting is undocumented, so ``csv`` reads both forms; keys are decoded with
``unquote`` (a ``+`` stays a ``+``). Written files use ``WRITTEN_SCHEMA``. Gzip input is read at
most ``max_bytes`` decompressed (no gzip bomb). Pure: bytes in, values out; ValueError on input
that is not this format.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
from collections.abc import Iterable, Iterator, Sequence
from typing import Any
from urllib.parse import quote, unquote

from shared.records import record

WRITTEN_SCHEMA = ("Appid", "Bucket", "Key", "Size", "LastModifiedDate", "ETag")
MANIFEST_NAME = "manifest.json"
MAX_DECOMPRESSED = 512 * 1024 * 1024
_CHUNK = 1024 * 1024


@record
class InventoryRow:
    """One object of an inventory (``bucket`` as the file names it; size/etag may be absent)."""

    bucket: str
    key: str
    size: int | None = None
    last_modified: str | None = None
    etag: str | None = None


@record
class ManifestFile:
    key: str
    size: int
    md5: str


@record
class Manifest:
    source_bucket: str  # <name>-<appid>, as the rest of the project names buckets
    destination_bucket: str
    file_schema: tuple[str, ...]
    files: tuple[ManifestFile, ...]
    object_count: int | None = None


def split_bucket(bucket: str) -> tuple[str, str]:
    """``name-1250000000`` -> (``name``, ``1250000000``); ValueError without an APPID."""
    name, dash, appid = bucket.rpartition("-")
    if not dash or not name or not appid.isdigit():
        raise ValueError(f"{bucket!r} is not <name>-<appid>")
    return name, appid


def full_bucket(name: str, appid: str) -> str:
    """The bucket as ``<name>-<appid>`` from an inventory's separate fields (either form in)."""
    return name if name.endswith(f"-{appid}") or not appid else f"{name}-{appid}"


def names_bucket(row_bucket: str, bucket: str) -> bool:
    """Whether a row's Bucket column (short or full name) is ``bucket`` (full name)."""
    return row_bucket in (bucket, split_bucket(bucket)[0])


def encode_rows(rows: Iterable[InventoryRow]) -> bytes:
    """Gzipped CSV in ``WRITTEN_SCHEMA`` order; ``row.bucket`` is a full name."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    for row in rows:
        name, appid = split_bucket(row.bucket)
        size = "" if row.size is None else str(row.size)
        writer.writerow(
            [appid, name, quote(row.key, safe="/"), size, row.last_modified or "", row.etag or ""]
        )
    return gzip.compress(text.getvalue().encode("utf-8"), mtime=0)


def _decompressed(data: bytes, max_bytes: int) -> str:
    out = bytearray()
    with gzip.GzipFile(fileobj=io.BytesIO(data)) as source:
        try:
            while chunk := source.read(_CHUNK):
                out += chunk
                if len(out) > max_bytes:
                    raise ValueError(f"an inventory file is over {max_bytes} bytes unpacked")
        except (OSError, EOFError) as exc:
            raise ValueError(f"an inventory file is not gzip: {exc}") from exc
    try:
        return out.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError("an inventory file is not UTF-8") from exc


def _row(cells: Sequence[str], columns: dict[str, int]) -> InventoryRow:
    def cell(name: str) -> str | None:
        index = columns.get(name)
        return cells[index].strip() if index is not None and index < len(cells) else None

    key = cell("Key")
    if not key:
        raise ValueError("an inventory row without a Key")
    size = cell("Size")
    return InventoryRow(
        bucket=cell("Bucket") or "",
        key=unquote(key, errors="strict"),
        size=int(size) if size and size.isdigit() else None,
        last_modified=cell("LastModifiedDate") or None,
        etag=(cell("ETag") or "").strip('"') or None,
    )


def decode_rows(
    data: bytes, schema: Sequence[str], *, max_bytes: int = MAX_DECOMPRESSED
) -> Iterator[InventoryRow]:
    """The rows of one gzipped CSV file whose columns are ``schema``."""
    columns = {name: index for index, name in enumerate(schema)}
    if "Key" not in columns:
        raise ValueError("the inventory schema has no Key column")
    for cells in csv.reader(io.StringIO(_decompressed(data, max_bytes))):
        if cells:
            yield _row(cells, columns)


def file_entry(key: str, data: bytes) -> ManifestFile:
    """The manifest's entry for a data file written as ``key`` with ``data``."""
    return ManifestFile(key, len(data), hashlib.md5(data, usedforsecurity=False).hexdigest())


def check_file(entry: ManifestFile, data: bytes) -> None:
    """ValueError when ``data`` is not the file the manifest lists (its md5Checksum)."""
    digest = hashlib.md5(data, usedforsecurity=False).hexdigest()
    if entry.md5 and entry.md5.lower() != digest:
        raise ValueError(f"{entry.key!r} does not match its md5Checksum in manifest.json")


def build_manifest(
    source_bucket: str,
    destination_bucket: str,
    files: Sequence[ManifestFile],
    *,
    object_count: int,
    storage_size: int,
) -> bytes:
    """manifest.json for ``files`` (the sample's fields; numbers as strings)."""
    source_name, source_appid = split_bucket(source_bucket)
    destination_name, destination_appid = split_bucket(destination_bucket)
    document: dict[str, Any] = {
        "sourceAppid": source_appid,
        "sourceBucket": source_name,
        "destinationAppid": destination_appid,
        "destinationBucket": destination_name,
        "fileFormat": "CSV",
        "listObjectCount": str(object_count),
        "listStorageSize": str(storage_size),
        "filterObjectCount": str(object_count),
        "filterStorageSize": str(storage_size),
        "fileSchema": ", ".join(WRITTEN_SCHEMA),
        "files": [{"key": f.key, "size": str(f.size), "md5Checksum": f.md5} for f in files],
    }
    return json.dumps(document, ensure_ascii=False, indent=1).encode("utf-8")


def _text(document: dict[str, Any], name: str) -> str:
    value = document.get(name)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"manifest.json has no {name}")
    return value.strip()


def _files(document: dict[str, Any]) -> tuple[ManifestFile, ...]:
    listed = document.get("files")
    if not isinstance(listed, list):
        raise ValueError("manifest.json has no files list")
    files = []
    for item in listed:
        if not isinstance(item, dict) or not isinstance(item.get("key"), str):
            raise ValueError("a manifest.json file entry without a key")
        size = str(item.get("size", ""))
        md5 = item.get("md5Checksum")
        files.append(ManifestFile(item["key"], int(size) if size.isdigit() else -1, str(md5 or "")))
    return tuple(files)


def parse_manifest(body: bytes) -> Manifest:
    """manifest.json -> Manifest; ValueError when it is not a CSV COS inventory manifest."""
    try:
        document = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"manifest.json is not JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise ValueError("manifest.json is not an object")
    if str(document.get("fileFormat", "CSV")).upper() != "CSV":
        raise ValueError(f"only CSV inventories are read, not {document.get('fileFormat')!r}")
    count = str(document.get("listObjectCount", ""))
    return Manifest(
        source_bucket=full_bucket(_text(document, "sourceBucket"), _text(document, "sourceAppid")),
        destination_bucket=full_bucket(
            _text(document, "destinationBucket"), _text(document, "destinationAppid")
        ),
        file_schema=tuple(part.strip() for part in _text(document, "fileSchema").split(",")),
        files=_files(document),
        object_count=int(count) if count.isdigit() else None,
    )
