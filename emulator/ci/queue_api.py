"""The emulator's CI media-queue API: GET /queue (describe) and PUT /queue/<id> (update).

Shapes from the search-queue and update-queue docs (research ci-facts.md 1.1-1.2) and from what
cos-python-sdk-v5's ``ci_get_media_queue`` sends: ``queueIds`` (comma list, at most 10),
``state`` (Active, Paused, or the SDK's undocumented default ``All``), ``pageNumber`` and
``pageSize`` always, empty when unset; ``category`` (default Transcoding) from other clients.
Unknown ids come back as repeated ``<NonExistPIDs>id</NonExistPIDs>`` (the 2022+ doc shape).
PUT needs Name, State and NotifyConfig (all required by the doc); it can pause and resume the
queue. No BucketId field: no media-queue doc shows one. Errors are raised as ``ServiceError``.
"""

from __future__ import annotations

from typing import Any

from emulator.ci.jobs import ci_time
from emulator.ci.queue import QUEUE_STATES, MediaQueue, QueueView
from emulator.ci.request_body import MAX_REQUEST_BODY, invalid, leaf, parse_request, section
from emulator.wire import ApiRequest, Reply, ServiceError
from emulator.xmlreply import XML_CONTENT_TYPE, XmlNode, to_xml

CATEGORY = "Transcoding"  # the emulator's queue is the ordinary media-processing queue
CATEGORIES = frozenset({"CateAll", "Transcoding", "SpeedTranscoding"})
MAX_QUEUE_IDS = 10
MAX_PAGE_SIZE = 100
MAX_NAME_BYTES = 128
NOTIFY_FIELDS = ("Url", "Event", "Type", "State", "ResultFormat", "MqMode", "MqName", "MqRegion")


def queue_nodes(view: QueueView) -> list[XmlNode]:
    """The children of one ``<QueueList>`` / ``<Queue>`` element, in the doc's order."""
    return [
        ("QueueId", view.queue_id),
        ("Name", view.name),
        ("State", view.state),
        ("NotifyConfig", [(name, value or None) for name, value in view.notify_config]),
        ("MaxSize", str(view.max_size)),
        ("MaxConcurrent", str(view.max_concurrent)),
        ("UpdateTime", ci_time(view.update_time)),
        ("CreateTime", ci_time(view.create_time)),
        ("Category", CATEGORY),
    ]


def _reply(nodes: list[XmlNode]) -> Reply:
    return Reply(200, [("Content-Type", XML_CONTENT_TYPE)], to_xml("Response", nodes))


def _positive(value: str | None, name: str, default: int, upper: int) -> int:
    if value is None or value == "":
        return default
    if not value.isdigit() or not value.isascii() or not 1 <= int(value) <= upper:
        raise invalid(f"{name} must be a whole number from 1 to {upper}")
    return int(value)


def _notify_config(tree: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    given = section(tree, "NotifyConfig")
    unknown = sorted(set(given) - set(NOTIFY_FIELDS))
    if unknown:
        raise invalid(f"NotifyConfig has unknown fields: {', '.join(unknown)}")
    return tuple((name, leaf(given, name) or "") for name in NOTIFY_FIELDS if name in given)


class QueueApi:
    def __init__(self, queue: MediaQueue) -> None:
        self._queue = queue

    def handle(self, request: ApiRequest) -> Reply:
        if request.path == "/queue" and request.method == "GET":
            return self._describe(request)
        if request.path.startswith("/queue/") and request.method == "PUT":
            return self._update(request, request.path[len("/queue/") :])
        raise ServiceError(404, "InvalidUrl", f"{request.method} {request.path} is not a CI API")

    def _describe(self, request: ApiRequest) -> Reply:
        ids = [part.strip() for part in (request.param("queueIds") or "").split(",")]
        ids = [part for part in ids if part]
        if len(ids) > MAX_QUEUE_IDS:
            raise invalid(f"queueIds takes at most {MAX_QUEUE_IDS} ids")
        state = request.param("state") or "All"
        if state not in (*QUEUE_STATES, "All"):
            raise invalid("state must be Active or Paused")
        category = request.param("category") or CATEGORY
        if category not in CATEGORIES:
            raise invalid("category must be CateAll, Transcoding or SpeedTranscoding")
        number = _positive(request.param("pageNumber"), "pageNumber", 1, 10**6)
        size = _positive(request.param("pageSize"), "pageSize", 10, MAX_PAGE_SIZE)
        view = self._queue.view()
        matches = (
            (not ids or view.queue_id in ids)
            and state in ("All", view.state)
            and category in ("CateAll", CATEGORY)
        )
        listed = [view][(number - 1) * size : number * size] if matches else []
        nodes: list[XmlNode] = [
            ("RequestId", request.request_id),
            ("TotalCount", "1" if matches else "0"),
            ("PageNumber", str(number)),
            ("PageSize", str(size)),
        ]
        nodes += [("QueueList", queue_nodes(item)) for item in listed]
        nodes += [("NonExistPIDs", queue_id) for queue_id in ids if queue_id != view.queue_id]
        return _reply(nodes)

    def _update(self, request: ApiRequest, queue_id: str) -> Reply:
        if queue_id != self._queue.view().queue_id:
            raise invalid(f"queue {queue_id} does not exist")
        tree = parse_request(request.body.read_all(MAX_REQUEST_BODY))
        name = leaf(tree, "Name")
        if not name or len(name.encode("utf-8")) > MAX_NAME_BYTES:
            raise invalid(f"Name is required, at most {MAX_NAME_BYTES} bytes")
        state = leaf(tree, "State")
        if state not in QUEUE_STATES:
            raise invalid("State is required: Active or Paused")
        view = self._queue.configure(
            state=state, name=name, notify_config=_notify_config(tree) or None
        )
        return _reply([("RequestId", request.request_id), ("Queue", queue_nodes(view))])
