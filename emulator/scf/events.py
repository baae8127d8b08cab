"""The SCF side of the emulator, pure part: COS trigger events and context dicts as SCF builds them.

``build_cos_event`` turns the COS core's ``ObjectCreated`` facts into the exact event shape of
scf-platform.md §1 (``Records`` list; ``cosObject.key`` is "/<appid>/<name>/<raw key>", never
encoded; ``cosObject.url`` is percent-encoded RFC 3986 style; ``meta.ETag`` keeps its quotes;
``eventTime`` is an int). ``build_context`` makes the dict SCF passes as ``context`` (§3).
Values that only the platform knows (request ids, reqid) are random; the clock is injected.
This module does no I/O, starts no threads and must not import the handlers or ``shared``.
"""

from __future__ import annotations

import base64
import json
import random
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol
from urllib.parse import quote

# COS' short region aliases as they appear in ``cosBucket.region`` (doc + captures show gz, sh,
# cd). [inference] for regions without a known alias: the full region name is used instead.
REGION_ALIASES: Mapping[str, str] = {
    "ap-guangzhou": "gz",
    "ap-shanghai": "sh",
    "ap-beijing": "bj",
    "ap-beijing-1": "tj",
    "ap-chengdu": "cd",
    "ap-chongqing": "cq",
    "ap-nanjing": "nj",
    "ap-hongkong": "hk",
    "ap-singapore": "sgp",
    "na-toronto": "ca",
    "eu-frankfurt": "ger",
}
DEFAULT_CONTENT_TYPE = "application/octet-stream"
DEFAULT_STORAGE_CLASS = "Standard"
EVENT_NAME_PREFIX = "cos:ObjectCreated:"


class ObjectCreatedFacts(Protocol):
    """What the COS core reports about a created object (``emulator`` ``ObjectCreated``)."""

    @property
    def bucket(self) -> str: ...  # "<name>-<appid>"
    @property
    def region(self) -> str: ...
    @property
    def key(self) -> str: ...  # raw key
    @property
    def etag(self) -> str: ...  # with or without quotes
    @property
    def size(self) -> int: ...
    @property
    def content_type(self) -> str | None: ...
    @property
    def version_id(self) -> str | None: ...
    @property
    def event_name(self) -> str: ...  # "cos:ObjectCreated:Put" or just "Put"
    @property
    def request_headers(self) -> Mapping[str, str]: ...
    @property
    def source_ip(self) -> str: ...


@dataclass(frozen=True)
class FunctionIdentity:
    """Who the emulated function is: names and limits that show up in events and contexts."""

    function_name: str
    namespace: str = "default"
    region: str = "ap-guangzhou"
    appid: str = "1250000000"
    uin: str = "100000000001"
    memory_limit_in_mb: int = 128
    time_limit_in_ms: int = 30_000
    qualifier: str = "$DEFAULT"
    environment: Mapping[str, str] = field(default_factory=dict)

    @property
    def event_queue(self) -> str:
        return (
            f"qcs:0:scf:{self.region}:appid/{self.appid}:"
            f"{self.namespace}.{self.function_name}.{self.qualifier}"
        )


def split_bucket(bucket: str) -> tuple[str, str]:
    """("media-uploads", "1250000000") from "media-uploads-1250000000"; appid "" when absent."""
    name, sep, appid = bucket.rpartition("-")
    if not sep or not name or not appid.isdigit():
        return bucket, ""
    return name, appid


def region_alias(region: str) -> str:
    return REGION_ALIASES.get(region, region)


def object_url(bucket: str, region: str, key: str) -> str:
    """``cosObject.url``: strict percent-encoding, only unreserved characters and "/" kept."""
    return f"http://{bucket}.cos.{region}.myqcloud.com/{quote(key, safe='/')}"


def quoted_etag(etag: str) -> str:
    return '"' + etag.strip('"') + '"'


