"""Which CI media queue a request names: the configured one, or one looked up once per instance.

The docs disagree on ``QueueId``: required on POST /jobs and GET /jobs in the docs of 2022-05 to
2024-02, gone from them since (CN 2024-04, EN 2025-11), and the SDK demo stopped sending it in
2023 (research notes, ci-facts.md section 2). So by default no queue is named. **Hedge:** the
error CI gives for a missing queue is undocumented; ``is_missing_queue_refusal`` guesses from the
plausible shapes (400 whose code names the queue, or a generic 400 whose message does). After
such a refusal the bucket's media queues are looked up once per warm instance with the
describe-queues API (``GET /queue``, parameters as cos-python-sdk-v5's ``ci_get_media_queue``
sends them) and the request is retried with an Active one; that decision is one log line. A
configured ``MEDIA_TAGGER_QUEUE_ID`` is always used and never second-guessed. No secrets here.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import requests

from shared.errors import CiError, MalformedBodyError, MediaTaggerError
from shared.media.tree_values import label
from shared.records import record
from shared.tencent.endpoints import ci_host
from shared.tencent.transport import Transport
from shared.tencent.xml_parser import as_list, mappings, parse_document

logger = logging.getLogger(__name__)
_T = TypeVar("_T")

# Codes CI might use for "this request needs a queue id" (none is documented, see above).
QUEUE_CODES = frozenset({"InvalidQueueId", "QueueIdRequired", "MissingQueueId", "NoSuchQueue"})
GENERIC_CODES = frozenset({"InvalidArgument", "MissingParameter", "InvalidParameter"})
_MENTIONS_QUEUE = re.compile(r"(?i)queue|队列")
ACTIVE = "Active"
MEDIA_CATEGORY = "Transcoding"  # GET /queue's default category: the media processing queue


def is_missing_queue_refusal(error: CiError) -> bool:
    """A 400 that most plausibly means "name a queue" (hedge: the real code is undocumented)."""
    if error.status != 400:
        return False
    return error.code in QUEUE_CODES or (
        error.code in GENERIC_CODES and _MENTIONS_QUEUE.search(error.message) is not None
    )


@record
class MediaQueue:
    queue_id: str
    state: str | None = None
    category: str | None = None
    max_size: int | None = None  # MaxSize: jobs the queue holds waiting
    max_concurrent: int | None = None  # MaxConcurrent: jobs it runs at once


def _count(value: Any) -> int | None:
    text = label(value)
    return int(text) if text and text.isascii() and text.isdigit() else None


def _non_exist_ids(node: Any) -> Iterator[str]:
    """Both documented shapes: repeated ``<NonExistPIDs>A</NonExistPIDs>`` (2022+) and
    ``<NonExistPIDs><QueueID>A</QueueID>...</NonExistPIDs>`` (the 2021 doc)."""
    for item in as_list(node):
        values = (
            as_list(item.get("QueueID") or item.get("QueueId"))
            if isinstance(item, dict)
            else [item]
        )
        yield from (text for text in map(label, values) if text)


def parse_queue_list(body: bytes) -> tuple[tuple[MediaQueue, ...], tuple[str, ...]]:
    """GET /queue answer -> (queues, ids reported in NonExistPIDs); MalformedBodyError else."""
    tree = parse_document(body, "Response")
    queues = []
    for item in mappings(tree.get("QueueList"), "QueueList"):
        queue_id = label(item.get("QueueId")) or label(item.get("QueueID"))  # 2021 doc: QueueID
        if queue_id:
            queues.append(
                MediaQueue(
                    queue_id,
                    label(item.get("State")),
                    label(item.get("Category")),
                    _count(item.get("MaxSize")),
                    _count(item.get("MaxConcurrent")),
                )
            )
    return tuple(queues), tuple(_non_exist_ids(tree.get("NonExistPIDs")))


def pick_media_queue(queues: tuple[MediaQueue, ...]) -> str | None:
    """The first Active media-processing queue (category absent or Transcoding), or None."""
    for queue in queues:
        if queue.state == ACTIVE and queue.category in (None, MEDIA_CATEGORY):
            return queue.queue_id
    return None


class QueueCache:
    """Looked-up queue ids per (bucket, region) for one warm instance; None = none was found."""

    def __init__(self) -> None:
        self._ids: dict[tuple[str, str], str | None] = {}
        self._lock = threading.Lock()

    def get(self, bucket: str, region: str) -> tuple[bool, str | None]:
        with self._lock:
            key = (bucket, region)
            return key in self._ids, self._ids.get(key)

    def put(self, bucket: str, region: str, queue_id: str | None) -> None:
        with self._lock:
            self._ids[(bucket, region)] = queue_id


_instance_cache: QueueCache | None = None
_instance_lock = threading.Lock()


def instance_queue_cache() -> QueueCache:
    """The warm instance's cache, created on first use (never at import)."""
    global _instance_cache  # noqa: PLW0603 -- a lazily built per-process cache is the point
    with _instance_lock:
        if _instance_cache is None:
            _instance_cache = QueueCache()
        return _instance_cache


