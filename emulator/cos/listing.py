"""GET Bucket for the emulator: ListBucketResult with prefix, marker, max-keys and delimiter
(the paging itself, ``page_objects``, and the delimiter roll-up are shared with upload listings).

Keys come in UTF-8 byte order (as COS lists them); ``encoding-type=url`` percent-encodes keys,
prefixes and markers in the answer (cos-python-sdk-v5 always asks for it and decodes). Nothing
here writes to the store or checks signatures.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import quote

from emulator.cos.store import ObjectStore, StoredObject
from emulator.wire import ApiRequest, Reply, ServiceError
from emulator.xmlreply import XML_CONTENT_TYPE, XmlNode, to_xml

MAX_LIST_KEYS = 1000


@dataclass(frozen=True)
class ListingPage:
    objects: tuple[StoredObject, ...]
    common_prefixes: tuple[str, ...]
    is_truncated: bool
    next_marker: str | None


def _utf8_order(key: str) -> bytes:
    return key.encode("utf-8")


def rolled_up(key: str, prefix: str, delimiter: str) -> str | None:
    """The common prefix ``key`` rolls up into under ``delimiter``, or None."""
    if not delimiter:
        return None
    cut = key.find(delimiter, len(prefix))
    return key[: cut + len(delimiter)] if cut >= 0 else None


def page_objects(
    objects: Mapping[str, StoredObject],
    *,
    prefix: str = "",
    marker: str = "",
    max_keys: int = MAX_LIST_KEYS,
    delimiter: str = "",
) -> ListingPage:
    """Keys > marker with ``prefix``, in UTF-8 byte order; ``delimiter`` rolls up prefixes."""
    marker_order = _utf8_order(marker)
    keys = sorted(
        (k for k in objects if k.startswith(prefix) and _utf8_order(k) > marker_order),
        key=_utf8_order,
    )
    listed: list[StoredObject] = []
    prefixes: list[str] = []
    last = ""
    for key in keys:
        rolled = rolled_up(key, prefix, delimiter)
        # Every entry of a page sorts after the marker, common prefixes too: a page that ended
        # on "dir/" (NextMarker) must not list "dir/" again (S3/COS GET Bucket).
        if rolled is not None and (
            (prefixes and prefixes[-1] == rolled) or _utf8_order(rolled) <= marker_order
        ):
            continue
        if len(listed) + len(prefixes) >= max_keys:
            return ListingPage(tuple(listed), tuple(prefixes), True, last or None)
        if rolled is not None:
            prefixes.append(rolled)
            last = rolled
        else:
            listed.append(objects[key])
            last = key
    return ListingPage(tuple(listed), tuple(prefixes), False, None)


def iso_time(epoch: float) -> str:
    """``2019-05-24T10:56:40.000Z`` as in ListBucketResult."""
    stamp = datetime.fromtimestamp(epoch, timezone.utc)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"


def list_bucket(store: ObjectStore, request: ApiRequest) -> Reply:
    """Answer GET Bucket; max-keys defaults to 1000 and is capped there."""
    prefix = request.param("prefix") or ""
    marker = request.param("marker") or ""
    delimiter = request.param("delimiter") or ""
    max_keys = _max_keys(request.param("max-keys"))
    encode = (request.param("encoding-type") or "").lower() == "url"
    page = page_objects(
        store.objects(request.bucket),
        prefix=prefix,
        marker=marker,
        max_keys=max_keys,
        delimiter=delimiter,
    )
    shown = (lambda text: quote(text.encode("utf-8"), safe="/-_.~")) if encode else str
    nodes: list[XmlNode] = [("Name", request.bucket)]
    if encode:
        nodes.append(("EncodingType", "url"))
    nodes += [
        ("Prefix", shown(prefix) or None),
        ("Marker", shown(marker) or None),
        ("MaxKeys", str(max_keys)),
    ]
    if delimiter:
        nodes.append(("Delimiter", shown(delimiter)))
    nodes.append(("IsTruncated", "true" if page.is_truncated else "false"))
    if page.next_marker:
        nodes.append(("NextMarker", shown(page.next_marker)))
    nodes += [("CommonPrefixes", [("Prefix", shown(p))]) for p in page.common_prefixes]
    nodes += [("Contents", _contents(obj, shown(obj.key))) for obj in page.objects]
    return Reply(200, [("Content-Type", XML_CONTENT_TYPE)], to_xml("ListBucketResult", nodes))


def _max_keys(value: str | None) -> int:
    if value is None or value == "":
        return MAX_LIST_KEYS
    if not value.isdigit() or not value.isascii():
        raise ServiceError(400, "InvalidArgument", "max-keys must be a non-negative integer")
    return min(int(value), MAX_LIST_KEYS)


def _contents(obj: StoredObject, key: str) -> list[XmlNode]:
    appid = obj.bucket.rsplit("-", 1)[-1]
    return [
        ("Key", key),
        ("LastModified", iso_time(obj.last_modified)),
        ("ETag", f'"{obj.etag}"'),
        ("Size", str(obj.size)),
        ("Owner", [("ID", appid), ("DisplayName", appid)]),
        ("StorageClass", "STANDARD"),
    ]
