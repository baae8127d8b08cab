"""COS object client: HEAD Object, GET/PUT Object tagging, GET Bucket (ports.ObjectStore),
PUT/GET Object with user metadata for result documents (ports.DocumentStore), and small objects
read and written whole for the batch path's records and manifests (batch_jobs.ObjectBodies: a
body is refused above ``max_bytes`` and written with Content-MD5, so COS rejects one damaged on
the way).

Wire details (signing, encoding, retries, error mapping) live in ``shared.tencent.transport``; XML
in ``shared.tencent.xml_answers``. This module must not parse XML itself, merge or validate tag
content (that is ``shared.media.tags``), or log object metadata beyond keys.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable, Mapping
from typing import TypeVar

import requests

from shared.errors import CosError, CosNotFoundError, EventError, MalformedBodyError
from shared.models import BucketPage, ObjectHead, ObjectRef, TagSet
from shared.tencent.endpoints import cos_host
from shared.tencent.transport import Transport
from shared.tencent.xml_answers import parse_list_bucket, parse_tagging
from shared.tencent.xml_requests import build_tagging

NO_TAG_SET = "NoSuchTagSet"
META_PREFIX = "x-cos-meta-"
_DECIMAL = re.compile("[0-9]{1,20}")  # bytes; COS objects are far below 10**20
Parsed = TypeVar("Parsed")


def _object_key(obj: ObjectRef) -> str:
    # "" and "/" would address the bucket itself, not an object.
    if obj.key in ("", "/"):
        raise EventError("object key is empty")
    return obj.key


def _parsed(response: requests.Response, parse: Callable[[bytes], Parsed]) -> Parsed:
    """A 2xx answer that is not a COS document is COS's fault (a CosError, 502 upstream), never
    the caller's: left as MalformedBodyError it would read as bad callback input (400)."""
    try:
        return parse(response.content)
    except MalformedBodyError as exc:
        raise CosError(
            response.status_code,
            "MalformedResponse",
            f"COS answered a document that cannot be used: {type(exc).__name__}",
            response.headers.get("x-cos-request-id"),
        ) from exc


def _content_length(response: requests.Response) -> int:
    """HEAD's Content-Length: one plain decimal. Anything else (missing, "12abc", or repeated as
    "2561690, 2561690", which RFC 9110 section 8.6 lets a recipient reject) is COS's fault."""
    value = response.headers.get("Content-Length")
    if value is None or not _DECIMAL.fullmatch(value.strip()):
        raise CosError(
            response.status_code,
            "MalformedResponse",
            "HEAD answered without a usable Content-Length",
            response.headers.get("x-cos-request-id"),
        )
    return int(value)


def _tagging_params(obj: ObjectRef) -> dict[str, str]:
    params = {"tagging": ""}
    if obj.version_id:
        params["versionId"] = obj.version_id
    return params


