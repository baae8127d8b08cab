"""The emulator's COS XML API for one bucket request: dispatch, objects and object tagging.

PUT/GET/HEAD/DELETE object (a PUT's ETag is the quoted MD5 hex of the body; every object has
its CRC-64 in ``x-cos-hash-crc64ecma``), PUT/GET/DELETE ``?tagging`` (limits in
``emulator.cos.tagging``; tagging fires no event); GET/HEAD with Range and If-* live in
``emulator.cos.reads``, multipart upload in ``emulator.cos.multipart``, bucket requests and their
existence in ``emulator.cos.buckets``. A request on a missing bucket is 404 NoSuchBucket. A stored
PUT calls ``on_object_created`` before the reply is sent; the callee must only queue it.
Signatures are checked by the server before anything here runs; errors are raised as
``ServiceError`` and rendered by the server.
"""

from __future__ import annotations

from collections.abc import Callable

from emulator.cos.buckets import bucket_request
from emulator.cos.created import PUT_EVENT, ObjectCreated, OnObjectCreated, announce
from emulator.cos.errors import no_such_bucket, no_such_key
from emulator.cos.headers import (
    CRC64_HEADER,
    content_md5,
    content_type,
    request_tags,
    stored_headers,
    user_meta,
)
from emulator.cos.multipart import MultipartApi
from emulator.cos.multipart_list import list_parts
from emulator.cos.multipart_store import MultipartStore
from emulator.cos.reads import read_object
from emulator.cos.store import DigestMismatchError, ObjectStore
from emulator.cos.tagging import TagRules, parse_tagging_body, tagging_nodes
from emulator.wire import ApiRequest, Reply, ServiceError
from emulator.xmlreply import XML_CONTENT_TYPE, XmlNode, to_xml

__all__ = ["CosApi", "ObjectCreated"]
MAX_TAGGING_BODY = 64 * 1024


def _xml_reply(root: str, nodes: list[XmlNode], status: int = 200) -> Reply:
    return Reply(status, [("Content-Type", XML_CONTENT_TYPE)], to_xml(root, nodes))


def _not_allowed(request: ApiRequest, what: str) -> ServiceError:
    return ServiceError(405, "MethodNotAllowed", f"{request.method} {what} is not allowed.")


class CosApi:
    def __init__(
        self,
        store: ObjectStore,
        on_object_created: OnObjectCreated | None = None,
        uploads: MultipartStore | None = None,
        tag_rules: TagRules | None = None,
    ) -> None:
        self._store = store
        self._uploads = uploads if uploads is not None else MultipartStore(store.data_dir)
        self._on_object_created = on_object_created
        self._tag_rules = tag_rules or TagRules()
        self._multipart = MultipartApi(store, self._uploads, on_object_created, self._tag_rules)

    def handle(self, request: ApiRequest) -> Reply:
        """Answer one request on ``<bucket>.cos.<region>.myqcloud.com``."""
        if not request.key:
            return bucket_request(self._store, self._uploads, request)
        if not self._store.bucket_exists(request.bucket):
            request.body.drain()
            if request.method == "HEAD":
                return Reply(404)  # HEAD answers carry no body
            raise no_such_bucket()
        operation = self._operation(request)
        if operation is None:
            request.body.drain()
            raise _not_allowed(request, "on this resource")
        return operation(request)

    def _operation(self, request: ApiRequest) -> Callable[[ApiRequest], Reply] | None:
        method = request.method
        if request.has_param("uploads"):
            return self._multipart.initiate if method == "POST" else None
        if request.has_param("uploadId"):
            return {
                "PUT": self._multipart.upload_part,
                "POST": self._multipart.complete,
                "DELETE": self._multipart.abort,
                "GET": lambda r: list_parts(self._uploads, r),
            }.get(method)
        if request.has_param("tagging"):
            return self._tagging_request
        return {
            "PUT": self._put_object,
            "GET": lambda r: read_object(self._store, r),
            "HEAD": lambda r: read_object(self._store, r),
            "DELETE": self._delete_object,
        }.get(method)

    # -- objects --------------------------------------------------------------------------------
    def _put_object(self, request: ApiRequest) -> Reply:
        if "x-cos-copy-source" in request.headers:
            request.body.drain()
            raise ServiceError(501, "NotImplemented", "PUT Object - Copy is not emulated.")
        headers = request.headers
        try:
            stored = self._store.put_object(
                request.bucket,
                request.key,
                request.body.chunks(),
                content_type=content_type(headers),
                meta=user_meta(headers),
                tags=request_tags(headers, self._tag_rules),
                headers=stored_headers(headers),
                expected_md5=content_md5(headers),
            )
        except DigestMismatchError as exc:
            raise ServiceError(
                400, "BadDigest", "The Content-MD5 does not match the body."
            ) from exc
        announce(self._on_object_created, request, stored, PUT_EVENT)
        reply_headers = [("ETag", f'"{stored.etag}"'), (CRC64_HEADER, stored.crc64 or "0")]
        if stored.version_id:
            reply_headers.append(("x-cos-version-id", stored.version_id))
        return Reply(200, reply_headers)

    def _delete_object(self, request: ApiRequest) -> Reply:
        self._store.delete(request.bucket, request.key)
        return Reply(204)  # also for a key that does not exist, as COS

    # -- tagging --------------------------------------------------------------------------------
    def _tagging_request(self, request: ApiRequest) -> Reply:
        # versionId is accepted and ignored: emulated buckets are not versioned.
        stored = self._store.head(request.bucket, request.key)
        if stored is None:
            request.body.drain()
            raise no_such_key()
        if request.method == "GET":
            return _xml_reply("Tagging", tagging_nodes(stored.tags))
        if request.method == "DELETE":
            self._store.put_tags(request.bucket, request.key, ())
            return Reply(204)
        if request.method == "PUT":
            tags = parse_tagging_body(request.body.read_all(MAX_TAGGING_BODY))
            self._tag_rules.validate(tags)
            if self._store.put_tags(request.bucket, request.key, tags) is None:
                raise no_such_key()
            return Reply(200)
        raise _not_allowed(request, "?tagging")
