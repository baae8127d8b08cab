"""Unfinished multipart uploads on disk: the upload's metadata and each uploaded part.

Layout: ``<data_dir>/cos-multipart/<bucket>/<upload id>/upload.json`` holds what Initiate was told
(key, Content-Type, x-cos-meta-*, x-cos-tagging, standard headers, time); ``part-<n>.bin`` and
``.json`` each uploaded part (MD5, CRC-64, size, time). Parts stream to disk; a re-uploaded part
number replaces the earlier part (Upload Part doc). Uploads survive a restart, as on COS, where
cos-python-sdk-v5 resumes them. Upload ids look like COS's (10 decimal digits of the initiation's
Unix time, then 64 hex characters) and here sort by initiation time. Completing an upload is
``claim`` (no other call sees it any more), the caller's checks and assembly, then ``discard``
or ``restore``. This module knows nothing about HTTP, XML or the object store.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

from emulator.cos.bodies import write_temp_body

Tags = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Part:
    number: int
    etag: str  # unquoted MD5 hex of the part
    size: int
    crc64: str
    last_modified: float


@dataclass
class Upload:
    upload_id: str
    bucket: str
    key: str
    initiated: float
    content_type: str
    meta: Mapping[str, str]
    tags: Tags
    headers: Mapping[str, str]
    parts: dict[int, Part] = field(default_factory=dict)  # changed under the store's lock


def _listing_order(upload: Upload) -> tuple[bytes, str]:
    # by key, then oldest first (upload ids sort by initiation time): upload_file resumes the
    # *last* listed upload of its key
    return upload.key.encode("utf-8"), upload.upload_id


def new_upload_id(now: float) -> str:
    """10 digits of Unix time, then 64 hex: 8 of microseconds (so ids sort by time), 56 random."""
    micros = int((now % 1) * 1_000_000)
    return f"{int(now):010d}{micros:08x}{secrets.token_hex(28)}"


class MultipartStore:
    """Thread-safe store of unfinished uploads; every write is temp file + rename."""

    def __init__(self, data_dir: Path, clock: Callable[[], float] = time.time) -> None:
        self._root = Path(data_dir) / "cos-multipart"
        self._clock = clock
        self._lock = threading.RLock()
        self._index: dict[str, dict[str, Upload]] = {}

    # -- uploads ----------------------------------------------------------------------------------
    def initiate(
        self,
        bucket: str,
        key: str,
        *,
        content_type: str,
        meta: Mapping[str, str],
        tags: Tags,
        headers: Mapping[str, str],
    ) -> Upload:
        now = self._clock()
        upload = Upload(
            new_upload_id(now),
            bucket,
            key,
            now,
            content_type,
            dict(meta),
            tuple(tags),
            dict(headers),
        )
        directory = self._upload_dir(upload)
        directory.mkdir(parents=True)
        record = {k: v for k, v in asdict(upload).items() if k != "parts"}
        _write_json(directory / "upload.json", record)
        with self._lock:
            self._bucket(bucket)[upload.upload_id] = upload
        return upload

    def get(self, bucket: str, upload_id: str, key: str) -> Upload | None:
        """The upload, or None when there is none with this id for this key."""
        with self._lock:
            upload = self._bucket(bucket).get(upload_id)
            return upload if upload is not None and upload.key == key else None

    def uploads(self, bucket: str) -> list[Upload]:
        """Every unfinished upload of the bucket, by key (UTF-8 order), then oldest first."""
        with self._lock:
            return sorted(self._bucket(bucket).values(), key=_listing_order)

    def has_uploads(self, bucket: str) -> bool:
        with self._lock:
            return bool(self._bucket(bucket))

    def abort(self, bucket: str, upload_id: str, key: str) -> bool:
        upload = self.claim(bucket, upload_id, key)
        if upload is None:
            return False
        self.discard(upload)
        return True

    def claim(self, bucket: str, upload_id: str, key: str) -> Upload | None:
        """Take the upload out of sight (to complete or abort it); None when there is none."""
        with self._lock:
            upload = self.get(bucket, upload_id, key)
            if upload is not None:
                del self._bucket(bucket)[upload_id]
            return upload

    def restore(self, upload: Upload) -> None:
        """Put back a claimed upload whose completion was refused."""
        with self._lock:
            self._bucket(upload.bucket)[upload.upload_id] = upload

    def discard(self, upload: Upload) -> None:
        """Remove a claimed upload's files (after completion or abort)."""
        shutil.rmtree(self._upload_dir(upload), ignore_errors=True)

    # -- parts ------------------------------------------------------------------------------------
    def parts_of(self, upload: Upload) -> list[Part]:
        """The upload's parts by part number."""
        with self._lock:
            return [upload.parts[number] for number in sorted(upload.parts)]

    def part_path(self, upload: Upload, number: int) -> Path:
        return self._upload_dir(upload) / f"part-{number:05d}.bin"

    def put_part(
        self,
        upload: Upload,
        number: int,
        chunks: Iterable[bytes],
        expected_md5: bytes | None = None,
    ) -> Part | None:
        """Store part ``number`` (replacing an earlier one); None when the upload went away
        meanwhile (completed or aborted). DigestMismatchError leaves the earlier part."""
        directory = self._upload_dir(upload)
        try:
            body = write_temp_body(directory, chunks, expected_md5)
        except FileNotFoundError:
            return None  # the upload's folder was removed while the part was arriving
        try:
            part = Part(number, body.md5_hex, body.size, body.crc64, self._clock())
            with self._lock:
                if self._bucket(upload.bucket).get(upload.upload_id) is not upload:
                    return None
                os.replace(body.temp_path, self.part_path(upload, number))
                _write_json(directory / f"part-{number:05d}.json", asdict(part))
                upload.parts[number] = part
            return part
        finally:
            body.discard()

    # -- internals --------------------------------------------------------------------------------
    def _upload_dir(self, upload: Upload) -> Path:
        return self._root / upload.bucket / upload.upload_id

    def _bucket(self, bucket: str) -> dict[str, Upload]:
        with self._lock:
            index = self._index.get(bucket)
            if index is None:
                index = self._index[bucket] = _load(self._root / bucket)
            return index


def _write_json(path: Path, record: Mapping[str, object]) -> None:
    temp = path.with_suffix(".tmp")
    temp.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    os.replace(temp, path)


def _load(directory: Path) -> dict[str, Upload]:
    index: dict[str, Upload] = {}
    if not directory.is_dir():
        return index
    for record_file in directory.glob("*/upload.json"):
        record = json.loads(record_file.read_text(encoding="utf-8"))
        record["tags"] = tuple((str(k), str(v)) for k, v in record["tags"])
        upload = Upload(**record)
        for part_file in record_file.parent.glob("part-*.json"):
            part = Part(**json.loads(part_file.read_text(encoding="utf-8")))
            if part_file.with_suffix(".bin").is_file():
                upload.parts[part.number] = part
        index[upload.upload_id] = upload
    return index
