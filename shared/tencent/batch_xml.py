"""CI batch job documents: the POST /inventorytriggerjob body, and the batch answers parsed.

The body follows the "trigger job (independent node)" doc (ci-facts.md 8.1): ``Name``, ``Type``
Job, ``Input`` with one of Manifest / Prefix / Object, ``Operation`` with QueueId (only when one
is named), UserData, CallBack, Tag MediaInfo, an empty ``JobParam`` container (required; the SDK
sends it as ``<JobParam></JobParam>``) and JobLevel; no prolog, UTF-8, every value escaped. The
answers of create, describe and list share one shape: ``Response{JobsDetail*, NonExistJobIds,
NextToken}``. Parsed through ``shared.tencent.xml_parser`` only; no I/O here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from shared.batch_jobs import (
    INPUT_KINDS,
    BatchInput,
    BatchJob,
    BatchPage,
    BatchRequest,
)
from shared.errors import EventError, MalformedBodyError
from shared.media.tree_values import label, optional_text
from shared.tencent.xml_parser import as_list, mappings, parse_document
from shared.tencent.xml_requests import _xml_text

MAX_NAME_CHARS = 128
MAX_USER_DATA_CHARS = 1024
JOB_LEVELS = (0, 1, 2)
# CI: "Chinese, English letters, digits, - and _"; the project's own names are ASCII only.
_NAME = re.compile(r"[A-Za-z0-9_-]{1,128}")
_PRINTABLE_ASCII = re.compile(r"[\x20-\x7e]*")
_NO_TIME = frozenset({"", "-"})


def _checked(request: BatchRequest) -> None:
    if not _NAME.fullmatch(request.name):
        raise EventError(f"a batch Name is 1-{MAX_NAME_CHARS} letters, digits, '-' or '_'")
    if request.input.kind not in INPUT_KINDS or not request.input.value:
        raise EventError(f"a batch Input is one of {', '.join(INPUT_KINDS)} with a value")
    if len(request.user_data) > MAX_USER_DATA_CHARS or not _PRINTABLE_ASCII.fullmatch(
        request.user_data
    ):
        raise EventError("UserData must be at most 1024 printable ASCII characters")
    if isinstance(request.job_level, bool) or request.job_level not in JOB_LEVELS:
        raise EventError(f"JobLevel must be 0, 1 or 2, not {request.job_level!r}")
    if not request.callback:
        raise EventError("CallBack is empty (send 'no' for no callback)")


def build_batch_request(request: BatchRequest, queue_id: str | None = None) -> bytes:
    """POST /inventorytriggerjob body of a MediaInfo batch (see the module docstring)."""
    _checked(request)
    kind = request.input.kind
    parts = (
        f"<Request><Name>{request.name}</Name><Type>Job</Type>",
        f"<Input><{kind}>{_xml_text(request.input.value, 'batch input')}</{kind}></Input>",
        "<Operation>",
        f"<QueueId>{_xml_text(queue_id, 'QueueId')}</QueueId>" if queue_id else "",
        f"<UserData>{_xml_text(request.user_data, 'UserData')}</UserData>",
        f"<CallBack>{_xml_text(request.callback, 'CallBack')}</CallBack>",
        "<Tag>MediaInfo</Tag><JobParam></JobParam>",
        f"<JobLevel>{request.job_level}</JobLevel></Operation></Request>",
    )
    return "".join(parts).encode("utf-8")


def _time(value: Any) -> str | None:
    text = label(value)
    return None if text is None or text in _NO_TIME else text


def _input(node: Any) -> BatchInput | None:
    if not isinstance(node, Mapping):
        return None
    for kind in INPUT_KINDS:
        value = optional_text(node.get(kind))
        if value:
            return BatchInput(kind, value)
    return None


def batch_from_tree(tree: Mapping[str, Any]) -> BatchJob:
    """One batch JobsDetail node -> BatchJob; MalformedBodyError without JobId or State."""
    job_id, state = label(tree.get("JobId")), label(tree.get("State"))
    if job_id is None or state is None:
        raise MalformedBodyError("a batch JobsDetail without JobId or State")
    operation = tree.get("Operation")
    user_data = optional_text(operation.get("UserData")) if isinstance(operation, dict) else None
    return BatchJob(
        job_id=job_id,
        state=state,
        name=optional_text(tree.get("Name")),
        code=label(tree.get("Code")),
        message=optional_text(tree.get("Message")),
        creation_time=_time(tree.get("CreationTime")),
        start_time=_time(tree.get("StartTime")),
        end_time=_time(tree.get("EndTime")),
        input=_input(tree.get("Input")),
        user_data=user_data,
    )


def _ids(node: Any) -> tuple[str, ...]:
    found: list[str] = []
    for item in as_list(node):
        if isinstance(item, str):
            found.extend(part.strip() for part in item.split(",") if part.strip())
    return tuple(found)


def parse_batch_answer(body: bytes) -> BatchPage:
    """<Response> of POST, GET /inventorytriggerjob[/<id>] -> BatchPage."""
    tree = parse_document(body, "Response")
    batches = tuple(
        batch_from_tree(node) for node in mappings(tree.get("JobsDetail"), "JobsDetail")
    )
    return BatchPage(
        batches=batches,
        non_exist_job_ids=_ids(tree.get("NonExistJobIds")),
        next_token=(optional_text(tree.get("NextToken")) or "").strip() or None,
    )
