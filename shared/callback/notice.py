"""CI's job-finished callback body (XML or JSON) -> ``CallbackNotice``: the one decoder of it.

``parse_callback_body`` sniffs the first non-blank byte ('<' XML through the safe parser, '{'
strict JSON), never the Content-Type header. JSON from the network is decoded strictly: UTF-8
only, one object at the top, no duplicate keys, no NaN/Infinity, bounded nesting and integer size;
every failure is a ``MalformedBodyError``, never a crash. The notice is untrusted input: this
module checks shape, not authenticity, and does no I/O.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, NoReturn

from shared.errors import MalformedBodyError
from shared.models import CallbackNotice
from shared.tencent.jobs_detail import job_from_tree
from shared.tencent.xml_parser import parse_document

MAX_JSON_DEPTH = 64
MAX_JSON_INT_DIGITS = 64
_UTF8_BOM = b"\xef\xbb\xbf"


def _refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise MalformedBodyError("JSON object has duplicate keys")
    return obj


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_JSON_INT_DIGITS:
        raise MalformedBodyError(f"JSON integer longer than {MAX_JSON_INT_DIGITS} digits")
    return int(text)


def _refuse_constant(name: str) -> NoReturn:
    raise MalformedBodyError(f"JSON constant {name} is not valid JSON")


def _depth(value: Any) -> int:
    """Nesting depth, computed without recursion (the input is untrusted)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, level = stack.pop()
        deepest = max(deepest, level)
        children = (
            node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        )
        stack.extend((child, level + 1) for child in children if isinstance(child, (dict, list)))
    return deepest


def decode_json_object(body: bytes | str) -> dict[str, Any]:
    """Strict JSON -> dict, or MalformedBodyError. A UTF-8 byte-order mark is tolerated."""
    try:
        text = body.decode("utf-8-sig") if isinstance(body, bytes) else body
        value = json.loads(
            text,
            object_pairs_hook=_refuse_duplicates,
            parse_int=_bounded_int,
            parse_constant=_refuse_constant,
        )
    except UnicodeDecodeError as exc:
        raise MalformedBodyError("JSON body is not valid UTF-8") from exc
    except RecursionError as exc:
        raise MalformedBodyError("JSON nested too deeply") from exc
    except ValueError as exc:  # JSONDecodeError, and int() refusing a huge literal
        raise MalformedBodyError(f"JSON body is not valid: {exc}") from exc
    if not isinstance(value, dict):
        raise MalformedBodyError("JSON body is not an object")
    if _depth(value) > MAX_JSON_DEPTH:
        raise MalformedBodyError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
    return value


def _is_empty(node: Any) -> bool:
    return node is None or (isinstance(node, str) and not node.strip())


TASK_FINISH = "TaskFinish"
MEDIA_INFO_TAG = "MediaInfo"


def notice_from_tree(tree: Mapping[str, Any]) -> CallbackNotice:
    """The callback document without its wrapper -> CallbackNotice.

    JobsDetail may be one object, a list, or absent (workflow events carry none). EventName may
    be absent when JobsDetail holds a MediaInfo job: the MediaInfo callback doc fixes it at
    TaskFinish, but CI's generic task-callback doc ("callback content", media processing API) and
    the console's callback doc show ``<Response><JobsDetail>...`` without it (cos-ci-api.md 9.11),
    so such a body is a finished-job notice. Without both, it is not a callback we know.
    """
    details = tree.get("JobsDetail")
    items: list[Any] = details if isinstance(details, list) else [details]
    jobs = tuple(job_from_tree(item) for item in items if not _is_empty(item))
    event_name = tree.get("EventName")
    if event_name is None and any(job.tag == MEDIA_INFO_TAG for job in jobs):
        event_name = TASK_FINISH
    if not isinstance(event_name, str) or not event_name.strip():
        raise MalformedBodyError("callback has no EventName")
    return CallbackNotice(event_name=event_name.strip(), jobs=jobs)


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
        return notice_from_tree(parse_document(body, "Response"))
    if first == b"{":
        return notice_from_tree(decode_json_object(body))
    raise MalformedBodyError("callback body is neither a JSON object nor an XML document")
