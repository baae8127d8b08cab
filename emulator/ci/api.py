"""The emulator's Cloud Infinite job API: POST /jobs, GET /jobs/<ids>, GET /jobs?tag=MediaInfo.

GET /jobs also filters by ``inventoryTriggerJobId`` (a batch's per-object jobs, ci-facts.md 8.2);
the batch paths (/inventorytriggerjob) go to ``emulator.ci.batch_api`` when the server has one.

Replies have the shapes of cos-ci-api.md 2.2-2.4 (JobsDetail, NonExistJobIds, NextToken); queue
paths (GET /queue, PUT /queue/<id>) go to ``emulator.ci.queue_api``. A submit is checked in this
order: Content-Type and body (``request_body``), the input object (``submit_rules``), then the
media queue (403 QueuePaused / QueueSaturated). Only MediaInfo jobs exist. Callback URLs must be
loopback (the emulator never sends traffic elsewhere). Signatures are checked by the server
before anything here runs; errors are raised as ``ServiceError`` and rendered by the server.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar

from emulator.ci.callbacks import is_loopback_url
from emulator.ci.jobs import CI_TIME_FORMAT, JobRecord, JobStore, job_detail_nodes
from emulator.ci.queue import DEFAULT_QUEUE_ID, MediaQueue
from emulator.ci.queue_api import QueueApi
from emulator.ci.request_body import (
    MAX_REQUEST_BODY,
    check_xml_content_type,
    invalid,
    leaf,
    parse_request,
    section,
)
from emulator.ci.submit_rules import REFUSE_MISSING, check_input_object
from emulator.wire import ApiRequest, Reply, ServiceError
from emulator.xmlreply import XML_CONTENT_TYPE, XmlNode, to_xml

MAX_USER_DATA = 1024
JOB_LEVELS = frozenset({"0", "1", "2"})
JOB_STATES = frozenset({"Submitted", "Running", "Success", "Failed", "Pause", "Cancel"})
DEFAULT_PAGE_SIZE = 10
MAX_PAGE_SIZE = 100


def _jobs_reply(nodes: list[XmlNode]) -> Reply:
    return Reply(200, [("Content-Type", XML_CONTENT_TYPE)], to_xml("Response", nodes))


def user_data_of(operation: dict[str, Any]) -> str | None:
    value = operation.get("UserData")
    if value is None:
        return None
    if not isinstance(value, str):
        raise invalid("UserData must be text")
    if len(value) > MAX_USER_DATA or any(not " " <= c <= "~" for c in value):
        raise invalid(f"UserData must be at most {MAX_USER_DATA} printable ASCII characters")
    return value


def callback_of(tree: dict[str, Any]) -> tuple[str | None, str]:
    url = leaf(tree, "CallBack") or None
    fmt = leaf(tree, "CallBackFormat") or "XML"
    if fmt not in ("XML", "JSON"):
        raise invalid("CallBackFormat must be XML or JSON")
    if (leaf(tree, "CallBackType") or "Url") != "Url":
        raise invalid("only CallBackType Url is emulated")
    if url == "no":
        return None, fmt  # "no" suppresses the queue callback; the queue has none here
    if url is not None and not is_loopback_url(url):
        raise invalid("the emulator only calls back http://127.0.0.1, localhost or [::1]")
    return url, fmt


def parse_ci_time(value: str | None, name: str) -> float | None:
    if not value:
        return None
    try:  # a raw '+' in a query string arrives as a space
        return datetime.strptime(value.replace(" ", "+"), CI_TIME_FORMAT).timestamp()
    except ValueError as exc:
        raise invalid(f"{name} must look like 2001-01-01T00:00:00+0800") from exc


def page_size_of(value: str | None) -> int:
    if value is None or value == "":
        return DEFAULT_PAGE_SIZE
    if not value.isdigit() or not 1 <= int(value) <= MAX_PAGE_SIZE:
        raise invalid(f"size must be an integer from 1 to {MAX_PAGE_SIZE}")
    return int(value)


class _Sequenced(Protocol):
    @property
    def seq(self) -> int: ...


_S = TypeVar("_S", bound=_Sequenced)


def list_order_of(request: ApiRequest) -> str:
    order = request.param("orderByTime") or "Desc"
    if order not in ("Desc", "Asc"):
        raise invalid("orderByTime must be Desc or Asc")
    return order


def token_page(items: list[_S], request: ApiRequest, order: str) -> tuple[list[_S], str | None]:
    """One page of ``items`` (in creation order) after ``nextToken``, as GET /jobs and GET
    /inventorytriggerjob page them: ``size`` items, and the next token (None on the last page)."""
    size = page_size_of(request.param("size"))
    if order == "Desc":
        items = items[::-1]
    token = request.param("nextToken") or ""
    if token:
        if not token.isdigit():
            raise invalid("nextToken is not valid")
        after = int(token)
        items = [i for i in items if (i.seq < after if order == "Desc" else i.seq > after)]
    page = items[:size]
    return page, str(page[-1].seq) if len(items) > size else None


def _states(value: str | None) -> frozenset[str] | None:
    names = [s.strip() for s in (value or "All").split(",") if s.strip()]
    if not names or "All" in names:
        return None
    unknown = [s for s in names if s not in JOB_STATES]
    if unknown:
        raise invalid(f"unknown states: {', '.join(unknown)}")
    return frozenset(names)


class CiApi:
    def __init__(
        self,
        jobs: JobStore,
        queue: MediaQueue,
        *,
        object_exists: Callable[[str, str], bool],
        missing_object: str = REFUSE_MISSING,
        batches: Callable[[ApiRequest], Reply] | None = None,
    ) -> None:
        self._batches = batches  # /inventorytriggerjob (emulator.ci.batch_api)
        self._jobs = jobs
        self._queue = queue
        self._queue_api = QueueApi(queue)
        self._object_exists = object_exists
        self._missing_object = missing_object

    def handle(self, request: ApiRequest) -> Reply:
        """Answer one request on ``<bucket>.ci.<region>.myqcloud.com`` (or /jobs on COS)."""
        if request.path in ("/jobs", "/jobs/"):
            if request.method == "POST":
                return self._create(request)
            if request.method == "GET":
                return self._list(request)
        elif request.path.startswith("/jobs/") and request.method == "GET":
            return self._describe(request, request.path[len("/jobs/") :])
        elif request.path == "/queue" or request.path.startswith("/queue/"):
            return self._queue_api.handle(request)
        elif request.path.startswith("/inventorytriggerjob") and self._batches is not None:
            return self._batches(request)
        raise ServiceError(404, "InvalidUrl", f"{request.method} {request.path} is not a CI API")

    def _create(self, request: ApiRequest) -> Reply:
        check_xml_content_type(request.headers)
        tree = parse_request(request.body.read_all(MAX_REQUEST_BODY))
        if leaf(tree, "Tag") != "MediaInfo":
            raise invalid("Tag must be MediaInfo")
        object_key = leaf(section(tree, "Input"), "Object")
        if not object_key:
            raise invalid("Input.Object is required")
        operation = section(tree, "Operation")
        job_level = leaf(operation, "JobLevel") or "0"
        if job_level not in JOB_LEVELS:
            raise invalid("JobLevel must be 0, 1 or 2")
        queue_id = leaf(tree, "QueueId") or DEFAULT_QUEUE_ID
        if queue_id != DEFAULT_QUEUE_ID:
            raise invalid(f"QueueId {queue_id} does not exist")
        url, fmt = callback_of(tree)
        user_data = user_data_of(operation)
        check_input_object(
            object_key,
            exists=lambda: self._object_exists(request.bucket, object_key),
            missing_object=self._missing_object,
        )

        def create() -> JobRecord:
            return self._jobs.create(
                bucket=request.bucket,
                region=request.region,
                object_key=object_key,
                queue_id=queue_id,
                job_level=job_level,
                user_data=user_data,
                callback_url=url,
                callback_format=fmt,
            )

        job = self._queue.admit(int(job_level), create, lambda created: created.job_id)
        return _jobs_reply([("JobsDetail", job_detail_nodes(job))])

    def _describe(self, request: ApiRequest, ids: str) -> Reply:
        nodes: list[XmlNode] = []
        missing: list[XmlNode] = []
        for job_id in filter(None, (part.strip() for part in ids.split(","))):
            job = self._jobs.get(job_id)
            if job is None or job.bucket != request.bucket:
                missing.append(("NonExistJobIds", job_id))
            else:
                nodes.append(("JobsDetail", job_detail_nodes(job)))
        return _jobs_reply(nodes + missing)

    def _list(self, request: ApiRequest) -> Reply:
        if request.param("tag") != "MediaInfo":
            raise invalid("tag is required and must be MediaInfo")
        order = list_order_of(request)
        page_size_of(request.param("size"))  # refused before the filter's own checks
        wanted = _JobFilter.from_request(request)
        jobs = [job for job in self._jobs.all() if wanted.matches(job)]
        page, following = token_page(jobs, request, order)
        nodes: list[XmlNode] = [("JobsDetail", job_detail_nodes(job)) for job in page]
        nodes.append(("NextToken", following))
        return _jobs_reply(nodes)


@dataclass(frozen=True)
class _JobFilter:
    bucket: str
    states: frozenset[str] | None
    start: float | None
    end: float | None
    input_object: str | None
    queue_id: str | None
    batch_id: str | None

    @classmethod
    def from_request(cls, request: ApiRequest) -> _JobFilter:
        return cls(
            bucket=request.bucket,
            states=_states(request.param("states")),
            start=parse_ci_time(request.param("startCreationTime"), "startCreationTime"),
            end=parse_ci_time(request.param("endCreationTime"), "endCreationTime"),
            input_object=request.param("inputObject") or None,
            queue_id=request.param("queueId") or None,
            batch_id=request.param("inventoryTriggerJobId") or None,
        )

    def matches(self, job: JobRecord) -> bool:
        created = int(job.creation_time)  # CI compares at the second its times are printed in
        return (
            job.bucket == self.bucket
            and (self.states is None or job.state in self.states)
            and (self.start is None or created >= self.start)
            and (self.end is None or created <= self.end)
            and (self.input_object is None or job.object_key == self.input_object)
            and (self.queue_id is None or job.queue_id == self.queue_id)
            and (self.batch_id is None or job.batch_id == self.batch_id)
        )
