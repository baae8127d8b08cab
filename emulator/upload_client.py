"""Upload a body to COS the way cos-python-sdk-v5's ``upload_file`` does, without the SDK.

Up to ``MULTIPART_THRESHOLD`` (1 MiB: ``upload_file``'s default ``PartSize=1`` and its rule
``if file_size <= 1024 * 1024 * PartSize``) it is one PUT Object; above, Initiate Multipart
Upload, 1 MiB parts in order, Complete. Parts are read one at a time, so a file costs one part of
memory. Requests go through the project's own ``shared`` Transport (signing, retries of 429/5xx).
Used by the demo and the soak driver; unlike the SDK it neither resumes nor uploads in parallel,
and it must never import cos-python-sdk-v5 (a test-only oracle).
"""

from __future__ import annotations

from collections.abc import Iterator
from html import escape
from pathlib import Path

from shared.models import ObjectRef
from shared.tencent.endpoints import cos_host
from shared.tencent.transport import Transport
from shared.tencent.xml_parser import element_to_tree, parse_xml

MULTIPART_THRESHOLD = 1024 * 1024
PART_SIZE = 1024 * 1024


def _parts(source: Path | bytes) -> Iterator[bytes]:
    if isinstance(source, bytes):
        for offset in range(0, len(source), PART_SIZE):
            yield source[offset : offset + PART_SIZE]
        return
    with source.open("rb") as stream:
        while chunk := stream.read(PART_SIZE):
            yield chunk


def _size(source: Path | bytes) -> int:
    return len(source) if isinstance(source, bytes) else source.stat().st_size


def complete_body(etags: list[str]) -> bytes:
    """The CompleteMultipartUpload document for parts 1..n with these (quoted) ETags."""
    parts = "".join(
        f"<Part><PartNumber>{number}</PartNumber><ETag>{escape(etag)}</ETag></Part>"
        for number, etag in enumerate(etags, start=1)
    )
    return f"<CompleteMultipartUpload>{parts}</CompleteMultipartUpload>".encode()


def upload_object(
    transport: Transport, obj: ObjectRef, source: Path | bytes, content_type: str
) -> str:
    """Store ``source`` at ``obj``; returns the object's ETag as COS answered it (unquoted)."""
    host = cos_host(obj.bucket, obj.region)
    if _size(source) <= MULTIPART_THRESHOLD:
        body = source if isinstance(source, bytes) else source.read_bytes()
        put = transport.request(
            "cos", "PUT", host, obj.key, headers={"Content-Type": content_type}, body=body
        )
        return put.headers.get("ETag", "").strip('"')
    initiated = transport.request(
        "cos",
        "POST",
        host,
        obj.key,
        params={"uploads": ""},
        headers={"Content-Type": content_type},
    )
    upload_id = str(element_to_tree(parse_xml(initiated.content))["UploadId"])
    etags = []
    for number, part in enumerate(_parts(source), start=1):
        answer = transport.request(
            "cos",
            "PUT",
            host,
            obj.key,
            params={"partNumber": str(number), "uploadId": upload_id},
            headers={"Content-Type": "application/octet-stream"},
            body=part,
        )
        etags.append(answer.headers["ETag"])
    completed = transport.request(
        "cos", "POST", host, obj.key, params={"uploadId": upload_id}, body=complete_body(etags)
    )
    return str(element_to_tree(parse_xml(completed.content))["ETag"]).strip('"')
