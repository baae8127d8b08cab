"""SCF COS trigger event -> one typed ``UploadRecord`` (or one ``RecordError``) per record.

Facts (scf-platform.md section 1): ``cosBucket.name`` lacks the appid; ``cosObject.key`` is
``/<appid>/<name>/<key>`` with the key raw (NOT url-decoded: decoding would corrupt keys that
really contain '%' or '+'); the region comes from cosRegion/s3Region, else from the short code.
Records are parsed independently so one broken record never hides the others. No I/O here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Union

from shared.errors import EventError
from shared.models import ObjectRef
from shared.records import record

# Legacy short region codes of cosBucket.region. Only used when cosRegion/s3Region are absent.
SHORT_REGION_CODES: Mapping[str, str] = {
    "gz": "ap-guangzhou",
    "sh": "ap-shanghai",
    "bj": "ap-beijing",
    "cd": "ap-chengdu",
    "cq": "ap-chongqing",
    "nj": "ap-nanjing",
    "tj": "ap-beijing-1",
    "hk": "ap-hongkong",
    "sg": "ap-singapore",
    "bkk": "ap-bangkok",
    "jkt": "ap-jakarta",
    "in": "ap-mumbai",
    "mumbai": "ap-mumbai",
    "tok": "ap-tokyo",
    "sel": "ap-seoul",
    "sao": "sa-saopaulo",
    "sv": "na-siliconvalley",
    "va": "na-ashburn",
    "fra": "eu-frankfurt",
}
_LONG_REGION = re.compile(r"[a-z]{2}-[a-z]+(?:-[a-z0-9]+)*")
_APPID = re.compile(r"[0-9]{1,20}")
_SIZE_TEXT = re.compile(r"[0-9]{1,20}")  # bytes; COS objects are far below 10**20


@record
class UploadRecord:
    """One created object, as the trigger described it."""

    index: int
    bucket: str  # "<name>-<appid>"
    region: str  # "ap-guangzhou"
    key: str  # raw object key, as stored
    size: int
    etag: str | None  # without quotes; None when the event carries none
    version_id: str | None
    event_name: str
    request_id: str | None  # the upload's x-cos-request-id
    event_time: int | None = None  # eventTime: when COS raised the event (epoch s, COS's clock)

    @property
    def object_ref(self) -> ObjectRef:
        return ObjectRef(self.bucket, self.region, self.key, self.version_id)


class RecordError(EventError):
    """One record that cannot be used; ``key`` is the raw cosObject.key when there is one."""

    def __init__(self, index: int, problem: str, key: str | None = None) -> None:
        super().__init__(f"record {index}: {problem}")
        self.index = index
        self.problem = problem
        self.key = key


ParsedRecord = Union[UploadRecord, RecordError]


def _mapping(node: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(node, Mapping):
        raise EventError(f"{what} is missing or not an object")
    return node


def _text(node: Mapping[str, Any], name: str, what: str) -> str:
    value = node.get(name)
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)  # appid has been seen as a number in hand-written events
    if not isinstance(value, str) or not value:
        raise EventError(f"{what}.{name} is missing or not a string")
    return value


def region_of(bucket: Mapping[str, Any]) -> str:
    """cosRegion / s3Region when present, else the short ``region`` code mapped."""
    for name in ("cosRegion", "s3Region"):
        value = bucket.get(name)
        if isinstance(value, str) and _LONG_REGION.fullmatch(value):
            return value
    code = bucket.get("region")
    if isinstance(code, str) and _LONG_REGION.fullmatch(code):
        return code
    if isinstance(code, str) and code in SHORT_REGION_CODES:
        return SHORT_REGION_CODES[code]
    raise EventError(f"unknown COS region code {code!r}")


def _size(obj: Mapping[str, Any]) -> int:
    size = obj.get("size")
    # ASCII digits only: str.isdigit() also takes "²" (int() refuses it) and any length.
    if isinstance(size, str) and _SIZE_TEXT.fullmatch(size):
        size = int(size)
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise EventError("cosObject.size is missing or not a non-negative integer")
    return size


def _meta_value(meta: Mapping[str, Any], name: str) -> str | None:
    for meta_name, value in meta.items():
        if str(meta_name).lower() == name and isinstance(value, str) and value:
            return value
    return None


def _etag(meta: Mapping[str, Any]) -> str | None:
    value = _meta_value(meta, "etag")
    if value is None:
        return None
    return value.strip().strip('"') or None


def _object_key(raw_key: str, appid: str, name: str) -> str:
    prefix = f"/{appid}/{name}/"
    if not raw_key.startswith(prefix):
        raise EventError(f"cosObject.key does not start with {prefix!r}")
    key = raw_key[len(prefix) :]
    if not key:
        raise EventError("cosObject.key names no object")
    return key


def _upload_record(index: int, record: object) -> UploadRecord:
    fields = _mapping(record, "record")
    cos = _mapping(fields.get("cos"), "cos")
    bucket = _mapping(cos.get("cosBucket"), "cos.cosBucket")
    obj = _mapping(cos.get("cosObject"), "cos.cosObject")
    event = _mapping(fields.get("event"), "event")
    name = _text(bucket, "name", "cosBucket")
    appid = _text(bucket, "appid", "cosBucket")
    if not _APPID.fullmatch(appid):
        raise EventError("cosBucket.appid is not numeric")
    raw_meta = obj.get("meta")
    meta: Mapping[str, Any] = raw_meta if isinstance(raw_meta, Mapping) else {}
    vid = obj.get("vid")
    return UploadRecord(
        index=index,
        bucket=f"{name}-{appid}",
        region=region_of(bucket),
        key=_object_key(_text(obj, "key", "cosObject"), appid, name),
        size=_size(obj),
        etag=_etag(meta),
        version_id=vid if isinstance(vid, str) and vid else None,
        event_name=_text(event, "eventName", "event"),
        request_id=_meta_value(meta, "x-cos-request-id"),
        event_time=_event_time(event),
    )


def _event_time(event: Mapping[str, Any]) -> int | None:
    value = event.get("eventTime")
    if isinstance(value, str) and value.isdigit() and len(value) <= 12:
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 10**11:
        return None  # absent or unreadable: the duplicate check then cannot use it
    return value


def _raw_key_hint(record: Any) -> str | None:
    try:
        key = record["cos"]["cosObject"]["key"]
    except (KeyError, TypeError):
        return None
    return key if isinstance(key, str) else None


def parse_cos_event(event: Any) -> tuple[ParsedRecord, ...]:
    """Every record of ``event``; EventError only when the event itself has no Records list."""
    records = event.get("Records") if isinstance(event, Mapping) else None
    if not isinstance(records, list):
        raise EventError("not a COS trigger event: no Records list")
    parsed: list[ParsedRecord] = []
    for index, raw_record in enumerate(records):
        try:
            parsed.append(_upload_record(index, raw_record))
        except EventError as exc:
            parsed.append(RecordError(index, str(exc), _raw_key_hint(raw_record)))
    return tuple(parsed)
