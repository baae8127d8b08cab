"""Untrusted XML -> a plain tree, safely: the one XML parser of the project (defusedxml).

``parse_xml`` refuses DTDs, entity declarations and external references (``XmlSecurityError``),
nesting deeper than ``MAX_XML_DEPTH`` and encodings expat cannot decode (``MalformedBodyError``;
nothing else escapes it); ``element_to_tree`` turns the element into nested dicts/lists/strings,
the shape JSON bodies have too. This module does no I/O, knows no COS or CI document, and must
never use another XML parser (xml.etree's fromstring, minidom, sax, lxml).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from xml.etree.ElementTree import Element, TreeBuilder

import defusedxml
from defusedxml.ElementTree import DefusedXMLParser, ParseError

from shared.errors import MalformedBodyError, XmlSecurityError

MAX_XML_DEPTH = 64


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
    except (ValueError, LookupError) as exc:
        # expat refuses a declared encoding it cannot decode before parsing anything: UTF-7,
        # UTF-32, Shift_JIS, EUC-JP ("multi-byte encodings are not supported", ValueError) or an
        # unknown name (LookupError). Neither COS nor CI declares such an encoding.
        raise MalformedBodyError("XML declares an encoding that cannot be parsed") from exc
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


def parse_document(body: bytes | str, root_name: str) -> dict[str, Any]:
    root = parse_xml(body)
    if _local_name(root.tag) != root_name:
        raise MalformedBodyError(f"expected <{root_name}>, got <{_local_name(root.tag)}>")
    return element_to_tree(root)


def mappings(node: Any, what: str) -> Iterator[dict[str, Any]]:
    for item in as_list(node):
        if isinstance(item, dict):
            yield item
        elif not isinstance(item, str) or item.strip():  # <JobsDetail/> means "none"
            raise MalformedBodyError(f"{what} has text where elements were expected")
