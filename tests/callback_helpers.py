"""Builders and constants for the callback tests (service, handler, reconcile).

The typed fakes of the ports live in ``tests.fakes``. Tokens are computed here from the published
contract (HMAC-SHA256 over "media-tagger/v1\\n" + bucket + "\\n" + key, and v2's
"media-tagger/v2\\n" + region + "\\n" + bucket + "\\n" + key), independently of the code.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from shared.models import Job
from shared.tencent.jobs_detail import job_from_tree

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
# JOB_ID is a UUID version 1 (as CI's are) created 2022-06-30 10:45:14 UTC; the job was created
# and started then (CI prints +0800).
CREATION_TIME = "2022-06-30T18:45:14+0800"
JOB_STAMP = "20220630T104514Z"
# What the tags of MEDIA_INFO are, written out by hand (the default field list and prefix).
EXPECTED_MEDIA_TAGS = (
    ("media:duration", "61.020"),
    ("media:resolution", "720x720"),
    ("media:vcodec", "h264"),
    ("media:acodec", "aac"),
    ("media:fps", "23.976"),
)
# The fields outside the default, for tests that opt in to every classic field.
EXTRA_MEDIA_TAGS = (("media:bitrate", "335"), ("media:container", "mov/mp4/m4a/3gp/3g2/mj2"))
APPLIED = f"{ETAG}/{JOB_STAMP}/{JOB_ID}"  # the etag tag: ETag / job creation / job id
EXPECTED_OK_TAGS = (("media:status", "ok"), ("media:etag", APPLIED), *EXPECTED_MEDIA_TAGS)


def token_for(bucket: str, key: str, secret: str = SECRET) -> str:
    """The v1 (query) token: jobs submitted before v2 still call back with it."""
    message = b"media-tagger/v1\n" + bucket.encode() + b"\n" + key.encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def token_v2_for(region: str, bucket: str, key: str, secret: str = SECRET) -> str:
    """The v2 token, as new submissions carry it in the callback URL's path."""
    message = b"media-tagger/v2\n" + f"{region}\n{bucket}\n{key}".encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return "v2." + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


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
    creation_time: str | None = CREATION_TIME,
    start_time: str | None = CREATION_TIME,
) -> dict[str, Any]:
    """One JobsDetail as a JSON callback carries it (all leaves strings)."""
    operation: dict[str, Any] = {}
    if state == "Success":
        operation["MediaInfo"] = copy.deepcopy(MEDIA_INFO if media_info is None else media_info)
    if user_data is not None:
        operation["UserData"] = user_data
    detail: dict[str, Any] = {
        "Code": code or ("Success" if state == "Success" else "InternalError"),
        "JobId": job_id,
        "State": state,
        "Tag": tag,
        "Input": {"BucketId": bucket, "Object": key, "Region": region},
        "Operation": operation,
    }
    if creation_time is not None:
        detail["CreationTime"] = creation_time
    if start_time is not None:
        detail["StartTime"] = start_time
    return detail


def callback_json(event_name: str = "TaskFinish", **detail: Any) -> bytes:
    return json.dumps({"EventName": event_name, "JobsDetail": jobs_detail(**detail)}).encode()


def job_from_detail(**detail: Any) -> Job:
    """The Job GET /jobs would answer, built through the project's own tree parser."""
    return job_from_tree(jobs_detail(**detail))


class LineCollector(logging.Handler):
    """Keeps every formatted log line (decision lines are JSON)."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())

    def decisions(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.lines if line.startswith("{")]


@contextmanager
def collected_lines(logger_name: str) -> Iterator[LineCollector]:
    """Every line logged to ``logger_name`` (DEBUG and up, not propagated) while inside."""
    collector = LineCollector()
    logger = logging.getLogger(logger_name)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    logger.addHandler(collector)
    yield collector
    logger.removeHandler(collector)