def full_event_name(event_name: str) -> str:
    return event_name if event_name.startswith("cos:") else EVENT_NAME_PREFIX + event_name


def new_cos_request_id() -> str:
    """A value shaped like COS' base64 ``x-cos-request-id``."""
    return base64.b64encode(uuid.uuid4().hex[:30].encode("ascii")).decode("ascii")


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def _object_meta(created: ObjectCreatedFacts, request_id: str) -> dict[str, str]:
    headers = created.request_headers
    meta = {
        "Content-Type": created.content_type or DEFAULT_CONTENT_TYPE,
        "ETag": quoted_etag(created.etag),
        "x-cos-request-id": request_id,
        "x-cos-storage-class": _header(headers, "x-cos-storage-class") or DEFAULT_STORAGE_CLASS,
    }
    for key, value in sorted(headers.items()):
        if key.lower().startswith("x-cos-meta-"):
            meta[key.lower()] = value
    return meta


def build_cos_record(
    created: ObjectCreatedFacts,
    identity: FunctionIdentity,
    *,
    now: float,
    request_id: str | None = None,
    reqid: int | None = None,
) -> dict[str, Any]:
    """One element of ``Records`` for ``created``, as SCF's COS trigger delivers it."""
    name, appid = split_bucket(created.bucket)
    appid = appid or identity.appid
    authorization = _header(created.request_headers, "Authorization") or ""
    cos = {
        "cosSchemaVersion": "1.0",
        "cosObject": {
            "url": object_url(created.bucket, created.region, created.key),
            "meta": _object_meta(created, request_id or new_cos_request_id()),
            "vid": created.version_id or "",
            "key": f"/{appid}/{name}/{created.key}",
            "size": int(created.size),
        },
        "cosBucket": {
            "region": region_alias(created.region),
            "name": name,
            "appid": appid,
            "cosRegion": created.region,
            "s3Region": created.region,
        },
        "cosNotificationId": "unkown",  # sic: the live platform's spelling
    }
    event = {
        "eventName": full_event_name(created.event_name),
        "eventVersion": "1.0",
        "eventTime": int(now),
        "eventSource": "qcs::cos",
        "requestParameters": {
            "requestSourceIP": created.source_ip,
            "requestHeaders": {"Authorization": authorization},
        },
        "eventQueue": identity.event_queue,
        "reservedInfo": "",
        "reqid": reqid if reqid is not None else random.randint(1, 2**31 - 1),
    }
    return {"cos": cos, "event": event}


def build_cos_event(
    created: Sequence[ObjectCreatedFacts],
    identity: FunctionIdentity,
    *,
    clock: Callable[[], float],
) -> dict[str, Any]:
    """The whole trigger event: one record per created object, in order."""
    return {"Records": [build_cos_record(item, identity, now=clock()) for item in created]}


def build_context(identity: FunctionIdentity, *, request_id: str | None = None) -> dict[str, Any]:
    """The ``context`` dict of one invocation (keys of scf-platform.md §3, all plain values)."""
    environment = {"SCF_NAMESPACE": identity.namespace, **identity.environment}
    return {
        "memory_limit_in_mb": identity.memory_limit_in_mb,
        "time_limit_in_ms": identity.time_limit_in_ms,
        "request_id": request_id or str(uuid.uuid4()),
        "environment": json.dumps(environment, separators=(",", ":")),
        "environ": ";".join(f"{key}={value}" for key, value in environment.items()),
        "function_version": "$LATEST",
        "function_name": identity.function_name,
        "namespace": identity.namespace,
        "tencentcloud_region": identity.region,
        "tencentcloud_appid": identity.appid,
        "tencentcloud_uin": identity.uin,
    }


def strip_key_prefix(event_key: str, appid: str, name: str) -> str:
    """The raw object key back from ``cosObject.key`` (what Tencent's demos do; never unquote)."""
    prefix = f"/{appid}/{name}/"
    return event_key[len(prefix) :] if event_key.startswith(prefix) else event_key
