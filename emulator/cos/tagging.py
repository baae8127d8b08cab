"""COS object-tag rules of the emulator: read a tag set (XML body or x-cos-tagging), enforce limits.

The docs disagree, so the strictest reading is enforced (cos-ci-api.md 6.2 and 9.13): at most 10
tags; keys 1..127 characters and < 128 UTF-8 bytes, values 1..255 characters and < 256 bytes (the
Chinese PUT Object tagging page counts bytes, the overview says 1-255, so an empty value is
refused); no duplicate keys; no key starting with the reserved ``qcs:``. The charset is a setting
(``TagRules.charset``): "api", the API page's narrow set (ASCII letters and digits, space and
``+ - = . _ : /``; no ``@``, "English letters"), is the default; "overview" is the tagging
overview's wider set (letters and digits of any script, and ``@``). Violations are 400 InvalidTag;
a body that is not a Tagging document is 400 MalformedXML. Request XML is parsed only through
shared.tencent.xml_parser.
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
MAX_KEY_BYTES = 127  # "< 128 bytes"
MAX_VALUE_BYTES = 255  # "< 256 bytes"
TAG_CHARSET_API = "api"
TAG_CHARSET_OVERVIEW = "overview"
TAG_CHARSETS = (TAG_CHARSET_API, TAG_CHARSET_OVERVIEW)
_API_CHARACTERS = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 +-=._:/"
)
_OVERVIEW_PUNCTUATION = frozenset(" +-=._:/@")
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


def _allowed(char: str, charset: str) -> bool:
    if charset == TAG_CHARSET_API:
        return char in _API_CHARACTERS
    return char.isalpha() or char.isdigit() or char in _OVERVIEW_PUNCTUATION


def _invalid_tag(message: str) -> ServiceError:
    return ServiceError(400, "InvalidTag", message)


def _check_length(what: str, text: str, chars: int, max_bytes: int) -> None:
    size = len(text.encode("utf-8"))
    if not text or len(text) > chars or size > max_bytes:
        raise _invalid_tag(
            f"Tag {what} must be 1 to {chars} characters and less than {max_bytes + 1} bytes "
            f"({len(text)} characters, {size} bytes)"
        )


class TagRules:
    """The tag rules with one charset ("api" or "overview")."""

    def __init__(self, charset: str = TAG_CHARSET_API) -> None:
        if charset not in TAG_CHARSETS:
            raise ValueError(f"charset must be one of {TAG_CHARSETS}, not {charset!r}")
        self.charset = charset

    def validate(self, tags: Tags) -> None:
        """Raise 400 InvalidTag naming the first rule ``tags`` breaks."""
        if len(tags) > MAX_TAGS:
            raise _invalid_tag(f"An object can have at most {MAX_TAGS} tags")
        seen: set[str] = set()
        for key, value in tags:
            self._check_tag(key, value)
            if key in seen:
                raise _invalid_tag(f"Tag key {key!r} appears more than once")
            seen.add(key)

    def _check_tag(self, key: str, value: str) -> None:
        _check_length("key", key, MAX_KEY_CHARS, MAX_KEY_BYTES)
        _check_length(f"value of {key!r}", value, MAX_VALUE_CHARS, MAX_VALUE_BYTES)
        if key.lower().startswith(RESERVED_KEY_PREFIXES):
            raise _invalid_tag(f"Tag key {key!r} uses a reserved prefix (qcs:)")
        for what, text in (("key", key), ("value", value)):
            bad = sorted({c for c in text if not _allowed(c, self.charset)})
            if bad:
                raise _invalid_tag(
                    f"Tag {what} {text!r} contains characters that are not allowed: "
                    f"{''.join(bad)!r}"
                )


def validate_tags(tags: Tags) -> None:
    """The default rules (charset "api"); ``TagRules(...).validate`` for another charset."""
    TagRules().validate(tags)


def tagging_nodes(tags: Tags) -> list[XmlNode]:
    """Children of ``<Tagging>`` for GET ?tagging; an untagged object has an empty TagSet."""
    items: list[XmlNode] = [("Tag", [("Key", key), ("Value", value)]) for key, value in tags]
    return [("TagSet", items or None)]
