"""The whole MediaInfo node of a parsed tree -> JSON-able data with stable types; never raises.

``shared.media.mediainfo`` types the fields the tags need; the result document carries every field
CI sent. This makes that node safe and stable for JSON, and nothing more (no renaming, no typing):
mappings with text keys; leaves kept as they came when they are text, finite numbers, booleans or
null (anything else, a non-finite number, or a node deeper than ``MAX_DEPTH`` becomes null; text
that UTF-8 cannot carry gets U+FFFD); and every group under ``Stream`` (Video, Audio, Subtitle and
any other CI adds) is always a list of objects, because XML repeats a sibling for a second stream
(one stream would be an object, two a list) and CI writes ``<Subtitle/>`` when there is none. A
``{"MediaInfo": {...}}`` wrapper is unwrapped as ``media_info_from_tree`` does. Pure: no I/O.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

MAX_DEPTH = 16  # MediaInfo is three levels deep (MediaInfo/Stream/Video/field)
STREAM_NODE = "Stream"
STREAM_GROUPS = ("Video", "Audio", "Subtitle")  # always present, possibly empty


def _text(value: str) -> str:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate (only a JSON body can carry one)
        return "".join("\ufffd" if "\ud800" <= char <= "\udfff" else char for char in value)
    return value


def _leaf(value: Any) -> Any:
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return value if value is None or isinstance(value, (bool, int)) else None


def _clean(value: Any, depth: int) -> Any:
    if not isinstance(value, (Mapping, list)):
        return _leaf(value)
    if depth >= MAX_DEPTH:
        return None
    if isinstance(value, list):
        return [_clean(item, depth + 1) for item in value]
    return {
        _text(name): _clean(item, depth + 1)
        for name, item in value.items()
        if isinstance(name, str)
    }


def _stream_groups(stream: Any) -> dict[str, list[Any]]:
    groups: dict[str, list[Any]] = {name: [] for name in STREAM_GROUPS}
    if not isinstance(stream, Mapping):
        return groups  # '' (an empty <Stream/>) or absent
    for name, node in stream.items():
        if not isinstance(name, str):
            continue
        items = node if isinstance(node, list) else [node]
        groups[_text(name)] = [
            _clean(item, 3) for item in items if isinstance(item, Mapping) and item
        ]
    return groups


def media_info_tree(tree: Any) -> dict[str, Any] | None:
    """The MediaInfo node as JSON-able data (module docstring); None when there is none."""
    node = tree
    if not isinstance(node, Mapping):
        return None
    if (
        "Format" not in node
        and STREAM_NODE not in node
        and isinstance(node.get("MediaInfo"), Mapping)
    ):
        node = node["MediaInfo"]
    if not node:
        return None
    cleaned: dict[str, Any] = {
        _text(name): _clean(item, 1)
        for name, item in node.items()
        if isinstance(name, str) and name != STREAM_NODE
    }
    cleaned[STREAM_NODE] = _stream_groups(node.get(STREAM_NODE))
    return cleaned


def media_info_json(tree: Any) -> str | None:
    """``media_info_tree`` as compact JSON text (UTF-8 characters kept), or None."""
    cleaned = media_info_tree(tree)
    if cleaned is None:
        return None
    return json.dumps(cleaned, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
