"""Reading CI request bodies (``<Request>`` XML) for the job and queue APIs of the emulator.

Bodies are parsed only through shared.tencent.xml_parser (defusedxml). Errors are CI's:
an empty body is 400 MissingContent, a body that is not XML or not rooted at ``<Request>`` 400
InvalidContent, a missing or malformed field 400 InvalidArgument (CI error table, cos-ci-api.md
2.5). POST /jobs must say ``Content-Type: application/xml``: CI's submit doc gives that header in
every request sample and cos-python-sdk-v5's demos pass ``ContentType='application/xml'`` because
the SDK sends none by itself (ci-facts.md 8.3); what CI answers without it is not documented, so
the emulator refuses it as InvalidArgument. No I/O here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from emulator.wire import ServiceError
from shared.errors import MalformedBodyError
from shared.tencent.xml_parser import element_to_tree, parse_xml

MAX_REQUEST_BODY = 64 * 1024
XML_MEDIA_TYPES = frozenset({"application/xml", "text/xml"})


def invalid(message: str) -> ServiceError:
    return ServiceError(400, "InvalidArgument", message)


def check_xml_content_type(headers: Mapping[str, str]) -> None:
    """400 InvalidArgument unless Content-Type is application/xml (or text/xml), any charset."""
    media_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type not in XML_MEDIA_TYPES:
        shown = media_type or "none"
        raise invalid(f"Content-Type must be application/xml, not {shown}")


def leaf(tree: Mapping[str, Any], name: str) -> str | None:
    value = tree.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise invalid(f"{name} must be a single text value")
    return value.strip()


def section(tree: Mapping[str, Any], name: str) -> dict[str, Any]:
    value = tree.get(name)
    if value is None:
        raise invalid(f"{name} is required")
    if isinstance(value, str) and not value.strip():
        return {}
    if not isinstance(value, dict):
        raise invalid(f"{name} must be one element with children")
    return value


def parse_request(body: bytes) -> dict[str, Any]:
    if not body.strip():
        raise ServiceError(400, "MissingContent", "The request body is empty")
    try:
        root = parse_xml(body)
    except MalformedBodyError as exc:
        raise ServiceError(
            400, "InvalidContent", f"The request body is not valid XML: {exc}"
        ) from exc
    if root.tag.rsplit("}", 1)[-1] != "Request":
        raise ServiceError(400, "InvalidContent", "The root element must be <Request>")
    return element_to_tree(root)
