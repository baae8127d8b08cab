"""What a created object announces (the COS trigger's facts), and announcing it safely.

A stored PUT announces ``cos:ObjectCreated:Put``, a completed multipart upload
``cos:ObjectCreated:CompleteMultipartUpload`` (SCF COS trigger doc), both before the reply is
sent; the callee must only queue the event. A failing callee is logged, never turned into a
failed upload. This module builds no SCF event (emulator.scf does) and does no I/O.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from emulator.cos.store import StoredObject
from emulator.wire import ApiRequest

LOG = logging.getLogger(__name__)
PUT_EVENT = "cos:ObjectCreated:Put"
COMPLETE_MULTIPART_EVENT = "cos:ObjectCreated:CompleteMultipartUpload"


@dataclass(frozen=True)
class ObjectCreated:
    """A stored upload, as the COS trigger needs it. ``key`` is raw; ``etag`` unquoted (the MD5
    hex for a PUT, ``<hex>-<parts>`` for a multipart object)."""

    bucket: str
    region: str
    key: str
    etag: str
    size: int
    content_type: str
    version_id: str | None
    event_name: str
    request_headers: dict[str, str]
    source_ip: str


OnObjectCreated = Callable[[ObjectCreated], None]


def announce(
    callee: OnObjectCreated | None,
    request: ApiRequest,
    stored: StoredObject,
    event_name: str,
    object_meta: Mapping[str, str] | None = None,
) -> None:
    """Tell ``callee`` about ``stored``; ``object_meta`` joins the request's headers (the
    trigger reads x-cos-meta-* from there, and a Complete request carries none of its own)."""
    if callee is None:
        return
    event = ObjectCreated(
        bucket=stored.bucket,
        region=request.region,
        key=stored.key,
        etag=stored.etag,
        size=stored.size,
        content_type=stored.content_type,
        version_id=stored.version_id,
        event_name=event_name,
        request_headers={**request.raw_headers, **(object_meta or {})},
        source_ip=request.client_ip,
    )
    try:
        callee(event)
    except Exception:  # the upload succeeded; a broken trigger must not fail it
        LOG.exception("on_object_created failed for %s", stored.key)
