"""The emulator's COS XML API for one bucket request: objects, object tagging, GET Bucket.

PUT/GET/HEAD/DELETE object (ETag = quoted MD5 hex of the body), PUT/GET/DELETE ``?tagging``
(limits in ``emulator.cos.tagging``; tagging fires no event) and GET Bucket (ListBucketResult).
A stored PUT calls ``on_object_created`` before the reply is sent; the callee must only queue
it. Signatures are checked by the server before anything here runs; errors are raised as
``ServiceError`` and rendered by the server.
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import formatdate

from emulator.cos.listing import list_bucket
from emulator.cos.store import DigestMismatchError, ObjectStore, StoredObject
from emulator.cos.tagging import TagRules, parse_tagging_body, parse_tagging_header, tagging_nodes
from emulator.wire import ApiRequest, Reply, ServiceError
from emulator.xmlreply import XML_CONTENT_TYPE, XmlNode, to_xml

LOG = logging.getLogger(__name__)
MAX_TAGGING_BODY = 64 * 1024
DEFAULT_CONTENT_TYPE = "application/octet-stream"
META_PREFIX = "x-cos-meta-"


@dataclass(frozen=True)
class ObjectCreated:
    """A stored upload, as the COS trigger needs it. ``key`` is raw; ``etag`` unquoted MD5 hex."""

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


def http_date(epoch: float) -> str:
    return formatdate(epoch, usegmt=True)


def object_headers(obj: StoredObject) -> list[tuple[str, str]]:
    headers = [
        ("Content-Type", obj.content_type),
        ("ETag", f'"{obj.etag}"'),
        ("Last-Modified", http_date(obj.last_modified)),
        ("Accept-Ranges", "bytes"),
    ]
    headers.extend(sorted(obj.meta.items()))
    if obj.tags:
        headers.append(("x-cos-tagging-count", str(len(obj.tags))))
    if obj.version_id:
        headers.append(("x-cos-version-id", obj.version_id))
    return headers


def _xml_reply(root: str, nodes: list[XmlNode], status: int = 200) -> Reply:
    return Reply(status, [("Content-Type", XML_CONTENT_TYPE)], to_xml(root, nodes))


def _no_such_key() -> ServiceError:
    return ServiceError(404, "NoSuchKey", "The specified key does not exist.")


def _content_md5(request: ApiRequest) -> bytes | None:
    value = request.headers.get("content-md5")
    if value is None:
        return None
    try:
        digest = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        digest = b""
    if len(digest) != 16:
        raise ServiceError(400, "InvalidDigest", "The Content-MD5 you specified is not valid.")
    return digest


class CosApi:
    def __init__(
        self,
        store: ObjectStore,
        on_object_created: Callable[[ObjectCreated], None] | None = None,
        tag_rules: TagRules | None = None,
    ) -> None:
        self._store = store
        self._on_object_created = on_object_created
        self._tag_rules = tag_rules or TagRules()

    def handle(self, request: ApiRequest) -> Reply:
        """Answer one request on ``<bucket>.cos.<region>.myqcloud.com``."""
        if not request.key:
            return self._bucket_request(request)
        if request.has_param("uploads") or request.has_param("uploadId"):
            raise ServiceError(501, "NotImplemented", "Multipart upload is not emulated.")
        if request.has_param("tagging"):
            return self._tagging_request(request)
        operations = {
            "PUT": self._put_object,
            "GET": self._get_object,
            "HEAD": self._get_object,
            "DELETE": self._delete_object,
        }
        operation = operations.get(request.method)
        if operation is None:
            raise ServiceError(405, "MethodNotAllowed", f"{request.method} is not allowed here.")
        return operation(request)

    # -- objects --------------------------------------------------------------------------------
    def _put_object(self, request: ApiRequest) -> Reply:
        tags: tuple[tuple[str, str], ...] = ()
        if "x-cos-tagging" in request.headers:
            tags = parse_tagging_header(request.headers["x-cos-tagging"])
            self._tag_rules.validate(tags)
        meta = {k: v for k, v in request.headers.items() if k.startswith(META_PREFIX)}
        try:
            stored = self._store.put_object(
                request.bucket,
                request.key,
                request.body.chunks(),
                content_type=request.headers.get("content-type") or DEFAULT_CONTENT_TYPE,
                meta=meta,
                tags=tags,
                expected_md5=_content_md5(request),
            )
        except DigestMismatchError as exc:
            raise ServiceError(
                400, "BadDigest", "The Content-MD5 does not match the body."
            ) from exc
        self._announce(request, stored)
        headers = [("ETag", f'"{stored.etag}"')]
        if stored.version_id:
            headers.append(("x-cos-version-id", stored.version_id))
        return Reply(200, headers)

    def _announce(self, request: ApiRequest, stored: StoredObject) -> None:
        if self._on_object_created is None:
            return
        event = ObjectCreated(
            bucket=stored.bucket,
            region=request.region,
            key=stored.key,
            etag=stored.etag,
            size=stored.size,
            content_type=stored.content_type,
            version_id=stored.version_id,
            event_name="cos:ObjectCreated:Put",
            request_headers=dict(request.raw_headers),
            source_ip=request.client_ip,
        )
        try:
            self._on_object_created(event)
        except Exception:  # the upload succeeded; a broken trigger must not fail it
            LOG.exception("on_object_created failed for %s", stored.key)

    def _get_object(self, request: ApiRequest) -> Reply:
        stored = self._store.head(request.bucket, request.key)
        if stored is None:
            if request.method == "HEAD":
                return Reply(404)  # COS answers HEAD 404 without a body
            raise _no_such_key()
        path = self._store.body_path(request.bucket, request.key)
        headers = object_headers(stored)
        if request.method == "HEAD":
            return Reply(200, headers, content_length=stored.size)
        return Reply(200, headers, body_file=path, content_length=stored.size)

    def _delete_object(self, request: ApiRequest) -> Reply:
        self._store.delete(request.bucket, request.key)
        return Reply(204)  # also for a key that does not exist, as COS

    # -- tagging --------------------------------------------------------------------------------
    def _tagging_request(self, request: ApiRequest) -> Reply:
        # versionId is accepted and ignored: emulated buckets are not versioned.
        stored = self._store.head(request.bucket, request.key)
        if stored is None:
            request.body.drain()
            raise _no_such_key()
        if request.method == "GET":
            return _xml_reply("Tagging", tagging_nodes(stored.tags))
        if request.method == "DELETE":
            self._store.put_tags(request.bucket, request.key, ())
            return Reply(204)
        if request.method == "PUT":
            tags = parse_tagging_body(request.body.read_all(MAX_TAGGING_BODY))
            self._tag_rules.validate(tags)
            if self._store.put_tags(request.bucket, request.key, tags) is None:
                raise _no_such_key()
            return Reply(200)
        raise ServiceError(405, "MethodNotAllowed", f"{request.method} ?tagging is not allowed.")

    # -- bucket ---------------------------------------------------------------------------------
    def _bucket_request(self, request: ApiRequest) -> Reply:
        if request.method == "GET":
            return list_bucket(self._store, request)
        if request.method in ("PUT", "HEAD"):
            return Reply(200)  # buckets exist on first use
        raise ServiceError(
            405, "MethodNotAllowed", f"{request.method} on a bucket is not emulated."
        )
