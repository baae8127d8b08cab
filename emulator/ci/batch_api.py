"""The emulator's CI batch API: POST/GET /inventorytriggerjob, GET /inventorytriggerjob/<id>,
PUT /inventorytriggerjob/<id>?cancel (ci-facts.md 8.1-8.3).

It accepts what cos-python-sdk-v5 sends: the create body with root ``Request`` in any element
order and an empty ``<JobParam></JobParam>``; the list call's ``type``, ``orderByTime``,
``states``, ``size``, ``nextToken`` and the empty ``workflowId=``/``jobId=`` it always sends
(``name``, ``startCreationTime``, ``endCreationTime`` when given); the cancel's bare ``?cancel``
(unsigned) as well as a signed ``cancel=``. Only independent-node MediaInfo batches exist
(``Type`` Job, ``Tag`` MediaInfo): a list for Type Workflow is empty, a Workflow create is
refused. Input is Prefix, Manifest or Object (UrlFile is not emulated). Like POST /jobs, a create
must say Content-Type XML (``emulator.ci.request_body``); the SDK's demos pass it. Unknown ids in
describe are ``NonExistJobIds``; what CI answers to a cancel of an unknown id is undocumented
(400 InvalidArgument here), a cancel of a finished batch changes nothing.
"""

from __future__ import annotations

import re
from typing import Any

from emulator.ci.api import (
    callback_of,
    list_order_of,
    page_size_of,
    parse_ci_time,
    token_page,
    user_data_of,
)
from emulator.ci.batch_runner import BatchRunner
from emulator.ci.batches import BatchRecord, BatchStore, batch_detail_nodes
from emulator.ci.queue import DEFAULT_QUEUE_ID
from emulator.ci.request_body import (
    MAX_REQUEST_BODY,
    check_xml_content_type,
    invalid,
    leaf,
    parse_request,
    section,
)
from emulator.wire import ApiRequest, Reply, ServiceError
from emulator.xmlreply import XML_CONTENT_TYPE, XmlNode, to_xml

BATCH_PATH = "/inventorytriggerjob"
INPUT_KINDS = ("Prefix", "Manifest", "Object")
BATCH_STATES = frozenset({"Submitted", "Running", "Success", "Failed", "Pause", "Cancel"})
MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 10
# CI: "Chinese, English letters, digits, - and _, at most 128 characters".
_NAME = re.compile(r"[A-Za-z0-9_\-\u4e00-\u9fff]{1,128}")


def _reply(nodes: list[XmlNode], status: int = 200) -> Reply:
    return Reply(status, [("Content-Type", XML_CONTENT_TYPE)], to_xml("Response", nodes))


def _input(tree: dict[str, Any]) -> tuple[str, str]:
    given = section(tree, "Input")
    if "UrlFile" in given:
        raise invalid("Input.UrlFile is not emulated")
    found = [(kind, leaf(given, kind)) for kind in INPUT_KINDS if kind in given]
    if len(found) != 1:
        raise invalid("Input needs exactly one of Prefix, Manifest or Object")
    kind, value = found[0]
    if value is None or (kind != "Prefix" and not value):
        raise invalid(f"Input.{kind} is empty")
    return kind, value


def _interval(operation: dict[str, Any]) -> tuple[float | None, float | None]:
    if "TimeInterval" not in operation:
        return None, None
    interval = section(operation, "TimeInterval")
    return (
        parse_ci_time(leaf(interval, "Start"), "TimeInterval.Start"),
        parse_ci_time(leaf(interval, "End"), "TimeInterval.End"),
    )


