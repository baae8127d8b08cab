"""One CI ``JobsDetail`` node (from an XML-derived tree or JSON) -> a typed ``Job``.

Shared by GET /jobs answers and the callback body. A node without JobId or State is refused
(``MalformedBodyError``); every other field is typed leniently (``shared.media.tree_values``):
times "-" or empty are ``None``, the object key is kept raw, the MediaInfo node is parsed by
``shared.media.mediainfo`` and also kept whole, as JSON text (``shared.media.mediainfo_tree``).
No I/O here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.errors import MalformedBodyError
from shared.media.mediainfo import media_info_from_tree
from shared.media.mediainfo_tree import media_info_json
from shared.media.tree_values import count, label, optional_text
from shared.models import Job, JobInput, JobOperation

_NO_TIME = frozenset({"", "-"})


def _time(value: Any) -> str | None:
    text = label(value)
    return None if text is None or text in _NO_TIME else text


def _job_input(node: Any) -> JobInput:
    if not isinstance(node, Mapping):
        return JobInput()
    return JobInput(
        bucket_id=label(node.get("BucketId")),
        object=optional_text(node.get("Object")),  # a key may start or end with spaces: kept raw
        region=label(node.get("Region")),
    )


def _job_operation(node: Any) -> JobOperation:
    if not isinstance(node, Mapping):
        return JobOperation()
    media = node.get("MediaInfo")
    if not isinstance(media, Mapping) or not media:
        media = None
    return JobOperation(
        user_data=optional_text(node.get("UserData")),
        job_level=count(node.get("JobLevel")),
        media_info=media_info_from_tree(media) if media is not None else None,
        media_info_json=media_info_json(media),
    )


def job_from_tree(tree: Mapping[str, Any]) -> Job:
    """One JobsDetail node -> Job. No JobId or no State: not a job, MalformedBodyError."""
    node: Any = tree
    if not isinstance(node, Mapping):
        raise MalformedBodyError("JobsDetail is not an object")
    job_id, state = label(tree.get("JobId")), label(tree.get("State"))
    if job_id is None or state is None:
        raise MalformedBodyError("JobsDetail without JobId or State")
    return Job(
        job_id=job_id,
        state=state,
        tag=label(tree.get("Tag")),
        code=label(tree.get("Code")),
        message=optional_text(tree.get("Message")),
        input=_job_input(tree.get("Input")),
        operation=_job_operation(tree.get("Operation")),
        queue_id=label(tree.get("QueueId")),
        creation_time=_time(tree.get("CreationTime")),
        start_time=_time(tree.get("StartTime")),
        end_time=_time(tree.get("EndTime")),
    )
