"""Multipart upload over HTTP: Initiate, Upload Part (and - Copy), Complete, Abort.

Shapes and codes follow the COS API pages (cos-facts.md section 1). Initiate keeps what a PUT
would (Content-Type, x-cos-meta-*, x-cos-tagging, standard headers) for the object Complete makes.
A part answers its MD5 as ETag and its CRC-64. Complete checks the listed parts: not ascending is
400 InvalidPartOrder; a gap, a part never uploaded or an ETag that differs is 400 InvalidPart (the
Complete page calls non-continuous part numbers InvalidPart; S3 would accept gaps; which COS does
is UNCERTAIN in cos-facts.md 1.4, the Complete page is followed); a listed part under 1 MiB other
than the last is 400 EntityTooSmall. The object's ETag is ``<32 hex>-<part count>``: MD5 over the
upload id and the parts' MD5s, so it is unique per upload and not the S3 formula, like COS's own
value ("a unique ID ... cannot be used for checking", Object overview). The completed object
fires ``cos:ObjectCreated:CompleteMultipartUpload``. Listing lives in emulator.cos.multipart_list,
the copy source in emulator.cos.multipart_copy. Buckets are checked by the caller; objects are
written only through ``ObjectStore.put_object``, never by touching the store's files.
"""

from __future__ import annotations

import hashlib

from emulator.cos.bodies import DigestMismatchError, files_chunks, stream_chunks
from emulator.cos.created import COMPLETE_MULTIPART_EVENT, OnObjectCreated, announce
from emulator.cos.errors import no_such_upload
from emulator.cos.headers import (
    CRC64_HEADER,
    content_md5,
    content_type,
    request_tags,
    stored_headers,
    user_meta,
)
from emulator.cos.listing import iso_time
from emulator.cos.multipart_copy import copy_source
from emulator.cos.multipart_store import MultipartStore, Part, Upload
from emulator.cos.store import ObjectStore
from emulator.cos.tagging import TagRules
from emulator.wire import ApiRequest, Reply, ServiceError
from emulator.xmlreply import XML_CONTENT_TYPE, XmlNode, to_xml
from shared.errors import MalformedBodyError
from shared.tencent.xml_parser import as_list, element_to_tree, parse_xml

MIN_PART_SIZE = 1024 * 1024  # "1 MB"; 1 MiB is what cos-python-sdk-v5 cuts by default
MAX_PART_NUMBER = 10_000
MAX_COMPLETE_BODY = 4 * 1024 * 1024
COMPLETE_NAMESPACE = "http://www.qcloud.com/document/product/436/7751"


def _malformed(detail: str) -> ServiceError:
    return ServiceError(400, "MalformedXML", f"The XML you provided was not well-formed: {detail}")


def _xml(root: str, nodes: list[XmlNode], headers: list[tuple[str, str]] | None = None) -> Reply:
    return Reply(200, [("Content-Type", XML_CONTENT_TYPE), *(headers or [])], to_xml(root, nodes))


def part_number(request: ApiRequest) -> int:
    # 400 InvalidArgument outside 1..10000: UNCERTAIN for COS (cos-facts.md 1.2), S3 does this
    text = request.param("partNumber") or ""
    if not (text.isascii() and text.isdigit() and 1 <= int(text) <= MAX_PART_NUMBER):
        raise ServiceError(400, "InvalidArgument", "partNumber must be an integer 1..10000")
    return int(text)


def multipart_etag(upload_id: str, parts: list[Part]) -> str:
    digest = hashlib.md5(upload_id.encode("ascii"), usedforsecurity=False)
    for part in parts:
        digest.update(bytes.fromhex(part.etag))
    return f"{digest.hexdigest()}-{len(parts)}"


def parse_complete_body(body: bytes) -> list[tuple[int, str]]:
    """``<CompleteMultipartUpload><Part><PartNumber/><ETag/></Part>…`` -> (number, etag)."""
    try:
        root = parse_xml(body)
    except MalformedBodyError as exc:
        raise _malformed(str(exc)) from exc
    if root.tag.rsplit("}", 1)[-1] != "CompleteMultipartUpload":
        raise _malformed("the root element must be <CompleteMultipartUpload>")
    listed = []
    for part in as_list(element_to_tree(root).get("Part")):
        number = part.get("PartNumber") if isinstance(part, dict) else None
        etag = part.get("ETag") if isinstance(part, dict) else None
        if not isinstance(number, str) or not number.strip().isdigit():
            raise _malformed("every <Part> needs a numeric <PartNumber>")
        if not isinstance(etag, str):
            raise _malformed("every <Part> needs an <ETag>")
        listed.append((int(number), etag.strip().strip('"').lower()))
    if not listed:
        raise _malformed("no <Part> is listed")
    return listed