class BatchApi:
    def __init__(self, batches: BatchStore, runner: BatchRunner) -> None:
        self._batches = batches
        self._runner = runner

    def handle(self, request: ApiRequest) -> Reply:
        if request.path in (BATCH_PATH, BATCH_PATH + "/"):
            if request.method == "POST":
                return self._create(request)
            if request.method == "GET":
                return self._list(request)
        elif request.path.startswith(BATCH_PATH + "/"):
            batch_id = request.path[len(BATCH_PATH) + 1 :]
            if request.method == "GET":
                return self._describe(request, batch_id)
            if request.method == "PUT" and request.param("cancel") is not None:
                return self._cancel(request, batch_id)
        raise ServiceError(404, "InvalidUrl", f"{request.method} {request.path} is not a CI API")

    def _create(self, request: ApiRequest) -> Reply:
        check_xml_content_type(request.headers)
        tree = parse_request(request.body.read_all(MAX_REQUEST_BODY))
        name = leaf(tree, "Name") or ""
        if not _NAME.fullmatch(name):
            raise invalid("Name is 1-128 letters, digits, '-', '_' or Chinese characters")
        if leaf(tree, "Type") != "Job":
            raise invalid("only Type Job (independent node) batches are emulated")
        kind, value = _input(tree)
        operation = section(tree, "Operation")
        if leaf(operation, "Tag") != "MediaInfo":
            raise invalid("Operation.Tag must be MediaInfo")
        if "JobParam" not in operation:
            raise invalid("Operation.JobParam is required")
        job_level = leaf(operation, "JobLevel") or "0"
        if job_level not in ("0", "1", "2"):
            raise invalid("JobLevel must be 0, 1 or 2")
        queue_id = leaf(operation, "QueueId") or None
        if queue_id is not None and queue_id != DEFAULT_QUEUE_ID:
            raise invalid(f"QueueId {queue_id} does not exist")
        url, fmt = callback_of(operation)
        start, end = _interval(operation)
        batch = self._batches.create(
            bucket=request.bucket, region=request.region, name=name, input_kind=kind,
            input_value=value, user_data=user_data_of(operation),
            callback=leaf(operation, "CallBack") if url is None else url, callback_format=fmt,
            job_level=job_level, queue_id=queue_id, time_start=start, time_end=end,
        )  # fmt: skip
        self._runner.start_batch(batch.batch_id)
        return _reply([("JobsDetail", batch_detail_nodes(batch))])

    def _describe(self, request: ApiRequest, batch_id: str) -> Reply:
        batch = self._batches.get(batch_id)
        if batch is None or batch.bucket != request.bucket:
            return _reply([("NonExistJobIds", batch_id)])
        return _reply([("JobsDetail", batch_detail_nodes(batch))])

    def _cancel(self, request: ApiRequest, batch_id: str) -> Reply:
        batch = self._batches.get(batch_id)
        if batch is None or batch.bucket != request.bucket:
            raise invalid(f"the batch {batch_id} does not exist")
        self._batches.request_cancel(batch_id)
        return Reply(200, [], b"")

    def _list(self, request: ApiRequest) -> Reply:
        order = list_order_of(request)
        page_size_of(request.param("size"))  # refused before the times and states
        start = parse_ci_time(request.param("startCreationTime"), "startCreationTime")
        end = parse_ci_time(request.param("endCreationTime"), "endCreationTime")
        states = _states(request.param("states"))
        wanted = [
            batch
            for batch in self._batches.all()
            if batch.bucket == request.bucket
            and _listed(batch, request, states)
            and (start is None or int(batch.creation_time) >= start)
            and (end is None or int(batch.creation_time) <= end)
        ]
        page, following = token_page(wanted, request, order)
        nodes: list[XmlNode] = [("JobsDetail", batch_detail_nodes(batch)) for batch in page]
        nodes.append(("NextToken", following))
        return _reply(nodes)


def _states(value: str | None) -> frozenset[str] | None:
    names = [s.strip() for s in (value or "All").split(",") if s.strip()]
    if not names or "All" in names:
        return None
    unknown = [s for s in names if s not in BATCH_STATES]
    if unknown:
        raise invalid(f"unknown states: {', '.join(unknown)}")
    return frozenset(names)


def _listed(batch: BatchRecord, request: ApiRequest, states: frozenset[str] | None) -> bool:
    kind = request.param("type") or "Job"
    if kind not in ("Job", "Workflow"):
        raise invalid("type must be Workflow or Job")
    return (
        kind == "Job"
        and not request.param("workflowId")
        and (not request.param("jobId") or request.param("jobId") == batch.batch_id)
        and (not request.param("name") or request.param("name") == batch.name)
        and (states is None or batch.state in states)
    )
