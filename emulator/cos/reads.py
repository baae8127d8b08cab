"""GET and HEAD Object: preconditions, then a whole (200) or ranged (206) answer, or 304.

Order as in RFC 7232/7233: a missing object is 404 (NoSuchKey on GET, no body on HEAD), then
the If-* headers (emulator.cos.conditional), then Range (emulator.cos.ranges). A 206 carries
Content-Range and the length of the range but the whole object's ETag and CRC-64 (GET Object
sample 10). What a 304 carries follows the doc samples, which differ by method: GET 304 sends the
object's Content-Type, ETag and CRC-64; HEAD 304 sends Content-Type application/xml and no ETag.
``response-*`` overrides apply to GET 200/206 only. HEAD answers the headers GET would, without
the body. The object's file is opened together with its metadata (so an overwrite meanwhile
cannot mix two versions) and streamed by the HTTP handler; nothing is read here.
"""

from __future__ import annotations

from emulator.cos.conditional import NOT_MODIFIED, check_preconditions
from emulator.cos.errors import no_such_key
from emulator.cos.headers import CRC64_HEADER, object_headers, with_overrides
from emulator.cos.ranges import requested_range
from emulator.cos.store import ObjectStore, StoredObject
from emulator.wire import ApiRequest, Reply
from emulator.xmlreply import XML_CONTENT_TYPE


def _not_modified(request: ApiRequest, stored: StoredObject) -> Reply:
    if request.method == "HEAD":
        return Reply(NOT_MODIFIED, [("Content-Type", XML_CONTENT_TYPE)])
    headers = [("Content-Type", stored.content_type), ("ETag", f'"{stored.etag}"')]
    if stored.crc64 is not None:
        headers.append((CRC64_HEADER, stored.crc64))
    return Reply(NOT_MODIFIED, headers)


def read_object(store: ObjectStore, request: ApiRequest) -> Reply:
    """Answer GET or HEAD on an object of an existing bucket."""
    opened = store.open_object(request.bucket, request.key)
    if opened is None:
        if request.method == "HEAD":
            return Reply(404)  # COS answers HEAD 404 without a body
        raise no_such_key()
    stored, body = opened
    try:
        reply = _answer(request, stored)
    except BaseException:
        body.close()
        raise
    if request.method == "GET" and reply.status in (200, 206):
        reply.body_file = body  # the HTTP handler streams and closes it
    else:
        body.close()
    return reply


def _answer(request: ApiRequest, stored: StoredObject) -> Reply:
    if check_preconditions(request.headers, stored.etag, stored.last_modified) == NOT_MODIFIED:
        return _not_modified(request, stored)
    headers = object_headers(stored)
    if request.method == "GET":
        headers = with_overrides(headers, request.query)
    wanted = requested_range(request.headers.get("range"), stored.size)
    if wanted is None:
        return Reply(200, headers, content_length=stored.size)
    headers.append(("Content-Range", wanted.content_range))
    return Reply(206, headers, body_offset=wanted.first, content_length=wanted.length)
