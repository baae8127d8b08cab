"""The emulator's COS object store: buckets, object bytes and JSON metadata in a data folder.

Layout: a bucket is the folder ``<data_dir>/cos/<bucket>/`` (it exists once created, and stays
across restarts); ``<sha256(key)>.bin`` in it holds an object's bytes and ``.json`` beside it the
metadata (key, etag, size, CRC-64, content type, last modified, tags, x-cos-meta-*, standard
headers, version id). Keys are hashed for file names so any key (spaces, CJK, '+', '%', '/') is
safe on disk. An in-memory index (loaded from disk on first use of a bucket) feeds listings.
Writing an object here creates its bucket folder: the HTTP API refuses missing buckets before it
calls the store, the store itself does not (tests seed objects through it). This module knows
nothing about HTTP, XML or signatures.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import BinaryIO

from emulator.cos.bodies import DigestMismatchError, write_temp_body

Tags = tuple[tuple[str, str], ...]
__all__ = ["DigestMismatchError", "ObjectStore", "StoredObject", "Tags"]


@dataclass(frozen=True)
class StoredObject:
    """One object's metadata.

    ``etag`` is unquoted: the MD5 hex of the body for a PUT, ``<32 hex>-<parts>`` for a completed
    multipart upload. ``crc64`` is the decimal CRC-64/XZ (None for records written before the
    emulator stored it, as COS has none for old objects). ``headers`` are the standard headers
    stored with the object (Cache-Control, Content-Disposition, ...), by their canonical names.
    """

    bucket: str
    key: str
    etag: str
    size: int
    content_type: str
    last_modified: float
    tags: Tags = ()
    meta: Mapping[str, str] = field(default_factory=dict)
    version_id: str | None = None
    crc64: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


def _file_stem(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class ObjectStore:
    """Thread-safe object store. Every write replaces files atomically (temp file + rename)."""

    def __init__(self, data_dir: Path, clock: Callable[[], float] = time.time) -> None:
        self.data_dir = Path(data_dir)
        self._root = self.data_dir / "cos"
        self._clock = clock
        self._lock = threading.RLock()
        self._index: dict[str, dict[str, StoredObject]] = {}

    # -- buckets --------------------------------------------------------------------------------
    def bucket_exists(self, bucket: str) -> bool:
        return self._bucket_dir(bucket).is_dir()

    def create_bucket(self, bucket: str) -> bool:
        """Create the bucket; False when it exists already."""
        with self._lock:
            directory = self._bucket_dir(bucket)
            if directory.is_dir():
                return False
            directory.mkdir(parents=True)
            return True

    def delete_bucket(self, bucket: str) -> None:
        """Remove an existing bucket that holds no object (the caller checks both)."""
        with self._lock:
            self._index.pop(bucket, None)
            shutil.rmtree(self._bucket_dir(bucket), ignore_errors=True)

    def is_empty(self, bucket: str) -> bool:
        with self._lock:
            return not self._bucket(bucket)

    # -- reads ----------------------------------------------------------------------------------
    def head(self, bucket: str, key: str) -> StoredObject | None:
        with self._lock:
            return self._bucket(bucket).get(key)

    def body_path(self, bucket: str, key: str) -> Path | None:
        """The file holding the object's bytes (for ffprobe), or None when there is no object."""
        with self._lock:
            if key not in self._bucket(bucket):
                return None
            return self._bucket_dir(bucket) / f"{_file_stem(key)}.bin"

    def open_object(self, bucket: str, key: str) -> tuple[StoredObject, BinaryIO] | None:
        """The metadata and an open file of the same version of the object (an overwrite
        replaces the file, the open one keeps the old bytes); the caller closes it."""
        with self._lock:
            stored = self._bucket(bucket).get(key)
            if stored is None:
                return None
            path = self._bucket_dir(bucket) / f"{_file_stem(key)}.bin"
            return stored, path.open("rb")

    def objects(self, bucket: str) -> dict[str, StoredObject]:
        """A snapshot of the bucket's objects by key (for listings)."""
        with self._lock:
            return dict(self._bucket(bucket))

    def read_bytes(self, bucket: str, key: str) -> bytes | None:
        with self._lock:
            path = self.body_path(bucket, key)
            return path.read_bytes() if path is not None else None

    # -- writes ---------------------------------------------------------------------------------
    def put_object(
        self,
        bucket: str,
        key: str,
        chunks: Iterable[bytes],
        *,
        content_type: str,
        meta: Mapping[str, str],
        tags: Tags = (),
        headers: Mapping[str, str] | None = None,
        expected_md5: bytes | None = None,
        etag: str | None = None,
    ) -> StoredObject:
        """Store the body streamed in ``chunks``; replaces any previous object and its tags.

        ``expected_md5`` (raw digest of Content-MD5): DigestMismatchError leaves the old object.
        ``etag`` replaces the body's MD5 as ETag (a completed multipart upload's ETag).
        """
        directory = self._bucket_dir(bucket)
        directory.mkdir(parents=True, exist_ok=True)
        body = write_temp_body(directory, chunks, expected_md5)
        try:
            stored = StoredObject(
                bucket=bucket,
                key=key,
                etag=etag or body.md5_hex,
                size=body.size,
                content_type=content_type,
                last_modified=self._clock(),
                tags=tuple(tags),
                meta=dict(meta),
                crc64=body.crc64,
                headers=dict(headers or {}),
            )
            with self._lock:
                os.replace(body.temp_path, directory / f"{_file_stem(key)}.bin")
                self._save(stored)
        finally:
            body.discard()
        return stored

    def put_tags(self, bucket: str, key: str, tags: Tags) -> StoredObject | None:
        """Replace the object's tag set; None when there is no such object."""
        with self._lock:
            current = self._bucket(bucket).get(key)
            if current is None:
                return None
            updated = replace(current, tags=tuple(tags))
            self._save(updated)
            return updated

    def delete(self, bucket: str, key: str) -> bool:
        with self._lock:
            if self._bucket(bucket).pop(key, None) is None:
                return False
            stem = self._bucket_dir(bucket) / _file_stem(key)
            for suffix in (".json", ".bin"):
                stem.with_suffix(suffix).unlink(missing_ok=True)
            return True

    # -- internals --------------------------------------------------------------------------------
    def _bucket_dir(self, bucket: str) -> Path:
        return self._root / bucket

    def _bucket(self, bucket: str) -> dict[str, StoredObject]:
        """The bucket's index, loaded from disk the first time (lock held by the caller)."""
        with self._lock:
            index = self._index.get(bucket)
            if index is None:
                index = self._load(bucket)
                self._index[bucket] = index
            return index

    def _load(self, bucket: str) -> dict[str, StoredObject]:
        index: dict[str, StoredObject] = {}
        directory = self._bucket_dir(bucket)
        if not directory.is_dir():
            return index
        for meta_file in directory.glob("*.json"):
            record = json.loads(meta_file.read_text(encoding="utf-8"))
            record["tags"] = tuple((str(k), str(v)) for k, v in record.get("tags", ()))
            stored = StoredObject(**record)
            index[stored.key] = stored
        return index

    def _save(self, stored: StoredObject) -> None:
        directory = self._bucket_dir(stored.bucket)
        record = asdict(stored)
        record["meta"] = dict(stored.meta)
        record["headers"] = dict(stored.headers)
        fd, tmp_name = tempfile.mkstemp(dir=directory, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(record, out, ensure_ascii=False)
        os.replace(tmp_name, directory / f"{_file_stem(stored.key)}.json")
        self._bucket(stored.bucket)[stored.key] = stored