def checked_parts(uploaded: dict[int, Part], listed: list[tuple[int, str]]) -> list[Part]:
    """The parts Complete names, after COS's checks (order, existence, ETag, minimum size)."""
    numbers = [number for number, _ in listed]
    for before, after in zip(numbers, numbers[1:]):
        if after <= before:
            raise ServiceError(
                400, "InvalidPartOrder", "The list of parts was not in ascending order."
            )
        if after != before + 1:
            raise ServiceError(400, "InvalidPart", "The part numbers are not continuous.")
    parts = []
    for number, etag in listed:
        part = uploaded.get(number)
        if part is None or part.etag != etag:
            raise ServiceError(
                400,
                "InvalidPart",
                f"Part {number} was not uploaded or its ETag does not match the listed one.",
            )
        parts.append(part)
    if any(part.size < MIN_PART_SIZE for part in parts[:-1]):
        raise ServiceError(
            400, "EntityTooSmall", "Each part except the last must be at least 1 MB."
        )
    return parts


class MultipartApi:
    """The object-level multipart operations of one emulator."""

    def __init__(
        self,
        store: ObjectStore,
        uploads: MultipartStore,
        on_object_created: OnObjectCreated | None = None,
        tag_rules: TagRules | None = None,
    ) -> None:
        self._store = store
        self._uploads = uploads
        self._on_object_created = on_object_created
        self._tag_rules = tag_rules or TagRules()

    def initiate(self, request: ApiRequest) -> Reply:
        headers = request.headers
        upload = self._uploads.initiate(
            request.bucket,
            request.key,
            content_type=content_type(headers),
            meta=user_meta(headers),
            tags=request_tags(headers, self._tag_rules),
            headers=stored_headers(headers),
        )
        nodes: list[XmlNode] = [
            ("Bucket", request.bucket),
            ("Key", request.key),
            ("UploadId", upload.upload_id),
        ]
        return _xml("InitiateMultipartUploadResult", nodes)

    def _upload(self, request: ApiRequest) -> Upload:
        upload = self._uploads.get(request.bucket, request.param("uploadId") or "", request.key)
        if upload is None:
            request.body.drain()
            raise no_such_upload()
        return upload

    def upload_part(self, request: ApiRequest) -> Reply:
        number = part_number(request)
        upload = self._upload(request)
        if "x-cos-copy-source" in request.headers:
            return self._copy_part(request, upload, number)
        try:
            part = self._uploads.put_part(
                upload, number, request.body.chunks(), content_md5(request.headers)
            )
        except DigestMismatchError as exc:
            raise ServiceError(
                400, "BadDigest", "The Content-MD5 does not match the body."
            ) from exc
        if part is None:
            raise no_such_upload()
        return Reply(200, [("ETag", f'"{part.etag}"'), (CRC64_HEADER, part.crc64)])

    def _copy_part(self, request: ApiRequest, upload: Upload, number: int) -> Reply:
        request.body.drain()
        source = copy_source(self._store, request)
        with source.body:
            chunks = stream_chunks(source.body, source.first, source.length)
            part = self._uploads.put_part(upload, number, chunks)
        if part is None:
            raise no_such_upload()
        nodes: list[XmlNode] = [
            ("ETag", f'"{part.etag}"'),
            ("LastModified", iso_time(part.last_modified)),
        ]
        return _xml("CopyPartResult", nodes, [(CRC64_HEADER, part.crc64)])

    def abort(self, request: ApiRequest) -> Reply:
        upload_id = request.param("uploadId") or ""
        if not self._uploads.abort(request.bucket, upload_id, request.key):
            raise no_such_upload()
        return Reply(204)

    def complete(self, request: ApiRequest) -> Reply:
        upload = self._uploads.claim(request.bucket, request.param("uploadId") or "", request.key)
        if upload is None:
            request.body.drain()
            raise no_such_upload()
        try:
            listed = parse_complete_body(request.body.read_all(MAX_COMPLETE_BODY))
            parts = checked_parts(upload.parts, listed)
            stored = self._store.put_object(
                upload.bucket,
                upload.key,
                files_chunks(self._uploads.part_path(upload, p.number) for p in parts),
                content_type=upload.content_type,
                meta=upload.meta,
                tags=upload.tags,
                headers=upload.headers,
                etag=multipart_etag(upload.upload_id, parts),
            )
        except BaseException:
            self._uploads.restore(upload)
            raise
        self._uploads.discard(upload)
        announce(self._on_object_created, request, stored, COMPLETE_MULTIPART_EVENT, upload.meta)
        host = f"{request.bucket}.cos.{request.region}.myqcloud.com"
        nodes: list[XmlNode] = [
            ("Location", f"http://{host}/{request.key}"),
            ("Bucket", request.bucket),
            ("Key", request.key),
            ("ETag", f'"{stored.etag}"'),
        ]
        body = to_xml("CompleteMultipartUploadResult", nodes).replace(
            b"<CompleteMultipartUploadResult>",
            f'<CompleteMultipartUploadResult xmlns="{COMPLETE_NAMESPACE}">'.encode("ascii"),
            1,
        )
        headers = [("Content-Type", XML_CONTENT_TYPE), (CRC64_HEADER, stored.crc64 or "0")]
        return Reply(200, headers, body)
