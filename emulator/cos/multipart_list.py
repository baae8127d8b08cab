"""List Parts (``GET /<key>?uploadId``) and List Multipart Uploads (``GET /?uploads``).

Shapes follow the COS doc samples (cos-facts.md 1.7, 1.8), including what cos-python-sdk-v5's
resume logic relies on: ``IsTruncated`` is lower-case ``true``/``false``, ``NextPartNumberMarker``
comes with a truncated page, a part's ETag is its quoted MD5, parts ascend by number, and uploads
come by key and then oldest first (the SDK resumes the last one of its key). Empty parameters (the
SDK sends ``delimiter=`` and ``key-marker=``) mean "not given"; ``encoding-type=url`` encodes keys
and prefixes as GET Bucket does. ``Initiated`` is ISO 8601 like ListParts' LastModified: the doc's
sample format is from 2017 and the current one is UNCERTAIN (cos-facts.md 1.8). Read-only.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

from emulator.cos.errors import no_such_upload
from emulator.cos.listing import iso_time, rolled_up
from emulator.cos.multipart_store import MultipartStore, Upload
from emulator.wire import ApiRequest, Reply, ServiceError
from emulator.xmlreply import XML_CONTENT_TYPE, XmlNode, to_xml

MAX_LISTED = 1000
# The emulator has one account: uin of emulator.scf's FunctionIdentity default.
OWNER_UIN = "100000000001"


def _bounded(request: ApiRequest, name: str, default: int, low: int) -> int:
    value = request.param(name)
    if value is None or value == "":
        return default
    if not (value.isascii() and value.isdigit()) or int(value) < low:
        raise ServiceError(400, "InvalidArgument", f"{name} must be an integer >= {low}")
    return min(int(value), MAX_LISTED) if name.startswith("max-") else int(value)


def _encoder(request: ApiRequest) -> Callable[[str], str]:
    if (request.param("encoding-type") or "").lower() == "url":
        return lambda text: quote(text.encode("utf-8"), safe="/-_.~")
    return str


def _people(bucket: str) -> list[XmlNode]:
    appid = bucket.rsplit("-", 1)[-1]
    principal = f"qcs::cam::uin/{OWNER_UIN}:uin/{OWNER_UIN}"
    return [
        ("Initiator", [("ID", principal), ("DisplayName", OWNER_UIN)]),
        ("Owner", [("ID", appid), ("DisplayName", appid)]),
    ]


def _reply(root: str, nodes: list[XmlNode]) -> Reply:
    return Reply(200, [("Content-Type", XML_CONTENT_TYPE)], to_xml(root, nodes))


def list_parts(uploads: MultipartStore, request: ApiRequest) -> Reply:
    upload = uploads.get(request.bucket, request.param("uploadId") or "", request.key)
    if upload is None:
        raise no_such_upload()
    marker = _bounded(request, "part-number-marker", 0, 0)
    max_parts = _bounded(request, "max-parts", MAX_LISTED, 1)
    shown = _encoder(request)
    after = [part for part in uploads.parts_of(upload) if part.number > marker]
    page, truncated = after[:max_parts], len(after) > max_parts
    encoding = "url" if shown is not str else None
    nodes: list[XmlNode] = [
        ("Bucket", request.bucket),
        ("EncodingType", encoding),
        ("Key", shown(upload.key)),
        ("UploadId", upload.upload_id),
        *_people(request.bucket),
        ("PartNumberMarker", str(marker)),
    ]
    nodes += [
        (
            "Part",
            [
                ("PartNumber", str(part.number)),
                ("LastModified", iso_time(part.last_modified)),
                ("ETag", f'"{part.etag}"'),
                ("Size", str(part.size)),
            ],
        )
        for part in page
    ]
    nodes += [
        ("StorageClass", "Standard"),
        ("MaxParts", str(max_parts)),
        ("IsTruncated", "true" if truncated else "false"),
    ]
    if truncated and page:
        nodes.append(("NextPartNumberMarker", str(page[-1].number)))
    return _reply("ListPartsResult", nodes)


def _after_markers(
    uploads: list[Upload], key_marker: str, id_marker: str, delimiter: str
) -> list[Upload]:
    if not key_marker:
        return uploads  # upload-id-marker is ignored without key-marker (List Multipart Uploads)
    marker = key_marker.encode("utf-8")
    # a marker that is a common prefix (a page ended on it) skips everything under it
    skip_under = key_marker if delimiter and key_marker.endswith(delimiter) else None
    return [
        u
        for u in uploads
        if not (skip_under and u.key.startswith(skip_under))
        and (
            u.key.encode("utf-8") > marker
            or (id_marker and u.key == key_marker and u.upload_id > id_marker)
        )
    ]


def list_uploads(uploads: MultipartStore, request: ApiRequest) -> Reply:
    prefix = request.param("prefix") or ""
    delimiter = request.param("delimiter") or ""
    key_marker = request.param("key-marker") or ""
    id_marker = request.param("upload-id-marker") or ""
    max_uploads = _bounded(request, "max-uploads", MAX_LISTED, 1)
    shown = _encoder(request)
    candidates = [u for u in uploads.uploads(request.bucket) if u.key.startswith(prefix)]
    listed: list[Upload] = []
    prefixes: list[str] = []
    truncated = False
    for upload in _after_markers(candidates, key_marker, id_marker, delimiter):
        rolled = rolled_up(upload.key, prefix, delimiter)
        if rolled is not None and prefixes and prefixes[-1] == rolled:
            continue
        if len(listed) + len(prefixes) >= max_uploads:
            truncated = True
            break
        if rolled is not None:
            prefixes.append(rolled)
        else:
            listed.append(upload)
    nodes: list[XmlNode] = [
        ("Bucket", request.bucket),
        ("Encoding-Type", "url" if shown is not str else None),
        ("KeyMarker", shown(key_marker) or None),
        ("UploadIdMarker", id_marker or None),
        ("MaxUploads", str(max_uploads)),
        ("Prefix", shown(prefix) or None),
    ]
    if delimiter:
        nodes.append(("Delimiter", shown(delimiter)))
    nodes.append(("IsTruncated", "true" if truncated else "false"))
    if truncated:
        nodes += _next_markers(listed, prefixes, shown)
    nodes += [("Upload", _upload_nodes(upload, shown)) for upload in listed]
    nodes += [("CommonPrefixes", [("Prefix", shown(p))]) for p in prefixes]
    return _reply("ListMultipartUploadsResult", nodes)


def _next_markers(
    listed: list[Upload], prefixes: list[str], shown: Callable[[str], str]
) -> list[XmlNode]:
    last_upload = listed[-1] if listed else None
    last_prefix = prefixes[-1] if prefixes else ""
    if last_upload is not None and last_upload.key.encode() >= last_prefix.encode():
        return [
            ("NextKeyMarker", shown(last_upload.key)),
            ("NextUploadIdMarker", last_upload.upload_id),
        ]
    return [("NextKeyMarker", shown(last_prefix)), ("NextUploadIdMarker", None)]


def _upload_nodes(upload: Upload, shown: Callable[[str], str]) -> list[XmlNode]:
    return [
        ("Key", shown(upload.key)),
        ("UploadId", upload.upload_id),
        ("StorageClass", "Standard"),
        *_people(upload.bucket),
        ("Initiated", iso_time(upload.initiated)),
    ]
