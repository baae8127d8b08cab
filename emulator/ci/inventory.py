"""COS inventories in the emulator: the keys a batch's ``Input.Manifest`` names, and writing one.

Reading (for ``emulator.ci.batch_runner``): the manifest is an https COS URL
(``https://<bucket>.cos.<region>.myqcloud.com/<key>``, the Go SDK sample's form) or a key in the
batch's bucket; every listed CSV file is read, checked against its md5Checksum and parsed by its
``fileSchema`` (``shared.tencent.inventory``); rows of other buckets are left out. Writing (the
admin command): a one-time inventory as COS lays it out (ci-facts.md section 9):
``cos_bucket_inventory/<appid>/<bucket>/<id>/<md5>.csv.gz`` data files, then
``.../<id>/<YYYYMMDD>/manifest.json`` and ``manifest.checksum`` (the MD5 of manifest.json), with
the sample's nine columns. This writer quotes every CSV field and encodes ``/`` in keys too, the
other form the undocumented quoting allows, so readers of both forms are exercised. Objects are
read and written through the callables it is handed (never ``emulator.cos`` itself).
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from typing import Protocol
from urllib.parse import quote, unquote, urlsplit

from shared.tencent.inventory import (
    check_file,
    decode_rows,
    names_bucket,
    parse_manifest,
    split_bucket,
)

SCHEMA = (
    "Appid, Bucket, Key, Size, LastModifiedDate, ETag, StorageClass, IsMultipartUploaded, "
    "ReplicationStatus"
)
ROWS_PER_FILE = 10_000
ReadObject = Callable[[str, str], "bytes | None"]
WriteObject = Callable[[str, str, bytes, str], None]


class InventoryError(Exception):
    """A manifest the batch cannot run over (the batch fails with this code and message)."""

    def __init__(self, message: str, code: str = "InvalidManifest") -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class InventoryObject(Protocol):
    """What the writer needs of a stored object (``emulator.cos.store.StoredObject`` has it)."""

    @property
    def key(self) -> str: ...
    @property
    def size(self) -> int: ...
    @property
    def etag(self) -> str: ...
    @property
    def last_modified(self) -> float: ...


def manifest_location(value: str, bucket: str) -> tuple[str, str]:
    """(bucket, key) of the manifest.json an ``Input.Manifest`` names."""
    parts = urlsplit(value)
    if parts.scheme in ("http", "https"):
        host = parts.hostname or ""
        named, _, rest = host.partition(".")
        if not rest.startswith("cos.") or not parts.path.strip("/"):
            raise InventoryError(f"{value!r} is not a COS object URL")
        return named, unquote(parts.path[1:])
    return bucket, value


def manifest_keys(value: str, bucket: str, read_object: ReadObject) -> list[str]:
    """Every key of ``bucket`` the inventory lists, in file and row order."""
    where, key = manifest_location(value, bucket)
    raw = read_object(where, key)
    if raw is None:
        raise InventoryError(f"the manifest {key!r} does not exist in {where}")
    try:
        manifest = parse_manifest(raw)
        keys: list[str] = []
        for entry in manifest.files:
            data = read_object(where, entry.key)
            if data is None:
                raise InventoryError(f"the inventory file {entry.key!r} does not exist")
            check_file(entry, data)
            rows = decode_rows(data, manifest.file_schema)
            keys += [row.key for row in rows if names_bucket(row.bucket, bucket)]
        return keys
    except ValueError as exc:
        raise InventoryError(str(exc)) from exc


def _row(obj: InventoryObject, name: str, appid: str) -> list[str]:
    modified = datetime.fromtimestamp(obj.last_modified, timezone.utc)
    return [
        appid,
        name,
        quote(obj.key, safe=""),
        str(obj.size),
        modified.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        obj.etag,
        "STANDARD",
        "true" if "-" in obj.etag else "false",
        "",
    ]


def _csv_gz(rows: Sequence[list[str]]) -> bytes:
    text = io.StringIO()
    csv.writer(text, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows(rows)
    return gzip.compress(text.getvalue().encode("utf-8"), mtime=0)


def write_inventory(
    objects: Sequence[InventoryObject],
    write_object: WriteObject,
    *,
    source_bucket: str,
    destination_bucket: str,
    inventory_id: str,
    when: float,
    rows_per_file: int = ROWS_PER_FILE,
) -> dict[str, object]:
    """Write a one-time inventory of ``objects``; its manifest key and counts."""
    name, appid = split_bucket(source_bucket)
    destination_name, destination_appid = split_bucket(destination_bucket)
    base = f"cos_bucket_inventory/{appid}/{name}/{inventory_id}/"
    files = []
    for start in range(0, len(objects), rows_per_file):
        chunk = objects[start : start + rows_per_file]
        data = _csv_gz([_row(obj, name, appid) for obj in chunk])
        md5 = hashlib.md5(data, usedforsecurity=False).hexdigest()
        write_object(destination_bucket, f"{base}{md5}.csv.gz", data, "application/gzip")
        files.append({"key": f"{base}{md5}.csv.gz", "size": str(len(data)), "md5Checksum": md5})
    storage = str(sum(obj.size for obj in objects))
    document = {
        "sourceAppid": appid, "sourceBucket": name,
        "destinationAppid": destination_appid, "destinationBucket": destination_name,
        "fileFormat": "CSV", "listObjectCount": str(len(objects)), "listStorageSize": storage,
        "filterObjectCount": str(len(objects)), "filterStorageSize": storage,
        "fileSchema": SCHEMA, "files": files,
    }  # fmt: skip
    body = json.dumps(document, ensure_ascii=False).encode("utf-8")
    day = datetime.fromtimestamp(when, timezone.utc).strftime("%Y%m%d")
    manifest_key = f"{base}{day}/manifest.json"
    write_object(destination_bucket, manifest_key, body, "application/json")
    checksum = hashlib.md5(body, usedforsecurity=False).hexdigest().encode("ascii")
    write_object(destination_bucket, f"{base}{day}/manifest.checksum", checksum, "text/plain")
    return {"bucket": destination_bucket, "manifest": manifest_key, "objects": len(objects)}