class MediaQueues:
    """The queue id for a bucket's CI requests, and the one lookup after a refusal."""

    def __init__(
        self, transport: Transport, configured: str | None, cache: QueueCache | None = None
    ) -> None:
        self._transport = transport
        self._configured = configured
        self._cache = cache

    def _store(self) -> QueueCache:
        return self._cache if self._cache is not None else instance_queue_cache()

    def known(self, bucket: str, region: str) -> str | None:
        """The id to send now: the configured one, else one found earlier, else None."""
        if self._configured is not None:
            return self._configured
        return self._store().get(bucket, region)[1]

    def with_queue(
        self,
        bucket: str,
        region: str,
        what: str,
        send: Callable[[str | None], _T],
        *,
        deadline: float | None,
    ) -> _T:
        """``send(queue id or None)``; after a missing-queue refusal, once more with the id the
        lookup found (when it found one that was not already sent)."""
        queue_id = self.known(bucket, region)
        try:
            return send(queue_id)
        except CiError as exc:
            retry_with = self.after_refusal(bucket, region, exc, what, deadline=deadline)
            if retry_with is None or retry_with == queue_id:
                raise
        return send(retry_with)

    def after_refusal(
        self, bucket: str, region: str, error: CiError, what: str, *, deadline: float | None
    ) -> str | None:
        """The queue id to retry ``what`` with after CI refused it, or None (re-raise)."""
        if self._configured is not None or not is_missing_queue_refusal(error):
            return None
        looked_up, _ = self._store().get(bucket, region)
        if looked_up:
            return None  # once per warm instance: the earlier lookup's answer stands
        try:
            queue_id = pick_media_queue(self._describe(bucket, region, deadline)[0])
        except MediaTaggerError as exc:  # not cached: the next refusal may look again
            logger.warning(
                "CI refused %s for a missing queue (%s %s); looking the queue up failed (%s)",
                what, error.status, error.code, type(exc).__name__,
            )  # fmt: skip
            return None
        self._store().put(bucket, region, queue_id)
        logger.warning(
            "CI refused %s for a missing queue (%s %s); GET /queue on %s found %s",
            what, error.status, error.code, bucket,
            f"Active media queue {queue_id}: retrying with it" if queue_id
            else "no Active media queue: not retrying",
        )  # fmt: skip
        return queue_id

    def describe(self, bucket: str, region: str, *, deadline: float | None) -> MediaQueue | None:
        """The queue requests go to (the configured id, else the first media queue in any
        state), with its figures; None when GET /queue lists none (backfill's progress line)."""
        queues = self._describe(bucket, region, deadline, state="All", ids=self._configured)[0]
        wanted = self.known(bucket, region)
        for queue in queues:
            if queue.queue_id == wanted or (
                wanted is None and queue.category in (None, MEDIA_CATEGORY)
            ):
                return queue
        return None

    def _describe(
        self,
        bucket: str,
        region: str,
        deadline: float | None,
        *,
        state: str = ACTIVE,
        ids: str | None = None,
    ) -> tuple[tuple[MediaQueue, ...], tuple[str, ...]]:
        # All four parameters, as ci_get_media_queue sends them; "Active" is a documented state,
        # "All" is the SDK's default (undocumented, accepted).
        params = {"queueIds": ids or "", "state": state, "pageNumber": "1", "pageSize": "10"}
        response = self._transport.request(
            "ci", "GET", ci_host(bucket, region), "/queue", params=params, deadline=deadline
        )
        return _parsed_queue_list(response)


def _parsed_queue_list(
    response: requests.Response,
) -> tuple[tuple[MediaQueue, ...], tuple[str, ...]]:
    try:
        return parse_queue_list(response.content)
    except MalformedBodyError as exc:
        raise CiError(
            response.status_code,
            "MalformedResponse",
            f"CI answered a queue list that cannot be used: {type(exc).__name__}",
            response.headers.get("x-ci-request-id"),
        ) from exc
