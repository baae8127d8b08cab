"""Reference upload handler with cos-python-sdk-v5: COS event -> (tags?) -> ci_create_media_jobs.

Written the way Tencent's SCF demos are: loop over ``Records``, strip ``/<appid>/<name>/`` from
the key, build ``CosS3Client(CosConfig(..., Token=...))`` from the role credentials of this
invocation, optionally read the object's tags (MEDIA_TAGGER_IDEMPOTENCY_CHECK, off unless set, as
in the project's function: equal work at the defaults) and submit one MediaInfo job whose
callback URL carries the same HMAC token and UserData as the project's function, so either
callback handler can take its callback. Calls run one after another; the
SDK's own INFO logging stays on, as in the demos. This is a benchmark baseline, not product code:
it must only be shipped by ``benchmarks.build`` and never imported by the project.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
from typing import Any
from urllib.parse import urlsplit

from qcloud_cos import CosConfig, CosS3Client  # noqa: TID251 -- the SDK baseline of the bench

logger = logging.getLogger()
TRUE = ("1", "true", "yes", "on")
DEFAULT_EXTENSIONS = (
    "mp4,mov,m4v,mkv,webm,avi,flv,ts,m2ts,mts,mpg,mpeg,3gp,wmv,mp3,m4a,aac,wav,flac,ogg,opus,wma"
)


def cos_client(region: str) -> CosS3Client:
    """A client for this invocation's credentials (SCF role keys rotate)."""
    options: dict[str, Any] = {
        "Region": region,
        "SecretId": os.environ["TENCENTCLOUD_SECRETID"],
        "SecretKey": os.environ["TENCENTCLOUD_SECRETKEY"],
        "Token": os.environ.get("TENCENTCLOUD_SESSIONTOKEN") or None,
        "Scheme": "https",
    }
    endpoint = os.environ.get("MEDIA_TAGGER_ENDPOINT_URL")
    if endpoint:  # a local emulator: connect to IP:Port, keep the bucket's host name in Host
        parts = urlsplit(endpoint)
        options.update(Scheme=parts.scheme, IP=parts.hostname, Port=parts.port)
    return CosS3Client(CosConfig(**options))


def callback_url(bucket: str, key: str) -> str:
    secret = os.environ["MEDIA_TAGGER_CALLBACK_SECRET"]
    message = b"media-tagger/v1\n" + bucket.encode() + b"\n" + key.encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    token = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    base = os.environ["MEDIA_TAGGER_CALLBACK_URL"]
    return base + ("&" if "?" in base else "?") + "token=" + token


def already_tagged(client: CosS3Client, bucket: str, key: str, etag: str) -> bool:
    prefix = os.environ.get("MEDIA_TAGGER_TAG_PREFIX", "media:")
    response = client.get_object_tagging(Bucket=bucket, Key=key)
    tags = {tag["Key"]: tag["Value"] for tag in (response.get("TagSet") or {}).get("Tag") or []}
    return bool(tags.get(prefix + "status")) and tags.get(prefix + "etag") == etag


def submit(record: dict[str, Any]) -> dict[str, Any]:
    appid = record["cos"]["cosBucket"]["appid"]
    name = record["cos"]["cosBucket"]["name"]
    region = record["cos"]["cosBucket"]["cosRegion"]
    bucket = f"{name}-{appid}"
    key = record["cos"]["cosObject"]["key"].replace(f"/{appid}/{name}/", "", 1)
    etag = record["cos"]["cosObject"]["meta"]["ETag"].strip('"')
    size = record["cos"]["cosObject"]["size"]
    extensions = os.environ.get("MEDIA_TAGGER_EXTENSIONS", DEFAULT_EXTENSIONS).lower().split(",")
    if key.rsplit(".", 1)[-1].lower() not in extensions:
        return {"key": key, "skipped": "extension"}
    client = cos_client(region)
    check = os.environ.get("MEDIA_TAGGER_IDEMPOTENCY_CHECK", "false").lower() in TRUE
    if check and already_tagged(client, bucket, key, etag):
        return {"key": key, "skipped": "already-tagged"}
    jobs = {
        "Tag": "MediaInfo",
        "Input": {"Object": key},
        "Operation": {
            "UserData": f"mt1;e={etag};s={size}",
            "JobLevel": os.environ.get("MEDIA_TAGGER_JOB_LEVEL", "0"),
        },
        "CallBack": callback_url(bucket, key),
        "CallBackFormat": os.environ.get("MEDIA_TAGGER_CALLBACK_FORMAT", "JSON"),
    }
    response = client.ci_create_media_jobs(
        Bucket=bucket, Jobs=jobs, Lst={}, ContentType="application/xml"
    )
    return {"key": key, "job_id": response["JobsDetail"][0]["JobId"]}


def main_handler(event: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
    logger.setLevel(logging.INFO)
    results = [submit(record) for record in event["Records"]]
    logger.info("submitted: %s", json.dumps(results))
    return {"results": results}
