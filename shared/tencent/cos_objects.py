"""Small COS objects read and written whole: GET Object and PUT Object (``ObjectBodies``).

The batch path keeps its records and manifests in the bucket (``shared.contract.batch``); they
are kilobytes to a few megabytes, so a body is read into memory and refused above
``max_bytes``, and written with Content-MD5 so COS rejects a body damaged on the way. Wire
details live in ``shared.tencent.transport``. This module must not log object contents.
"""

from __future__ import annotations

import base64
import hashlib

from shared.errors import CosError, CosNotFoundError, EventError
from shared.models import ObjectRef
from shared.tencent.endpoints import cos_host
from shared.tencent.transport import Transport


def _key(obj: ObjectRef) -> str:
    if obj.key in ("", "/"):
        raise EventError("object key is empty")
    return obj.key


class CosObjectBodies:
    """GET / PUT Object on ``<bucket>.cos.<region>.myqcloud.com`` through one ``Transport``."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    def get_object_bytes(
        self, obj: ObjectRef, *, max_bytes: int, deadline: float | None = None
    ) -> bytes | None:
        """The whole body, or None for 404; CosError when it is larger than ``max_bytes``."""
        try:
            response = self._transport.request(
                "cos", "GET", cos_host(obj.bucket, obj.region), _key(obj), deadline=deadline
            )
        except CosNotFoundError:
            return None
        body = response.content
        if len(body) > max_bytes:
            raise CosError(
                response.status_code,
                "ObjectTooLarge",
                f"{obj.key!r} is {len(body)} bytes; at most {max_bytes} are read",
                response.headers.get("x-cos-request-id"),
            )
        return body

    def put_object_bytes(
        self, obj: ObjectRef, body: bytes, *, content_type: str, deadline: float | None = None
    ) -> None:
        """PUT Object with ``body`` (replaces the object atomically, as COS does)."""
        digest = hashlib.md5(body, usedforsecurity=False).digest()
        headers = {
            "Content-Type": content_type,
            "Content-MD5": base64.b64encode(digest).decode("ascii"),
        }
        self._transport.request(
            "cos",
            "PUT",
            cos_host(obj.bucket, obj.region),
            _key(obj),
            headers=headers,
            body=body,
            deadline=deadline,
        )
