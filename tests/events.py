"""Sample SCF events as files (tests/events/*.json) plus builders with defaults for variations.

``load_event(name)`` returns a fresh deep copy each time, so a test may mutate what it gets.
``cos_record(...)`` / ``cos_event(...)`` build COS trigger events in exactly the shape of
``cos_put.json`` (the documented and captured layout), changing only what a test names.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

EVENTS_DIR = Path(__file__).parent / "events"
APPID = "1250000000"
BUCKET_NAME = "media-uploads"
BUCKET = f"{BUCKET_NAME}-{APPID}"
REGION = "ap-guangzhou"


@cache
def _read(name: str) -> str:
    file_name = name if name.endswith(".json") else f"{name}.json"
    return (EVENTS_DIR / file_name).read_text(encoding="utf-8")


def load_event(name: str) -> dict[str, Any]:
    """tests/events/<name>.json as a new dict (``.json`` optional)."""
    event: dict[str, Any] = json.loads(_read(name))
    return event


def load_context(**overrides: Any) -> dict[str, Any]:
    """tests/events/context.json with some keys replaced."""
    context = load_event("context")
    context.update(overrides)
    return context


def cos_record(
    key: str = "videos/2024/11/demo.mp4",
    *,
    size: int = 2561690,
    etag: str | None = "eb6cf523ae4d528e72f2d11f3a91cd40",
    event_name: str = "cos:ObjectCreated:Put",
    vid: str = "",
    bucket_name: str = BUCKET_NAME,
    appid: str = APPID,
    region_code: str = "gz",
    cos_region: str | None = REGION,
) -> dict[str, Any]:
    """One record shaped like cos_put.json; ``etag=None`` drops ETag, ``cos_region=None`` drops
    cosRegion and s3Region (then only the short code is left)."""
    record: dict[str, Any] = load_event("cos_put")["Records"][0]
    bucket = record["cos"]["cosBucket"]
    bucket.update({"appid": appid, "name": bucket_name, "region": region_code})
    if cos_region is None:
        del bucket["cosRegion"], bucket["s3Region"]
    else:
        bucket.update({"cosRegion": cos_region, "s3Region": cos_region})
    obj = record["cos"]["cosObject"]
    obj["key"] = f"/{appid}/{bucket_name}/{key}"
    host = f"{bucket_name}-{appid}.cos.{cos_region or REGION}.myqcloud.com"
    obj["url"] = f"http://{host}/{quote(key.encode('utf-8'), safe='/-_.~')}"
    obj["size"] = size
    obj["vid"] = vid
    if etag is None:
        del obj["meta"]["ETag"]
    else:
        obj["meta"]["ETag"] = f'"{etag}"'
    record["event"]["eventName"] = event_name
    return record


def cos_event(*records: dict[str, Any]) -> dict[str, Any]:
    """``{"Records": [...]}``; with no argument, one default record."""
    return {"Records": list(records) or [cos_record()]}
