"""Cloud Infinite job client: submit a MediaInfo job, describe one, list them (ports.MediaJobs).

Calls go to ``<bucket>.ci.<region>.myqcloud.com`` through ``shared.tencent.transport`` (which adds
the ``x-ci-security-token`` header); bodies are built and parsed only by
``shared.tencent.xml_answers``. Inputs that CI would reject or that could change the request path
are refused before anything is sent. This module must not parse XML itself or log UserData (it may
carry the caller's correlation data).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import requests

from shared.errors import CiError, EventError, MalformedBodyError
from shared.models import MEDIA_INFO_TAG, Job, JobsPage
from shared.ports import MediaInfoJobRequest
from shared.tencent.endpoints import ci_host
from shared.tencent.media_queue import MediaQueue, MediaQueues, QueueCache
from shared.tencent.transport import Transport
from shared.tencent.xml_answers import parse_jobs_response
from shared.tencent.xml_requests import build_media_info_job_request

MAX_USER_DATA_CHARS = 1024
CALLBACK_FORMATS = ("JSON", "XML")
JOB_LEVELS = (0, 1, 2)
_PRINTABLE_ASCII = re.compile(r"[\x20-\x7e]*")
# CI job ids are "j" + hex; this also keeps '/', ',' and '..' out of the request path.
_JOB_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")


def is_job_id(value: str) -> bool:
    """Whether ``value`` can be a CI job id (and so is safe in GET /jobs/<id>)."""
    return _JOB_ID.fullmatch(value) is not None


def check_media_info_job_request(request: MediaInfoJobRequest) -> None:
    """Refuse what CI documents as invalid (UserData: <= 1024 printable ASCII characters)."""
    if len(request.user_data) > MAX_USER_DATA_CHARS:
        raise EventError(
            f"UserData is {len(request.user_data)} characters; CI accepts at most "
            f"{MAX_USER_DATA_CHARS}"
        )
    if not _PRINTABLE_ASCII.fullmatch(request.user_data):
        raise EventError("UserData must contain printable ASCII characters only (0x20-0x7E)")
    if request.callback_format not in CALLBACK_FORMATS:
        raise EventError(f"callback format must be JSON or XML, not {request.callback_format!r}")
    if isinstance(request.job_level, bool) or request.job_level not in JOB_LEVELS:
        raise EventError(f"JobLevel must be 0, 1 or 2, not {request.job_level!r}")


def _jobs_page(response: requests.Response) -> JobsPage:
    """A 2xx answer that is not a CI document is CI's fault (a CiError, 502 upstream), never the
    caller's: left as MalformedBodyError it would read as bad callback input (400)."""
    try:
        return parse_jobs_response(response.content)
    except MalformedBodyError as exc:
        raise CiError(
            response.status_code,
            "MalformedResponse",
            f"CI answered a document that cannot be used: {type(exc).__name__}",
            response.headers.get("x-ci-request-id"),
        ) from exc


def _checked_job_id(job_id: str) -> str:
    if not is_job_id(job_id):
        raise EventError(f"not a CI job id: {job_id!r}")
    return job_id


class CiClient:
    """CI ``/jobs`` calls through one ``Transport``. ``queue_id`` (MEDIA_TAGGER_QUEUE_ID) goes
    into POST /jobs and GET /jobs; without it, none is named until CI asks for one
    (``shared.tencent.media_queue``; ``queue_cache`` defaults to the warm instance's)."""

    def __init__(
        self,
        transport: Transport,
        *,
        queue_id: str | None = None,
        queue_cache: QueueCache | None = None,
    ) -> None:
        self._transport = transport
        self._queues = MediaQueues(transport, queue_id, queue_cache)

    def submit_media_info_job(
        self,
        bucket: str,
        region: str,
        request: MediaInfoJobRequest,
        *,
        deadline: float | None = None,
    ) -> Job:
        """POST /jobs; returns the job as CI accepted it (normally State=Submitted)."""
        check_media_info_job_request(request)
        return self._queues.with_queue(
            bucket,
            region,
            "POST /jobs",
            lambda queue_id: self._submit(bucket, region, request, queue_id, deadline),
            deadline=deadline,
        )

    def _submit(
        self,
        bucket: str,
        region: str,
        request: MediaInfoJobRequest,
        queue_id: str | None,
        deadline: float | None,
    ) -> Job:
        body = build_media_info_job_request(
            object_key=request.object_key,
            user_data=request.user_data,
            job_level=request.job_level,
            callback_url=request.callback_url,
            callback_format=request.callback_format,
            queue_id=queue_id,
        )
        response = self._transport.request(
            "ci",
            "POST",
            ci_host(bucket, region),
            "/jobs",
            headers={"Content-Type": "application/xml"},
            body=body,
            deadline=deadline,
        )
        page = _jobs_page(response)
        if not page.jobs:
            raise CiError(
                response.status_code,
                "MissingJobsDetail",
                "POST /jobs answered without a JobsDetail",
                response.headers.get("x-ci-request-id"),
            )
        return page.jobs[0]

    def describe_media_queue(
        self, bucket: str, region: str, *, deadline: float | None = None
    ) -> MediaQueue | None:
        """GET /queue: the media queue this client's jobs go to, with MaxSize / MaxConcurrent."""
        return self._queues.describe(bucket, region, deadline=deadline)

    def describe_job(
        self, bucket: str, region: str, job_id: str, *, deadline: float | None = None
    ) -> Job | None:
        """GET /jobs/<id>: the job, or None when CI lists the id in NonExistJobIds."""
        response = self._transport.request(
            "ci",
            "GET",
            ci_host(bucket, region),
            f"/jobs/{_checked_job_id(job_id)}",
            deadline=deadline,
        )
        page = _jobs_page(response)
        for job in page.jobs:  # JobsDetail may be one object or a list
            if job.job_id == job_id:
                return job
        if job_id in page.non_exist_job_ids:
            return None
        raise CiError(
            response.status_code,
            "UnexpectedJobsDetail",
            f"GET /jobs/{job_id} answered without that job",
            response.headers.get("x-ci-request-id"),
        )

    def list_jobs(
        self,
        bucket: str,
        region: str,
        *,
        states: Sequence[str] = (),
        start_creation_time: str | None = None,
        end_creation_time: str | None = None,
        size: int = 100,
        next_token: str | None = None,
        order_by_time: str = "Desc",
        deadline: float | None = None,
    ) -> JobsPage:
        """GET /jobs?tag=MediaInfo: one page of MediaInfo jobs; ``next_token`` pages on."""
        optional = {
            "states": ",".join(states),
            "nextToken": next_token or "",
            "startCreationTime": start_creation_time or "",
            "endCreationTime": end_creation_time or "",
        }
        rest = {"orderByTime": order_by_time}
        rest.update({name: value for name, value in optional.items() if value})
        rest["size"] = str(size)
        return self._queues.with_queue(
            bucket,
            region,
            "GET /jobs",
            lambda queue_id: self._list(bucket, region, rest, queue_id, deadline),
            deadline=deadline,
        )

    def _list(
        self,
        bucket: str,
        region: str,
        rest: dict[str, str],
        queue_id: str | None,
        deadline: float | None,
    ) -> JobsPage:
        params = {"tag": MEDIA_INFO_TAG, **({"queueId": queue_id} if queue_id else {}), **rest}
        response = self._transport.request(
            "ci", "GET", ci_host(bucket, region), "/jobs", params=params, deadline=deadline
        )
        return _jobs_page(response)