class CosClient:
    """COS calls on ``<bucket>.cos.<region>.myqcloud.com`` through one ``Transport``."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    def head_object(self, obj: ObjectRef, *, deadline: float | None = None) -> ObjectHead:
        params = {"versionId": obj.version_id} if obj.version_id else {}
        response = self._transport.request(
            "cos",
            "HEAD",
            cos_host(obj.bucket, obj.region),
            _object_key(obj),
            params=params,
            deadline=deadline,
        )
        headers = response.headers
        return ObjectHead(
            etag=headers.get("ETag", "").strip('"'),
            size=_content_length(response),
            content_type=headers.get("Content-Type"),
            version_id=headers.get("x-cos-version-id"),
            last_modified=headers.get("Last-Modified"),
        )

    def get_object_tagging(self, obj: ObjectRef, *, deadline: float | None = None) -> TagSet:
        """The object's tags; an object that never had tags (404 NoSuchTagSet) has none."""
        try:
            response = self._transport.request(
                "cos",
                "GET",
                cos_host(obj.bucket, obj.region),
                _object_key(obj),
                params=_tagging_params(obj),
                deadline=deadline,
            )
        except CosNotFoundError as exc:
            if exc.code == NO_TAG_SET:
                return ()
            raise
        return _parsed(response, parse_tagging)

    def put_object_tagging(
        self, obj: ObjectRef, tags: TagSet, *, deadline: float | None = None
    ) -> None:
        """Replace the whole tag set (COS has no "add one tag" call)."""
        self._transport.request(
            "cos",
            "PUT",
            cos_host(obj.bucket, obj.region),
            _object_key(obj),
            params=_tagging_params(obj),
            headers={"Content-Type": "application/xml"},
            body=build_tagging(tags),
            deadline=deadline,
        )

    def list_objects(
        self,
        bucket: str,
        region: str,
        *,
        prefix: str = "",
        marker: str = "",
        max_keys: int = 1000,
        deadline: float | None = None,
    ) -> BucketPage:
        """One page of GET Bucket. Keys come URL-encoded (any byte survives XML) and are decoded."""
        params = {"prefix": prefix, "marker": marker}
        params = {name: value for name, value in params.items() if value}
        params["max-keys"] = str(max_keys)
        params["encoding-type"] = "url"
        response = self._transport.request(
            "cos", "GET", cos_host(bucket, region), "/", params=params, deadline=deadline
        )
        return _parsed(response, parse_list_bucket)

    def put_object(
        self,
        obj: ObjectRef,
        body: bytes,
        *,
        content_type: str,
        metadata: Mapping[str, str],
        deadline: float | None = None,
    ) -> None:
        """PUT Object: ``body`` with ``Content-Type`` and ``x-cos-meta-<name>`` headers."""
        headers = {"Content-Type": content_type}
        headers.update({META_PREFIX + name: value for name, value in metadata.items()})
        self._put(obj, body, headers, deadline)

    def put_object_bytes(
        self, obj: ObjectRef, body: bytes, *, content_type: str, deadline: float | None = None
    ) -> None:
        """PUT Object with ``body`` and its Content-MD5 (replaces the object atomically)."""
        digest = hashlib.md5(body, usedforsecurity=False).digest()
        headers = {
            "Content-Type": content_type,
            "Content-MD5": base64.b64encode(digest).decode("ascii"),
        }
        self._put(obj, body, headers, deadline)

    def _put(
        self, obj: ObjectRef, body: bytes, headers: dict[str, str], deadline: float | None
    ) -> None:
        self._transport.request(
            "cos",
            "PUT",
            cos_host(obj.bucket, obj.region),
            _object_key(obj),
            headers=headers,
            body=body,
            deadline=deadline,
        )

    def head_metadata(self, obj: ObjectRef, *, deadline: float | None = None) -> dict[str, str]:
        """HEAD Object's ``x-cos-meta-*`` headers, names lower case without the prefix."""
        response = self._transport.request(
            "cos", "HEAD", cos_host(obj.bucket, obj.region), _object_key(obj), deadline=deadline
        )
        return {
            name.lower()[len(META_PREFIX) :]: value
            for name, value in response.headers.items()
            if name.lower().startswith(META_PREFIX)
        }

    def get_object(self, obj: ObjectRef, *, deadline: float | None = None) -> bytes:
        """GET Object: the whole body (result documents are small)."""
        params = {"versionId": obj.version_id} if obj.version_id else {}
        response = self._transport.request(
            "cos",
            "GET",
            cos_host(obj.bucket, obj.region),
            _object_key(obj),
            params=params,
            deadline=deadline,
        )
        return bytes(response.content)

    def get_object_bytes(
        self, obj: ObjectRef, *, max_bytes: int, deadline: float | None = None
    ) -> bytes | None:
        """The whole body, or None for 404; CosError when it is larger than ``max_bytes``."""
        try:
            body = self.get_object(obj, deadline=deadline)
        except CosNotFoundError:
            return None
        if len(body) > max_bytes:
            raise CosError(
                200,
                "ObjectTooLarge",
                f"{obj.key!r} is {len(body)} bytes; at most {max_bytes} are read",
            )
        return body
