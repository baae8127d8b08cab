"""The only door between XML on the wire and typed values: build request bodies, parse answers.

Every XML body is parsed here through defusedxml with DTDs, entity declarations and external
references forbidden (``XmlSecurityError``) and a nesting limit (``MalformedBodyError``).
Builders escape every value and refuse characters XML 1.0 cannot carry. This module does no
I/O and must never use another XML parser (xml.etree's fromstring, minidom, sax, lxml).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote
from xml.etree.ElementTree import Element, TreeBuilder

import defusedxml
from defusedxml.ElementTree import DefusedXMLParser, ParseError

from shared.callback_codec import decode_json_object, notice_from_tree
from shared.errors import EventError, MalformedBodyError, XmlSecurityError
from shared.mediainfo import job_from_tree, optional_text
from shared.models import BucketPage, CallbackNotice, JobsPage, ListedObject, TagSet

MAX_XML_DEPTH = 64
CALLBACK_FORMATS = frozenset({"JSON", "XML"})
JOB_LEVELS = frozenset({0, 1, 2})
MAX_USER_DATA = 1024

# Characters XML 1.0 cannot carry at all (C0 controls except TAB/LF/CR, surrogates, U+FFFE/F).
_NOT_XML_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_PRINTABLE_ASCII = re.compile("[\x20-\x7e]*")


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


def _xml_text(value: str, what: str) -> str:
    bad = _NOT_XML_CHAR.search(value)
    if bad:
        raise EventError(f"{what} contains U+{ord(bad.group()):04X}, which XML 1.0 cannot carry")
    # A raw CR would be read back as LF by the server's parser, so it travels as a reference.
    return (
        value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    )


def build_media_info_job_request(
    *, object_key: str, user_data: str, job_level: int, callback_url: str, callback_format: str
) -> bytes:
    """POST /jobs body for one MediaInfo job, in the seed's element order, no prolog, UTF-8."""
    if not object_key:
        raise EventError("object key is empty")
    if len(user_data) > MAX_USER_DATA or not _PRINTABLE_ASCII.fullmatch(user_data):
        raise EventError(f"UserData must be at most {MAX_USER_DATA} printable ASCII characters")
    if isinstance(job_level, bool) or job_level not in JOB_LEVELS:
        raise ValueError(f"JobLevel must be one of {sorted(JOB_LEVELS)}, not {job_level!r}")
    if callback_format not in CALLBACK_FORMATS:
        raise ValueError(f"CallBackFormat must be JSON or XML, not {callback_format!r}")
    if not callback_url:
        raise ValueError("callback URL is empty")
    parts = (
        "<Request><Tag>MediaInfo</Tag>",
        f"<Input><Object>{_xml_text(object_key, 'object key')}</Object></Input>",
        f"<Operation><UserData>{_xml_text(user_data, 'UserData')}</UserData>",
        f"<JobLevel>{job_level}</JobLevel></Operation>",
        f"<CallBack>{_xml_text(callback_url, 'callback URL')}</CallBack>",
        f"<CallBackFormat>{callback_format}</CallBackFormat></Request>",
    )
    return "".join(parts).encode("utf-8")


def build_tagging(tags: TagSet) -> bytes:
    """PUT ?tagging body. Order is kept; limits (count, length, charset) are shared.tags' job."""
    items = "".join(
        f"<Tag><Key>{_xml_text(key, 'tag key')}</Key>"
        f"<Value>{_xml_text(value, 'tag value')}</Value></Tag>"
        for key, value in tags
    )
    return f"<Tagging><TagSet>{items}</TagSet></Tagging>".encode()


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


@dataclass(frozen=True)
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
    next_token = optional_text(tree.get("NextToken"))
    return JobsPage(
        jobs=jobs,
        non_exist_job_ids=_job_ids(tree.get("NonExistJobIds")),
        next_token=next_token.strip() or None if next_token else None,
    )


def _listed_object(node: dict[str, Any], decode: bool) -> ListedObject:
    key, size = node.get("Key"), node.get("Size")
    if not isinstance(key, str) or not key:
        raise MalformedBodyError("a <Contents> entry has no <Key>")
    if not isinstance(size, str) or not size.strip().isdigit() or not size.isascii():
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


def parse_callback_body(body: bytes) -> CallbackNotice:
    """CI job-finished callback, XML (<Response> wrapper) or JSON (bare), told apart by sniffing."""
    start = body.lstrip()[:1] if not body.startswith(b"\xef\xbb\xbf") else body[3:].lstrip()[:1]
    if start == b"<":
        return notice_from_tree(_document(body, "Response"))
    if start == b"{":
        return notice_from_tree(decode_json_object(body))
    raise MalformedBodyError("callback body is neither a JSON object nor an XML document")
