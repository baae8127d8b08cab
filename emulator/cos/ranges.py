"""The Range header of GET/HEAD Object: which bytes to send, or 416 InvalidRange.

COS documents one form, ``bytes=first-last`` (0-based, inclusive, a single range), and 416 when
``first`` is not inside the object (GET Object, ZH page). Open (``bytes=5-``) and suffix
(``bytes=-5``) ranges, a ``last`` past the end, multiple ranges and the 416 headers are
undocumented (UNCERTAIN in /work/research/cos-facts.md section 3); they follow RFC 7233 as S3
does: open and suffix ranges are served, ``last`` is clamped to the end, a header that is not one
well-formed byte range is ignored (200 with the whole object), and a 416 names the size in
``Content-Range: bytes */<size>``. This module is pure: no I/O, no HTTP replies.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from emulator.wire import ServiceError

_SINGLE_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


@dataclass(frozen=True)
class ByteRange:
    first: int
    last: int  # inclusive
    size: int  # of the whole object

    @property
    def length(self) -> int:
        return self.last - self.first + 1

    @property
    def content_range(self) -> str:
        return f"bytes {self.first}-{self.last}/{self.size}"


class UnsatisfiableRangeError(ServiceError):
    """416 InvalidRange with ``Content-Range: bytes */<size>``."""

    def __init__(self, size: int) -> None:
        # the COS error table's wording; the exact message is UNCERTAIN (cos-facts.md 12.1)
        super().__init__(
            416,
            "InvalidRange",
            "The requested object range is invalid.",
            (("Content-Range", f"bytes */{size}"),),
        )


def requested_range(header: str | None, size: int) -> ByteRange | None:
    """The range to serve; None for the whole object; UnsatisfiableRangeError for a 416."""
    if header is None:
        return None
    match = _SINGLE_RANGE.match(header.strip().replace(" ", ""))
    if match is None or match.group(1) == match.group(2) == "":
        return None  # not a single byte range (or several ranges): ignored, as RFC 7233 allows
    first_text, last_text = match.group(1), match.group(2)
    if first_text == "":  # suffix: the last N bytes
        suffix = int(last_text)
        if suffix == 0 or size == 0:
            raise UnsatisfiableRangeError(size)
        return ByteRange(max(size - suffix, 0), size - 1, size)
    first = int(first_text)
    if last_text and int(last_text) < first:
        return None  # syntactically invalid: ignored
    if first >= size:
        raise UnsatisfiableRangeError(size)
    last = min(int(last_text), size - 1) if last_text else size - 1
    return ByteRange(first, last, size)
