"""The emulator's request and reply values, shared by the server and the COS / CI APIs.

``ApiRequest`` is one parsed HTTP request (decoded path, decoded query pairs, case-insensitive
headers, a body reader that streams Content-Length or chunked bodies); ``Reply`` is what an API
answers; ``ServiceError`` is raised by an API and rendered by the server as a COS or CI error.
This module does no routing, no signing and no XML.
"""

from __future__ import annotations

import base64
import itertools
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import BinaryIO

CHUNK_SIZE = 64 * 1024
_SEQUENCE = itertools.count(1)


def new_request_id() -> str:
    """An opaque id shaped like COS's base64 request ids."""
    raw = f"{os.urandom(8).hex()}_{next(_SEQUENCE):08x}_local"
    return base64.b64encode(raw.encode("ascii")).decode("ascii")


class ServiceError(Exception):
    """An error answer: HTTP status + service error code + message (+ extra reply headers)."""

    def __init__(
        self, status: int, code: str, message: str, headers: tuple[tuple[str, str], ...] = ()
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers


class BodyReader:
    """Reads a request body exactly once, whatever its framing; ``drain`` discards the rest."""

    def __init__(self, stream: BinaryIO, length: int | None, chunked: bool) -> None:
        self._stream = stream
        self._remaining = length or 0
        self._chunked = chunked
        self._done = not chunked and not length

    def chunks(self) -> Iterator[bytes]:
        while not self._done:
            chunk = self._next_chunk()
            if chunk:
                yield chunk

    def read_all(self, limit: int) -> bytes:
        """The whole body; ServiceError 413 when it is larger than ``limit``."""
        parts: list[bytes] = []
        size = 0
        for chunk in self.chunks():
            size += len(chunk)
            if size > limit:
                self.drain()
                raise ServiceError(413, "EntityTooLarge", f"request body exceeds {limit} bytes")
            parts.append(chunk)
        return b"".join(parts)

    def drain(self) -> None:
        for _ in self.chunks():
            pass

    def _next_chunk(self) -> bytes:
        if not self._chunked:
            data = self._stream.read(min(CHUNK_SIZE, self._remaining))
            self._remaining -= len(data)
            if not data or self._remaining <= 0:
                self._done = True
            return data
        size_line = self._stream.readline(1024).split(b";", 1)[0].strip()
        size = int(size_line or b"0", 16)
        if size == 0:
            while self._stream.readline(1024) not in (b"\r\n", b"\n", b""):
                pass  # trailer headers
            self._done = True
            return b""
        data = self._stream.read(size)
        self._stream.readline(1024)  # CRLF after the chunk
        return data


@dataclass
class ApiRequest:
    """One request as the APIs see it. ``path`` is percent-decoded; ``query`` pairs are decoded."""

    method: str
    raw_path: str
    path: str
    query: list[tuple[str, str]]
    headers: Mapping[str, str]  # lower-case names
    raw_headers: dict[str, str]  # original names, for the COS event's requestHeaders
    body: BodyReader
    client_ip: str
    service: str = ""
    bucket: str = ""
    region: str = ""
    request_id: str = field(default_factory=new_request_id)

    def param(self, name: str) -> str | None:
        """Query parameter by case-insensitive name (first occurrence)."""
        lowered = name.lower()
        for key, value in self.query:
            if key.lower() == lowered:
                return value
        return None

    def has_param(self, name: str) -> bool:
        return self.param(name) is not None

    @property
    def key(self) -> str:
        """The object key: the decoded path without its leading '/'."""
        return self.path[1:]


@dataclass
class Reply:
    """An API's answer; ``body_file`` (an open file, closed by the writer) streams
    ``content_length`` bytes from ``body_offset`` instead of ``body``."""

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    body_file: BinaryIO | None = None
    content_length: int | None = None  # HEAD: the length GET would send
    body_offset: int = 0
