"""The emulator's Cloud Infinite job API: POST /jobs, GET /jobs/<ids>, GET /jobs?tag=MediaInfo.

Request bodies are parsed through shared.tencent.xml_answers; replies have the shapes of
cos-ci-api.md 2.2-2.4 (JobsDetail, NonExistJobIds, NextToken). Only MediaInfo jobs exist. Callback
URLs must be loopback (the emulator never sends traffic elsewhere). Signatures are checked by the
server before anything here runs; errors are raised as ``ServiceError`` and rendered by the server.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from emulator.ci.callbacks import is_loopback_url
from emulator.ci.jobs import CI_TIME_FORMAT, JobRecord, JobStore, job_detail_nodes
from emulator.wire import ApiRequest, Reply, ServiceError
from emulator.xmlreply import XML_CONTENT_TYPE, XmlNode, to_xml
from shared.errors import MalformedBodyError
from shared.tencent.xml_parser import element_to_tree, parse_xml

MAX_REQUEST_BODY = 64 * 1024
MAX_USER_DATA = 1024
JOB_LEVELS = frozenset({"0", "1", "2"})
JOB_STATES = frozenset({"Submitted", "Running", "Success", "Failed", "Pause", "Cancel"})
DEFAULT_QUEUE_ID = "p" + "0" * 24 + "10ca1e00"  # the emulator's one (default) media queue
DEFAULT_PAGE_SIZE = 10
MAX_PAGE_SIZE = 100


def _invalid(message: str) -> ServiceError:
    return ServiceError(400, "InvalidArgument", message)


def _jobs_reply(nodes: list[XmlNode]) -> Reply:
    return Reply(200, [("Content-Type", XML_CONTENT_TYPE)], to_xml("Response", nodes))


def _leaf(tree: dict[str, Any], name: str) -> str | None:
    value = tree.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise _invalid(f"{name} must be a single text value")
    return value.strip()


def _parse_request(body: bytes) -> dict[str, Any]:
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


def _section(tree: dict[str, Any], name: str) -> dict[str, Any]:
    value = tree.get(name)
    if value is None:
        raise _invalid(f"{name} is required")
    if isinstance(value, str) and not value.strip():
        return {}
    if not isinstance(value, dict):
        raise _invalid(f"{name} must be one element with children")
    return value


def _user_data(operation: dict[str, Any]) -> str | None:
    value = operation.get("UserData")
    if value is None:
        return None
    if not isinstance(value, str):
        raise _invalid("UserData must be text")
    if len(value) > MAX_USER_DATA or any(not " " <= c <= "~" for c in value):
        raise _invalid(f"UserData must be at most {MAX_USER_DATA} printable ASCII characters")
    return value


def _callback(tree: dict[str, Any]) -> tuple[str | None, str]:
    url = _leaf(tree, "CallBack") or None
    fmt = _leaf(tree, "CallBackFormat") or "XML"
    if fmt not in ("XML", "JSON"):
        raise _invalid("CallBackFormat must be XML or JSON")
    if (_leaf(tree, "CallBackType") or "Url") != "Url":
        raise _invalid("only CallBackType Url is emulated")
    if url == "no":
        return None, fmt  # "no" suppresses the queue callback; the queue has none here
    if url is not None and not is_loopback_url(url):
        raise _invalid("the emulator only calls back http://127.0.0.1, localhost or [::1]")
    return url, fmt


def _creation_time(value: str | None, name: str) -> float | None:
    if not value:
        return None
    try:  # a raw '+' in a query string arrives as a space
        return datetime.strptime(value.replace(" ", "+"), CI_TIME_FORMAT).timestamp()
    except ValueError as exc:
        raise _invalid(f"{name} must look like 2001-01-01T00:00:00+0800") from exc


def _page_size(value: str | None) -> int:
    if value is None or value == "":
        return DEFAULT_PAGE_SIZE
    if not value.isdigit() or not 1 <= int(value) <= MAX_PAGE_SIZE:
        raise _invalid(f"size must be an integer from 1 to {MAX_PAGE_SIZE}")
    return int(value)


def _states(value: str | None) -> frozenset[str] | None:
    names = [s.strip() for s in (value or "All").split(",") if s.strip()]
    if not names or "All" in names:
        return None
    unknown = [s for s in names if s not in JOB_STATES]
    if unknown:
        raise _invalid(f"unknown states: {', '.join(unknown)}")
    return frozenset(names)


class CiApi:
    def __init__(self, jobs: JobStore, enqueue: Callable[[str], None]) -> None:
        self._jobs = jobs
        self._enqueue = enqueue

    def handle(self, request: ApiRequest) -> Reply:
        """Answer one request on ``<bucket>.ci.<region>.myqcloud.com`` (or /jobs on COS)."""
        if request.path in ("/jobs", "/jobs/"):
            if request.method == "POST":
                return self._create(request)
            if request.method == "GET":
                return self._list(request)
        elif request.path.startswith("/jobs/") and request.method == "GET":
            return self._describe(request, request.path[len("/jobs/") :])
        raise ServiceError(404, "InvalidUrl", f"{request.method} {request.path} is not a CI API")

    def _create(self, request: ApiRequest) -> Reply:
        tree = _parse_request(request.body.read_all(MAX_REQUEST_BODY))
        if _leaf(tree, "Tag") != "MediaInfo":
            raise _invalid("Tag must be MediaInfo")
        object_key = _leaf(_section(tree, "Input"), "Object")
        if not object_key:
            raise _invalid("Input.Object is required")
        operation = _section(tree, "Operation")
        job_level = _leaf(operation, "JobLevel") or "0"
        if job_level not in JOB_LEVELS:
            raise _invalid("JobLevel must be 0, 1 or 2")
        queue_id = _leaf(tree, "QueueId") or DEFAULT_QUEUE_ID
        if queue_id != DEFAULT_QUEUE_ID:
            raise _invalid(f"QueueId {queue_id} does not exist")
        url, fmt = _callback(tree)
        job = self._jobs.create(
            bucket=request.bucket,
            region=request.region,
            object_key=object_key,
            queue_id=queue_id,
            job_level=job_level,
            user_data=_user_data(operation),
            callback_url=url,
            callback_format=fmt,
        )
        self._enqueue(job.job_id)
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
            raise _invalid("tag is required and must be MediaInfo")
        order = request.param("orderByTime") or "Desc"
        if order not in ("Desc", "Asc"):
            raise _invalid("orderByTime must be Desc or Asc")
        size = _page_size(request.param("size"))
        wanted = _JobFilter.from_request(request)
        jobs = [job for job in self._jobs.all() if wanted.matches(job)]
        if order == "Desc":
            jobs.reverse()
        token = request.param("nextToken") or ""
        if token:
            if not token.isdigit():
                raise _invalid("nextToken is not valid")
            after = int(token)
            jobs = [j for j in jobs if (j.seq < after if order == "Desc" else j.seq > after)]
        page, more = jobs[:size], len(jobs) > size
        nodes: list[XmlNode] = [("JobsDetail", job_detail_nodes(job)) for job in page]
        nodes.append(("NextToken", str(page[-1].seq) if more else None))
        return _jobs_reply(nodes)


@dataclass(frozen=True)
class _JobFilter:
    bucket: str
    states: frozenset[str] | None
    start: float | None
    end: float | None
    input_object: str | None
    queue_id: str | None

    @classmethod
    def from_request(cls, request: ApiRequest) -> _JobFilter:
        return cls(
            bucket=request.bucket,
            states=_states(request.param("states")),
            start=_creation_time(request.param("startCreationTime"), "startCreationTime"),
            end=_creation_time(request.param("endCreationTime"), "endCreationTime"),
            input_object=request.param("inputObject") or None,
            queue_id=request.param("queueId") or None,
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
        )
