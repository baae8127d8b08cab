"""Object and part bytes on disk: streamed writes with MD5, CRC-64 and size, and ranged reads.

Bodies arrive as chunks and go straight into a temp file beside their final place (so the final
``os.replace`` is atomic), their MD5 (the ETag of a PUT or a part), CRC-64/XZ (COS's
``x-cos-hash-crc64ecma``, the ECMA-182 polynomial reflected, init and xorout all ones, sent as an
unsigned decimal) and size computed on the way. Nothing is held in memory beyond one chunk. The
CRC comes from crcmod's C extension, the same function cos-python-sdk-v5 verifies downloads with
(pure Python would take seconds per 25 MiB). This module knows nothing about HTTP or metadata.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import crcmod

READ_CHUNK = 256 * 1024
# crcmod's initCrc is given already XORed with xorOut: 0 here means "init = all ones".
_CRC64_XZ: Callable[[bytes, int], int] = crcmod.mkCrcFun(
    0x142F0E1EBA9EA3693, initCrc=0, xorOut=0xFFFFFFFFFFFFFFFF, rev=True
)


class DigestMismatchError(ValueError):
    """The body's MD5 differs from the Content-MD5 the client sent."""


def crc64(data: bytes, previous: int = 0) -> int:
    """CRC-64/XZ of ``data``; pass the CRC of the bytes before it to continue a stream."""
    return _CRC64_XZ(data, previous)


@dataclass(frozen=True)
class WrittenBody:
    """A body in its temp file: ``md5_hex`` and ``crc64`` (decimal text, as COS sends it)."""

    temp_path: Path
    md5_hex: str
    crc64: str
    size: int

    def discard(self) -> None:
        self.temp_path.unlink(missing_ok=True)


def write_temp_body(
    directory: Path, chunks: Iterable[bytes], expected_md5: bytes | None = None
) -> WrittenBody:
    """Stream ``chunks`` into a new temp file in ``directory``; DigestMismatchError removes it."""
    digest = hashlib.md5(usedforsecurity=False)
    crc = 0
    size = 0
    fd, name = tempfile.mkstemp(dir=directory, suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in chunks:
                digest.update(chunk)
                crc = crc64(chunk, crc)
                size += len(chunk)
                out.write(chunk)
        if expected_md5 is not None and digest.digest() != expected_md5:
            raise DigestMismatchError("Content-MD5 does not match the body")
    except BaseException:
        os.unlink(name)
        raise
    return WrittenBody(Path(name), digest.hexdigest(), str(crc), size)


def stream_chunks(source: BinaryIO, offset: int = 0, length: int | None = None) -> Iterator[bytes]:
    """The bytes of an open file from ``offset`` (``length`` of them, or to the end)."""
    source.seek(offset)
    left = length
    while left is None or left > 0:
        chunk = source.read(READ_CHUNK if left is None else min(READ_CHUNK, left))
        if not chunk:
            return
        if left is not None:
            left -= len(chunk)
        yield chunk


def file_chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as source:
        yield from stream_chunks(source)


def files_chunks(paths: Iterable[Path]) -> Iterator[bytes]:
    """The files one after the other, as one stream of chunks (a multipart object's parts)."""
    for path in paths:
        yield from file_chunks(path)
