"""Reference callback handler with cos-python-sdk-v5: CI notice -> job -> HEAD -> tags -> PUT tags.

Written the way Tencent's demos are: parse the function-URL body (JSON, or XML with xmltodict),
check the callback token, then ``ci_get_media_jobs``, ``head_object``, ``get_object_tagging`` and
``put_object_tagging``, one call after another, on a ``CosS3Client`` built for this invocation.
It writes the same tag keys and values as the project's function, keeping foreign tags, so both
do the same work: status and etag, then the media fields MEDIA_TAGGER_TAG_FIELDS names, by
default the project's default set (7 tags). ``make bench`` also runs it with the set the project
wrote before issue 10 (10 tags: ``TODAY_FIELDS`` in benchmarks.phases) for the tag-cost ratio.
The SDK's own INFO logging stays on, as in the demos. A benchmark baseline, not product code: it
is shipped only by ``benchmarks.build`` and never imported by the project.
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

import xmltodict  # type: ignore[import-untyped]
from qcloud_cos import CosConfig, CosS3Client  # noqa: TID251 -- the SDK baseline of the bench

logger = logging.getLogger()
DEFAULT_FIELDS = "duration,resolution,vcodec,acodec,fps"  # shared.media.tag_format's default


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


def reply(status: int, **body: Any) -> dict[str, Any]:
    return {
        "isBase64Encoded": False,
        "statusCode": status,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(body),
    }


def token_ok(region: str, bucket: str, key: str, path: str) -> bool:
    """The v2 token new submissions carry as the callback URL's last path segment."""
    secret = os.environ["MEDIA_TAGGER_CALLBACK_SECRET"]
    message = b"media-tagger/v2\n" + f"{region}\n{bucket}\n{key}".encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    expected = b"v2." + base64.urlsafe_b64encode(digest).rstrip(b"=")
    presented = path.rstrip("/").rsplit("/", 1)[-1]
    return hmac.compare_digest(expected, presented.encode())


def first(value: Any) -> Any:
    return value[0] if isinstance(value, list) else value


def media_tags(info: dict[str, Any], etag: str) -> list[dict[str, str]]:
    prefix = os.environ.get("MEDIA_TAGGER_TAG_PREFIX", "media:")
    fmt = info.get("Format", {})
    video = first(info.get("Stream", {}).get("Video")) or {}
    audio = first(info.get("Stream", {}).get("Audio")) or {}
    values = {
        "status": "ok",
        "etag": etag,
        "duration": f"{float(fmt['Duration']):.3f}" if fmt.get("Duration") else None,
        "resolution": f"{video['Width']}x{video['Height']}" if video.get("Width") else None,
        "vcodec": video.get("CodecName"),
        "acodec": audio.get("CodecName"),
        "fps": f"{float(video['AvgFps']):.3f}".rstrip("0").rstrip(".")
        if video.get("AvgFps")
        else None,
        "bitrate": str(round(float(fmt["Bitrate"]))) if fmt.get("Bitrate") else None,
        "container": fmt.get("FormatName", "").replace(",", "/") or None,
        "rotation": str(round(float(video["Rotation"])) % 360) if video.get("Rotation") else None,
    }
    wanted = os.environ.get("MEDIA_TAGGER_TAG_FIELDS") or DEFAULT_FIELDS
    names = ["status", "etag", *(n for n in wanted.split(",") if n not in ("status", "etag"))]
    return [{"Key": prefix + name, "Value": values[name]} for name in names if values.get(name)]


def write_tags(client: CosS3Client, bucket: str, key: str, job: dict[str, Any], etag: str) -> int:
    prefix = os.environ.get("MEDIA_TAGGER_TAG_PREFIX", "media:")
    response = client.get_object_tagging(Bucket=bucket, Key=key)
    existing = (response.get("TagSet") or {}).get("Tag") or []
    foreign = [tag for tag in existing if not tag["Key"].startswith(prefix)]
    ours = media_tags(job["Operation"].get("MediaInfo") or {}, etag)
    tags = (foreign + ours)[:10]
    client.put_object_tagging(Bucket=bucket, Key=key, Tagging={"TagSet": {"Tag": tags}})
    return len(ours)


def main_handler(event: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
    logger.setLevel(logging.INFO)
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        body = base64.b64decode(body).decode()
    notice = xmltodict.parse(body)["Response"] if body.startswith("<") else json.loads(body)
    detail = first(notice["JobsDetail"])
    bucket, key = detail["Input"]["BucketId"], detail["Input"]["Object"]
    region = detail["Input"]["Region"]
    if not token_ok(region, bucket, key, event.get("path") or "/"):
        return reply(403, error="bad token")
    client = cos_client(region)
    job = first(client.ci_get_media_jobs(Bucket=bucket, JobIDs=detail["JobId"])["JobsDetail"])
    if job["Input"]["Object"] != key or job["State"] != "Success":
        return reply(200, skipped="job")
    user_data = dict(item.split("=", 1) for item in job["Operation"]["UserData"].split(";")[1:])
    head = client.head_object(Bucket=bucket, Key=key)
    if head["ETag"].strip('"') != user_data["e"] or head["Content-Length"] != user_data["s"]:
        return reply(200, skipped="stale")
    written = write_tags(client, bucket, key, job, user_data["e"])
    logger.info("tagged %s/%s with %d tags", bucket, key, written)
    return reply(200, outcome="tagged", written=written)
