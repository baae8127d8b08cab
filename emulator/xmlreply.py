"""Building the emulator's reply bodies: COS/CI XML documents, CI JSON callbacks, error bodies.

Replies are described as ordered trees: a list of ``(name, value)`` nodes where a value is text,
``None`` (an empty element such as ``<Message/>``) or a list of child nodes; repeating a name
repeats the element. ElementTree is used here for BUILDING only; request bodies are parsed
through ``shared.tencent.xml_answers``. This module does no I/O.
"""

from __future__ import annotations

import json
from typing import Union
from xml.etree.ElementTree import Element, SubElement, tostring

XmlValue = Union[str, None, "list[XmlNode]"]
XmlNode = tuple[str, XmlValue]

XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'
XML_CONTENT_TYPE = "application/xml"


def _fill(parent: Element, nodes: list[XmlNode]) -> None:
    for name, value in nodes:
        child = SubElement(parent, name)
        if isinstance(value, list):
            _fill(child, value)
        elif value is not None:
            child.text = value


def to_xml(root: str, nodes: list[XmlNode], *, declaration: bool = True) -> bytes:
    """``<root>…</root>``, UTF-8, with an XML declaration unless ``declaration=False``."""
    element = Element(root)
    _fill(element, nodes)
    text = tostring(element, encoding="unicode")
    return ((XML_DECLARATION if declaration else "") + text).encode("utf-8")


def to_json_object(nodes: list[XmlNode]) -> dict[str, object]:
    """The same tree as JSON: leaves are strings, empty nodes are omitted, repeats become lists."""
    result: dict[str, object] = {}
    for name, value in nodes:
        converted: object
        if isinstance(value, list):
            converted = to_json_object(value)
            if not converted:
                continue
        elif not value:
            continue
        else:
            converted = value
        if name not in result:
            result[name] = converted
        else:
            previous = result[name]
            result[name] = (
                [*previous, converted]
                if isinstance(previous, list)
                else [
                    previous,
                    converted,
                ]
            )
    return result


def to_json(nodes: list[XmlNode]) -> bytes:
    return json.dumps(to_json_object(nodes), ensure_ascii=False).encode("utf-8")


def cos_error(code: str, message: str, resource: str, request_id: str, trace_id: str) -> bytes:
    """COS error body: Code, Message, Resource, RequestId, TraceId."""
    return to_xml(
        "Error",
        [
            ("Code", code),
            ("Message", message),
            ("Resource", resource),
            ("RequestId", request_id),
            ("TraceId", trace_id),
        ],
    )


def ci_error(code: str, message: str, request_id: str, trace_id: str) -> bytes:
    """CI error body: Code, Message, RequestId, TraceId."""
    return to_xml(
        "Error",
        [("Code", code), ("Message", message), ("RequestId", request_id), ("TraceId", trace_id)],
    )
