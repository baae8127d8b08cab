"""Cloud Infinite batch client (``batch_jobs.BatchEngine``): create, describe, list and cancel
MediaInfo batches, and list one batch's per-object jobs.

Calls, on ``<bucket>.ci.<region>.myqcloud.com`` (ci-facts.md 8.1-8.3):
- ``POST /inventorytriggerjob`` (body from ``shared.tencent.batch_xml``, Content-Type XML);
- ``GET /inventorytriggerjob/<id>``; ``GET /inventorytriggerjob?type=Job&...`` (Type=Job named:
  the SDK's default type is Workflow, which would hide MediaInfo batches);
- ``PUT /inventorytriggerjob/<id>?cancel`` (sent as ``cancel=`` and signed, like ``?tagging``);
- ``GET /jobs?tag=MediaInfo&inventoryTriggerJobId=<id>&orderByTime=Asc`` (size <= 100).
A queue id is named as ``shared.tencent.media_queue`` decides for POST /jobs and GET /jobs (the
docs disagree on whether one is required). Ids are checked before they reach a path. This
module must not parse XML itself or log UserData.
"""

from __future__ import annotations

import re
from typing import Any

import requests

from shared.batch_jobs import BatchJob, BatchPage, BatchRequest
from shared.errors import CiError, EventError, MalformedBodyError
from shared.models import MEDIA_INFO_TAG, JobsPage
from shared.tencent.batch_xml import build_batch_request, parse_batch_answer
from shared.tencent.endpoints import ci_host
from shared.tencent.media_queue import MediaQueues, QueueCache
from shared.tencent.transport import Transport
from shared.tencent.xml_answers import parse_jobs_response

BATCH_PATH = "/inventorytriggerjob"
MAX_PAGE_SIZE = 100
_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")


def _checked_id(batch_id: str) -> str:
    if not _ID.fullmatch(batch_id):
        raise EventError(f"not a CI batch id: {batch_id!r}")
    return batch_id


def _checked_size(size: int) -> str:
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise ValueError(f"size must be 1..{MAX_PAGE_SIZE}, not {size}")
    return str(size)


def _unusable(response: requests.Response, exc: Exception, what: str) -> CiError:
    return CiError(
        response.status_code,
        "MalformedResponse",
        f"CI answered {what} that cannot be used: {type(exc).__name__}",
        response.headers.get("x-ci-request-id"),
    )


def _batch_page(response: requests.Response) -> BatchPage:
    try:
        return parse_batch_answer(response.content)
    except MalformedBodyError as exc:
        raise _unusable(response, exc, "a batch document") from exc


def _jobs_page(response: requests.Response) -> JobsPage:
    try:
        return parse_jobs_response(response.content)
    except MalformedBodyError as exc:
        raise _unusable(response, exc, "a job list") from exc


class CiBatchClient:
    """CI batch calls through one ``Transport``; ``queue_id`` as for ``CiClient``."""

    def __init__(
        self,
        transport: Transport,
        *,
        queue_id: str | None = None,
        queue_cache: QueueCache | None = None,
    ) -> None:
        self._transport = transport
        self._queues = MediaQueues(transport, queue_id, queue_cache)

    def _request(self, method: str, bucket: str, region: str, path: str, **options: Any) -> Any:
        return self._transport.request("ci", method, ci_host(bucket, region), path, **options)

    def create_batch(
        self, bucket: str, region: str, request: BatchRequest, *, deadline: float | None = None
    ) -> BatchJob:
        """POST /inventorytriggerjob; the batch as CI accepted it."""

        def send(queue_id: str | None) -> BatchJob:
            body = build_batch_request(request, queue_id)
            headers = {"Content-Type": "application/xml"}
            response = self._request(
                "POST", bucket, region, BATCH_PATH, headers=headers, body=body, deadline=deadline
            )
            page = _batch_page(response)
            if not page.batches:
                raise CiError(
                    response.status_code,
                    "MissingJobsDetail",
                    "POST /inventorytriggerjob answered without a JobsDetail",
                    response.headers.get("x-ci-request-id"),
                )
            return page.batches[0]

        what = "POST /inventorytriggerjob"
        return self._queues.with_queue(bucket, region, what, send, deadline=deadline)

    def describe_batch(
        self, bucket: str, region: str, batch_id: str, *, deadline: float | None = None
    ) -> BatchJob | None:
        """GET /inventorytriggerjob/<id>; None when CI says the id does not exist."""
        path = f"{BATCH_PATH}/{_checked_id(batch_id)}"
        try:
            response = self._request("GET", bucket, region, path, deadline=deadline)
        except CiError as exc:
            if exc.status == 404:
                return None
            raise
        page = _batch_page(response)
        for batch in page.batches:
            if batch.job_id == batch_id:
                return batch
        if batch_id in page.non_exist_job_ids:
            return None
        raise CiError(
            response.status_code,
            "UnexpectedJobsDetail",
            f"GET {path} answered without that batch",
            response.headers.get("x-ci-request-id"),
        )

    def find_batches(
        self,
        bucket: str,
        region: str,
        *,
        name: str | None = None,
        states: tuple[str, ...] = (),
        size: int = MAX_PAGE_SIZE,
        next_token: str | None = None,
        deadline: float | None = None,
    ) -> BatchPage:
        """GET /inventorytriggerjob?type=Job: one page of MediaInfo batches, newest first."""
        params = {
            "type": "Job",
            "orderByTime": "Desc",
            "states": ",".join(states) or "All",
            "size": _checked_size(size),
        }
        if next_token:
            params["nextToken"] = next_token
        if name:
            params["name"] = name
        response = self._request(
            "GET", bucket, region, BATCH_PATH, params=params, deadline=deadline
        )
        return _batch_page(response)

    def cancel_batch(
        self, bucket: str, region: str, batch_id: str, *, deadline: float | None = None
    ) -> None:
        """PUT /inventorytriggerjob/<id>?cancel (no body, no answer body)."""
        path = f"{BATCH_PATH}/{_checked_id(batch_id)}"
        self._request("PUT", bucket, region, path, params={"cancel": ""}, deadline=deadline)

    def list_batch_jobs(
        self,
        bucket: str,
        region: str,
        batch_id: str,
        *,
        start_creation_time: str | None = None,
        next_token: str | None = None,
        size: int = MAX_PAGE_SIZE,
        deadline: float | None = None,
    ) -> JobsPage:
        """GET /jobs?tag=MediaInfo&inventoryTriggerJobId=<id>: one page, oldest first."""
        rest = {
            "inventoryTriggerJobId": _checked_id(batch_id),
            "orderByTime": "Asc",
            "size": _checked_size(size),
        }
        if start_creation_time:
            rest["startCreationTime"] = start_creation_time
        if next_token:
            rest["nextToken"] = next_token

        def send(queue_id: str | None) -> JobsPage:
            queue = {"queueId": queue_id} if queue_id else {}
            params = {"tag": MEDIA_INFO_TAG, **queue, **rest}
            response = self._request(
                "GET", bucket, region, "/jobs", params=params, deadline=deadline
            )
            return _jobs_page(response)

        return self._queues.with_queue(bucket, region, "GET /jobs", send, deadline=deadline)
