"""Builders and typed fakes for the callback tests (service and handler).

Fakes implement ``shared.ports.ObjectStore`` / ``MediaJobs`` and are checked against them by mypy
(``store: ObjectStore = FakeStore()``). Tokens are computed here from the published contract
(HMAC-SHA256 over "media-tagger/v1\\n" + bucket + "\\n" + key), independently of the code.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import logging
from collections.abc import Callable, Sequence
from typing import Any

from shared.errors import CosNotFoundError
from shared.mediainfo import job_from_tree
from shared.models import BucketPage, Job, JobsPage, ObjectHead, ObjectRef, TagSet
from shared.ports import MediaInfoJobRequest

SECRET = "s3cr3t-callback-key-0123456789abcdefXYZ"
BUCKET = "media-uploads-1250000000"
REGION = "ap-guangzhou"
KEY = "videos/2024/11/demo.mp4"
JOB_ID = "jb976c9e0f86111ec9452c1c27f56a659"
ETAG = "0123456789abcdef0123456789abcdef"
SIZE = 2561690
USER_DATA = f"mt1;e={ETAG};s={SIZE}"
ENVIRON = {
    "MEDIA_TAGGER_CALLBACK_SECRET": SECRET,
    "TENCENTCLOUD_SECRETID": "AKIDEXAMPLEq1w2e3r4t5y6u7i8o9p0ASDFGHJ",
    "TENCENTCLOUD_SECRETKEY": "ExampleSecretKey0123456789abcdEF",
    "TENCENTCLOUD_SESSIONTOKEN": "EXAMPLEtmpToken0123456789sessiontoken",
}

MEDIA_INFO: dict[str, Any] = {
    "Format": {
        "Bitrate": "335.412000",
        "Duration": "61.020000",
        "FormatName": "mov,mp4,m4a,3gp,3g2,mj2",
        "NumStream": "2",
        "Size": "2561690",
    },
    "Stream": {
        "Audio": {"Bitrate": "128.000000", "Channel": "2", "CodecName": "aac", "Index": "1"},
        "Video": {
            "AvgFps": "23.976024",
            "CodecName": "h264",
            "Duration": "61.020000",
            "Height": "720",
            "Index": "0",
            "Width": "720",
        },
    },
}
# What the tags of MEDIA_INFO are, written out by hand (the default field list and prefix).
EXPECTED_MEDIA_TAGS = (
    ("media:duration", "61.020"),
    ("media:resolution", "720x720"),
    ("media:vcodec", "h264"),
    ("media:acodec", "aac"),
    ("media:fps", "23.976"),
    ("media:bitrate", "335"),
    ("media:container", "mov/mp4/m4a/3gp/3g2/mj2"),
)
EXPECTED_OK_TAGS = (("media:status", "ok"), ("media:etag", ETAG), *EXPECTED_MEDIA_TAGS)


def token_for(bucket: str, key: str, secret: str = SECRET) -> str:
    message = b"media-tagger/v1\n" + bucket.encode() + b"\n" + key.encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def jobs_detail(
    *,
    job_id: str = JOB_ID,
    state: str = "Success",
    code: str | None = None,
    bucket: str = BUCKET,
    key: str = KEY,
    region: str = REGION,
    user_data: str | None = USER_DATA,
    media_info: dict[str, Any] | None = None,
    tag: str = "MediaInfo",
) -> dict[str, Any]:
    """One JobsDetail as a JSON callback carries it (all leaves strings)."""
    operation: dict[str, Any] = {}
    if state == "Success":
        operation["MediaInfo"] = copy.deepcopy(MEDIA_INFO if media_info is None else media_info)
    if user_data is not None:
        operation["UserData"] = user_data
    return {
        "Code": code or ("Success" if state == "Success" else "InternalError"),
        "JobId": job_id,
        "State": state,
        "Tag": tag,
        "Input": {"BucketId": bucket, "Object": key, "Region": region},
        "Operation": operation,
    }


def callback_json(event_name: str = "TaskFinish", **detail: Any) -> bytes:
    return json.dumps({"EventName": event_name, "JobsDetail": jobs_detail(**detail)}).encode()


def job_from_detail(**detail: Any) -> Job:
    """The Job GET /jobs would answer, built through the project's own tree parser."""
    return job_from_tree(jobs_detail(**detail))


class FakeJobs:
    """MediaJobs: answers describe_job from a dict; records calls."""

    def __init__(self, jobs: dict[str, Job | BaseException] | None = None) -> None:
        self.jobs = jobs or {}
        self.calls: list[tuple[str, str, str]] = []
        self.before_read: Callable[[], object] = lambda: None

    def submit_media_info_job(
        self,
        bucket: str,
        region: str,
        request: MediaInfoJobRequest,
        *,
        deadline: float | None = None,
    ) -> Job:
        raise AssertionError("the callback never submits jobs")

    def describe_job(
        self, bucket: str, region: str, job_id: str, *, deadline: float | None = None
    ) -> Job | None:
        self.calls.append((bucket, region, job_id))
        self.before_read()
        found = self.jobs.get(job_id)
        if isinstance(found, BaseException):
            raise found
        return found

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
        raise AssertionError("the callback never lists jobs")


class FakeStore:
    """ObjectStore over one dict of objects: key -> (head, tags). Records every call."""

    def __init__(self) -> None:
        self.objects: dict[tuple[str, str | None], tuple[ObjectHead, TagSet]] = {}
        self.calls: list[tuple[str, ObjectRef]] = []
        self.puts: list[tuple[ObjectRef, TagSet]] = []
        self.errors: dict[str, BaseException] = {}
        self.before_read: Callable[[], object] = lambda: None

    def add(
        self,
        key: str = KEY,
        etag: str = ETAG,
        size: int = SIZE,
        tags: TagSet = (),
        version: str | None = None,
    ) -> None:
        self.objects[(key, version)] = (ObjectHead(etag=etag, size=size, version_id=version), tags)

    def _lookup(self, operation: str, obj: ObjectRef) -> tuple[ObjectHead, TagSet]:
        self.calls.append((operation, obj))
        if operation in self.errors:
            raise self.errors[operation]
        found = self.objects.get((obj.key, obj.version_id))
        if found is None:
            raise CosNotFoundError(404, "NoSuchKey", "gone")
        return found

    def head_object(self, obj: ObjectRef, *, deadline: float | None = None) -> ObjectHead:
        self.before_read()
        return self._lookup("head", obj)[0]

    def get_object_tagging(self, obj: ObjectRef, *, deadline: float | None = None) -> TagSet:
        self.before_read()
        return self._lookup("get_tagging", obj)[1]

    def put_object_tagging(
        self, obj: ObjectRef, tags: TagSet, *, deadline: float | None = None
    ) -> None:
        head, _ = self._lookup("put_tagging", obj)
        self.puts.append((obj, tags))
        self.objects[(obj.key, obj.version_id)] = (head, tags)

    def list_objects(
        self,
        bucket: str,
        region: str,
        *,
        prefix: str = "",
        marker: str = "",
        max_keys: int = 1000,
        deadline: float | None = None,
    ) -> BucketPage:
        raise AssertionError("the callback never lists objects")


class LineCollector(logging.Handler):
    """Keeps every formatted log line (decision lines are JSON)."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())

    def decisions(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.lines if line.startswith("{")]
