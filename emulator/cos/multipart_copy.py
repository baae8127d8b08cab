"""Upload Part - Copy: which bytes of which stored object become the part.

``x-cos-copy-source`` is ``<bucket>-<appid>.cos.<region>.myqcloud.com/<URL-encoded key>`` (no
scheme; a ``?versionId=`` tail is ignored: emulated buckets are not versioned) and may name any
existing bucket of the emulator. ``x-cos-copy-source-range: bytes=first-last`` picks the bytes;
an empty value (cos-python-sdk-v5 always sends the header, empty by default) means the whole
object, a range outside the object is 400 InvalidArgument (COS's code is UNCERTAIN; S3's). The
four ``x-cos-copy-source-If-*`` headers are checked like GET's, and any failure (304 included)
is 412, as the Upload Part - Copy page says. It opens the source; the caller copies and closes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import BinaryIO
from urllib.parse import unquote

from emulator.cos.conditional import check_preconditions, precondition_failed
from emulator.cos.errors import no_such_bucket, no_such_key
from emulator.cos.store import ObjectStore
from emulator.wire import ApiRequest, ServiceError

_SOURCE = re.compile(
    r"^(?:https?://)?(?P<bucket>[a-z0-9](?:[a-z0-9-]*[a-z0-9])?-[0-9]+)\.cos\.[a-z0-9-]+\."
    r"(?:myqcloud\.com|tencentcos\.cn)/(?P<key>[^?]+)(?:\?.*)?$"
)
_RANGE = re.compile(r"^bytes=(\d+)-(\d+)$")
_CONDITIONS = ("if-match", "if-none-match", "if-modified-since", "if-unmodified-since")


@dataclass(frozen=True)
class CopySource:
    body: BinaryIO  # open on the source's current version; the caller closes it
    first: int
    length: int


def _invalid(message: str) -> ServiceError:
    return ServiceError(400, "InvalidArgument", message)


def _copy_range(value: str, size: int) -> tuple[int, int]:
    if not value.strip():
        return 0, size
    match = _RANGE.match(value.strip())
    if match is None:
        raise _invalid("x-cos-copy-source-range must look like bytes=first-last")
    first, last = int(match.group(1)), int(match.group(2))
    if first > last or last >= size:
        raise _invalid(f"x-cos-copy-source-range {value!r} is outside the {size}-byte source")
    return first, last - first + 1


def copy_source(store: ObjectStore, request: ApiRequest) -> CopySource:
    """The source bytes named by the request's x-cos-copy-source headers."""
    match = _SOURCE.match(request.headers["x-cos-copy-source"].strip())
    if match is None:
        raise _invalid("x-cos-copy-source must be <bucket>.cos.<region>.myqcloud.com/<key>")
    bucket, key = match["bucket"], unquote(match["key"])
    if not store.bucket_exists(bucket):
        raise no_such_bucket()
    conditions = {
        name: request.headers[f"x-cos-copy-source-{name}"]
        for name in _CONDITIONS
        if f"x-cos-copy-source-{name}" in request.headers
    }
    opened = store.open_object(bucket, key)
    if opened is None:
        raise no_such_key()
    stored, body = opened
    try:
        if check_preconditions(conditions, stored.etag, stored.last_modified) is not None:
            raise precondition_failed()
        copy_range = request.headers.get("x-cos-copy-source-range", "")
        first, length = _copy_range(copy_range, stored.size)
    except BaseException:
        body.close()
        raise
    return CopySource(body, first, length)
