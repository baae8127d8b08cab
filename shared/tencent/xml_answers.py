"""The documents COS and CI answer with, parsed into typed values: tags, errors, jobs, listings.

Every body goes through ``shared.tencent.xml_parser`` (defusedxml, depth limit); request bodies
are built in ``shared.tencent.xml_requests``. A document of the wrong shape is a
``MalformedBodyError`` (the clients turn it into a 502-class upstream error). No I/O here.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

from shared.errors import MalformedBodyError
from shared.media.tree_values import optional_text
from shared.models import BucketPage, JobsPage, ListedObject, TagSet
from shared.records import record
from shared.tencent.jobs_detail import job_from_tree
from shared.tencent.xml_parser import as_list, mappings, parse_document

_SIZE = re.compile("[0-9]{1,20}")  # bytes; COS objects are far below 10**20


def parse_tagging(body: bytes) -> TagSet:
    """GET ?tagging answer -> ((key, value), ...) in document order; no TagSet or Tag -> ()."""
    tree = parse_document(body, "Tagging")
    tags = []
    for tag_set in mappings(tree.get("TagSet"), "TagSet"):
        for tag in mappings(tag_set.get("Tag"), "Tag"):
            key, value = tag.get("Key"), tag.get("Value", "")
            if not isinstance(key, str) or not key or not isinstance(value, str):
                raise MalformedBodyError("a <Tag> needs a text <Key> and a text <Value>")
            tags.append((key, value))
    return tuple(tags)


@record
class ErrorBody:
    """The <Error> document COS and CI send with 3xx/4xx/5xx answers."""

    code: str
    message: str
    request_id: str | None
    resource: str | None
    trace_id: str | None = None


def parse_error_body(body: bytes) -> ErrorBody | None:
    """<Error> -> ErrorBody; None for an empty, unparsable, refused or other body. Never raises."""
    if not body or not body.strip():
        return None
    try:
        tree = parse_document(body, "Error")
    except MalformedBodyError:  # includes XmlSecurityError: refused, not expanded, not reported
        return None
    return ErrorBody(
        code=optional_text(tree.get("Code")) or "",
        message=optional_text(tree.get("Message")) or "",
        request_id=optional_text(tree.get("RequestId")),
        resource=optional_text(tree.get("Resource")),
        trace_id=optional_text(tree.get("TraceId")),
    )


def _job_ids(node: Any) -> tuple[str, ...]:
    ids: list[str] = []
    for item in as_list(node):
        if isinstance(item, str):
            ids.extend(part.strip() for part in item.split(",") if part.strip())
    return tuple(ids)


def parse_jobs_response(body: bytes) -> JobsPage:
    """<Response> of POST /jobs, GET /jobs/<ids> and GET /jobs?tag=... -> JobsPage."""
    tree = parse_document(body, "Response")
    jobs = tuple(job_from_tree(item) for item in mappings(tree.get("JobsDetail"), "JobsDetail"))
    return JobsPage(
        jobs=jobs,
        non_exist_job_ids=_job_ids(tree.get("NonExistJobIds")),
        next_token=(optional_text(tree.get("NextToken")) or "").strip() or None,
    )


def _listed_object(node: dict[str, Any], decode: bool) -> ListedObject:
    key, size = node.get("Key"), node.get("Size")
    if not isinstance(key, str) or not key:
        raise MalformedBodyError("a <Contents> entry has no <Key>")
    if not isinstance(size, str) or not _SIZE.fullmatch(size.strip()):
        raise MalformedBodyError(f"<Contents> {key!r} has no valid <Size>")
    etag = optional_text(node.get("ETag")) or ""
    return ListedObject(
        key=unquote(key) if decode else key,
        etag=etag.strip('"'),
        size=int(size),
        last_modified=optional_text(node.get("LastModified")),
    )


def parse_list_bucket(body: bytes) -> BucketPage:
    """GET Bucket (ListBucketResult) -> BucketPage. With EncodingType=url, keys are decoded."""
    tree = parse_document(body, "ListBucketResult")
    decode = (optional_text(tree.get("EncodingType")) or "").lower() == "url"
    objects = tuple(
        _listed_object(item, decode) for item in mappings(tree.get("Contents"), "Contents")
    )
    prefixes = []
    for item in mappings(tree.get("CommonPrefixes"), "CommonPrefixes"):
        prefix = optional_text(item.get("Prefix"))
        if prefix:
            prefixes.append(unquote(prefix) if decode else prefix)
    marker = optional_text(tree.get("NextMarker"))
    return BucketPage(
        objects=objects,
        is_truncated=(optional_text(tree.get("IsTruncated")) or "").strip().lower() == "true",
        next_marker=(unquote(marker) if decode else marker) if marker else None,
        common_prefixes=tuple(prefixes),
    )
