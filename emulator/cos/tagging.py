"""COS object-tag rules of the emulator: read a tag set (XML body or x-cos-tagging), enforce limits.

Limits follow the strictest reading of the handbook (cos-ci-api.md 6.2): at most 10 tags, keys
1..127 characters, values 0..255 characters (an empty value is accepted: the API pages allow it),
characters limited to Unicode letters, digits, space and ``+ - = . _ : / @``, no duplicate keys, no
key starting with the reserved ``qcs:``. Violations are 400 InvalidTag; a body that is not a Tagging
document is 400 MalformedXML. Request XML is parsed only through shared.tencent.xml_answers.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from emulator.wire import ServiceError
from emulator.xmlreply import XmlNode
from shared.errors import MalformedBodyError
from shared.tencent.xml_parser import as_list, element_to_tree, parse_xml

Tags = tuple[tuple[str, str], ...]
MAX_TAGS = 10
MAX_KEY_CHARS = 127
MAX_VALUE_CHARS = 255
ALLOWED_PUNCTUATION = frozenset(" +-=._:/@")
RESERVED_KEY_PREFIXES = ("qcs:",)


def _malformed(detail: str) -> ServiceError:
    return ServiceError(400, "MalformedXML", f"The XML you provided was not well-formed: {detail}")


def _text_leaf(node: Any, what: str) -> str:
    if node is None:
        return ""
    if not isinstance(node, str):
        raise _malformed(f"{what} must be text")
    return node


def parse_tagging_body(body: bytes) -> Tags:
    """``<Tagging><TagSet><Tag><Key/><Value/></Tag>…</TagSet></Tagging>`` -> tags in order."""
    if not body.strip():
        raise _malformed("the body is empty")
    try:
        root = parse_xml(body)
    except MalformedBodyError as exc:
        raise _malformed(str(exc)) from exc
    if root.tag.rsplit("}", 1)[-1] != "Tagging":
        raise _malformed("the root element must be <Tagging>")
    tree = element_to_tree(root)
    tag_set = tree.get("TagSet", "")
    if isinstance(tag_set, list):
        raise _malformed("more than one <TagSet>")
    if isinstance(tag_set, str):
        if tag_set.strip():
            raise _malformed("<TagSet> has text where <Tag> elements were expected")
        return ()
    tags = []
    for tag in as_list(tag_set.get("Tag")):
        if not isinstance(tag, dict) or "Key" not in tag:
            raise _malformed("every <Tag> needs a <Key>")
        tags.append((_text_leaf(tag.get("Key"), "<Key>"), _text_leaf(tag.get("Value"), "<Value>")))
    return tuple(tags)


def parse_tagging_header(value: str) -> Tags:
    """``x-cos-tagging: k1=v1&k2=v2`` (each part URL-encoded; '+' is kept as a literal '+')."""
    tags = []
    for part in value.split("&"):
        if not part:
            continue
        key, _, tag_value = part.partition("=")
        tags.append((unquote(key), unquote(tag_value)))
    return tuple(tags)


def _bad_characters(text: str) -> list[str]:
    return sorted({c for c in text if not (c.isalpha() or c.isdigit() or c in ALLOWED_PUNCTUATION)})


def _check_tag(key: str, value: str) -> None:
    if not 1 <= len(key) <= MAX_KEY_CHARS:
        raise ServiceError(400, "InvalidTag", f"Tag key must be 1 to {MAX_KEY_CHARS} characters")
    if len(value) > MAX_VALUE_CHARS:
        raise ServiceError(
            400, "InvalidTag", f"Tag value of {key!r} is longer than {MAX_VALUE_CHARS} characters"
        )
    if key.lower().startswith(RESERVED_KEY_PREFIXES):
        raise ServiceError(400, "InvalidTag", f"Tag key {key!r} uses a reserved prefix (qcs:)")
    for what, text in (("key", key), ("value", value)):
        bad = _bad_characters(text)
        if bad:
            raise ServiceError(
                400,
                "InvalidTag",
                f"Tag {what} {text!r} contains characters that are not allowed: {''.join(bad)!r}",
            )


def validate_tags(tags: Tags) -> None:
    """Raise 400 InvalidTag naming the first rule ``tags`` breaks."""
    if len(tags) > MAX_TAGS:
        raise ServiceError(400, "InvalidTag", f"An object can have at most {MAX_TAGS} tags")
    seen: set[str] = set()
    for key, value in tags:
        _check_tag(key, value)
        if key in seen:
            raise ServiceError(400, "InvalidTag", f"Tag key {key!r} appears more than once")
        seen.add(key)


def tagging_nodes(tags: Tags) -> list[XmlNode]:
    """Children of ``<Tagging>`` for GET ?tagging; an untagged object has an empty TagSet."""
    items: list[XmlNode] = [("Tag", [("Key", key), ("Value", value)]) for key, value in tags]
    return [("TagSet", items or None)]
