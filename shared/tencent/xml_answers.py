"""The only door between XML on the wire and typed values: build request bodies, parse answers.

Every XML body is parsed here through defusedxml with DTDs, entity declarations and external
references forbidden (``XmlSecurityError``) and a nesting limit (``MalformedBodyError``). Request
bodies are built in ``shared.tencent.xml_requests`` and re-exported here, so callers need one
import. This module does no I/O and must never use another XML parser (xml.etree's fromstring,
minidom, sax, lxml).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote
from xml.etree.ElementTree import Element, TreeBuilder

import defusedxml
from defusedxml.ElementTree import DefusedXMLParser, ParseError

from shared.callback.notice import decode_json_object, notice_from_tree
from shared.errors import MalformedBodyError, XmlSecurityError
from shared.media.mediainfo import job_from_tree, optional_text
from shared.models import BucketPage, CallbackNotice, JobsPage, ListedObject, TagSet
from shared.records import record
from shared.tencent.xml_requests import build_media_info_job_request, build_tagging

__all__ = [
    "MAX_XML_DEPTH",
    "ErrorBody",
    "as_list",
    "build_media_info_job_request",
    "build_tagging",
    "element_to_tree",
    "parse_callback_body",
    "parse_error_body",
    "parse_jobs_response",
    "parse_list_bucket",
    "parse_tagging",
    "parse_xml",
]

MAX_XML_DEPTH = 64
_SIZE = re.compile("[0-9]{1,20}")  # bytes; COS objects are far below 10**20
_UTF8_BOM = b"\xef\xbb\xbf"


class _DepthLimitedTarget:
    """Parser target that builds a tree with the stock TreeBuilder but refuses deep nesting."""

    def __init__(self, max_depth: int) -> None:
        self._builder = TreeBuilder()
        self._depth = 0
        self._max_depth = max_depth

    def start(self, tag: str, attrib: dict[str, str]) -> Element:
        self._depth += 1
        if self._depth > self._max_depth:
            raise MalformedBodyError(f"XML nested deeper than {self._max_depth} levels")
        return self._builder.start(tag, attrib)

    def end(self, tag: str) -> Element:
        self._depth -= 1
        return self._builder.end(tag)

    def data(self, text: str) -> None:
        self._builder.data(text)

    def close(self) -> Element:
        return self._builder.close()


def parse_xml(body: bytes | str) -> Element:
    """Parse untrusted XML safely; typed errors only (never an expat or defusedxml exception)."""
    parser = DefusedXMLParser(
        target=_DepthLimitedTarget(MAX_XML_DEPTH),
        forbid_dtd=True,
        forbid_entities=True,
        forbid_external=True,
    )
    try:
        parser.feed(body)
        root: Element = parser.close()
    except defusedxml.DefusedXmlException as exc:
        raise XmlSecurityError(f"refused XML: {type(exc).__name__}") from exc
    except ParseError as exc:
        raise MalformedBodyError(f"XML is not well-formed: {exc}") from exc
    return root


def _local_name(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def element_to_tree(el: Element) -> dict[str, Any]:
    """Children by (namespace-free) tag; repeated siblings become a list; a leaf is its text."""
    tree: dict[str, Any] = {}
    for child in el:
        name = _local_name(child.tag)
        value: Any = element_to_tree(child) if len(child) else (child.text or "")
        if name not in tree:
            tree[name] = value
        elif isinstance(tree[name], list):
            tree[name].append(value)
        else:
            tree[name] = [tree[name], value]
    return tree


def as_list(node: Any) -> list[Any]:
    """One node, a list of nodes, or nothing -> a list (XML repeats siblings, JSON uses arrays)."""
    if node is None:
        return []
    return node if isinstance(node, list) else [node]


def _document(body: bytes | str, root_name: str) -> dict[str, Any]:
    root = parse_xml(body)
    if _local_name(root.tag) != root_name:
        raise MalformedBodyError(f"expected <{root_name}>, got <{_local_name(root.tag)}>")
    return element_to_tree(root)


def _mappings(node: Any, what: str) -> Iterator[dict[str, Any]]:
    for item in as_list(node):
        if isinstance(item, dict):
            yield item
        elif not isinstance(item, str) or item.strip():  # <JobsDetail/> means "none"
            raise MalformedBodyError(f"{what} has text where elements were expected")


def parse_tagging(body: bytes) -> TagSet:
    """GET ?tagging answer -> ((key, value), ...) in document order; no TagSet or Tag -> ()."""
    tree = _document(body, "Tagging")
    tags = []
    for tag_set in _mappings(tree.get("TagSet"), "TagSet"):
        for tag in _mappings(tag_set.get("Tag"), "Tag"):
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
        tree = _document(body, "Error")
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
    tree = _document(body, "Response")
    jobs = tuple(job_from_tree(item) for item in _mappings(tree.get("JobsDetail"), "JobsDetail"))
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
    tree = _document(body, "ListBucketResult")
    decode = (optional_text(tree.get("EncodingType")) or "").lower() == "url"
    objects = tuple(
        _listed_object(item, decode) for item in _mappings(tree.get("Contents"), "Contents")
    )
    prefixes = []
    for item in _mappings(tree.get("CommonPrefixes"), "CommonPrefixes"):
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


def parse_callback_body(body: bytes | str) -> CallbackNotice:
    """CI job-finished callback, XML (<Response> wrapper) or JSON (bare), told apart by sniffing.

    The first byte that is not whitespace decides ('<' or '{'), never the Content-Type header.
    """
    if isinstance(body, str):
        try:
            body = body.encode("utf-8")
        except UnicodeEncodeError as exc:  # lone surrogates
            raise MalformedBodyError("callback body is not valid Unicode") from exc
    start = body[len(_UTF8_BOM) :] if body.startswith(_UTF8_BOM) else body
    first = start.lstrip()[:1]
    if first == b"<":
        return notice_from_tree(_document(body, "Response"))
    if first == b"{":
        return notice_from_tree(decode_json_object(body))
    raise MalformedBodyError("callback body is neither a JSON object nor an XML document")
