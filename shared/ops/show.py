"""``python -m shared show KEY``: an object's result document, read back and printed.

Runs with the operator's own credentials from the environment, like backfill and reconcile (the
functions' role needs no read permission on documents). The location is
MEDIA_TAGGER_RESULT_DOCUMENT (or ``--location``); the object's bucket and region are the options,
else the one bucket of MEDIA_TAGGER_RECONCILE_BUCKETS and MEDIA_TAGGER_RECONCILE_REGION (else
TENCENTCLOUD_REGION). Prints a summary with the streams as a table (from the document's complete
``media_info``), or the document itself with ``--json``. This module only reads.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from shared.errors import ConfigError, CosNotFoundError
from shared.models import ObjectRef, ResultLocation
from shared.results.document_body import SCHEMA
from shared.results.documents import document_ref
from shared.scf.invocation import environ_transport
from shared.settings.functions import (
    RECONCILE_BUCKETS,
    RECONCILE_REGION,
    RESULT_DOCUMENT,
    result_document_setting,
)
from shared.settings.reconcile import ReconcileSettings, load_reconcile_settings
from shared.tencent.cos_client import CosClient

STREAM_COLUMNS = ("index", "type", "codec", "language", "details")


def _where(settings: ReconcileSettings, bucket: str | None, region: str | None) -> tuple[str, str]:
    if bucket is None and len(settings.buckets) == 1:
        bucket = settings.buckets[0]
    if bucket is None:
        raise ConfigError("--bucket", f"missing (or set {RECONCILE_BUCKETS} to one bucket)")
    region = region or settings.region
    if region is None:
        raise ConfigError("--region", f"missing (or set {RECONCILE_REGION})")
    return bucket, region


def read_document(
    key: str,
    *,
    bucket: str | None,
    region: str | None,
    location: str | None,
    environ: Mapping[str, str],
) -> tuple[str, dict[str, Any] | None]:
    """(the document's cos:// address, the document or None when there is none)."""
    settings = load_reconcile_settings(environ)
    bucket, region = _where(settings, bucket, region)
    chosen: ResultLocation | None = settings.result_document
    if location is not None:
        chosen = result_document_setting({RESULT_DOCUMENT: location})
    if chosen is None:
        raise ConfigError(RESULT_DOCUMENT, "not set (or pass --location cos://<bucket>/<prefix>/)")
    transport = environ_transport(environ, settings.endpoint_url, settings.max_attempts, None)
    target = document_ref(chosen, ObjectRef(bucket, region, key))
    address = f"cos://{target.bucket}/{target.key}"
    try:
        body = CosClient(transport).get_object(target)
    except CosNotFoundError:
        return address, None
    document = json.loads(body.decode("utf-8"))
    if not isinstance(document, dict) or document.get("schema") != SCHEMA:
        raise ConfigError(address, "is not a cos-media-tagger result document")
    if (document.get("object") or {}).get("key") != key:
        raise ConfigError(address, "names another object key")
    return address, document


def _text(value: Any) -> str:
    return "-" if value in (None, "") else str(value)


def _details(kind: str, stream: Mapping[str, Any]) -> str:
    if kind == "Video":
        size = f"{_text(stream.get('Width'))}x{_text(stream.get('Height'))}"
        return f"{size} {_text(stream.get('AvgFps'))} fps {_text(stream.get('PixFormat'))}"
    if kind == "Audio":
        layout = _text(stream.get("ChannelLayout"))
        return f"{_text(stream.get('SampleRate'))} Hz {_text(stream.get('Channel'))} ch {layout}"
    return ""


def stream_rows(media_info: Mapping[str, Any] | None) -> list[tuple[str, ...]]:
    """One row per stream of the document's ``media_info``, in stream index order."""
    groups = (media_info or {}).get("Stream") or {}
    rows = []
    for kind, streams in groups.items():
        for stream in streams if isinstance(streams, list) else []:
            index, codec = _text(stream.get("Index")), _text(stream.get("CodecName"))
            language = _text(stream.get("Language"))
            rows.append((index, kind.lower(), codec, language, _details(kind, stream)))
    return sorted(rows, key=lambda row: (int(row[0]) if row[0].isdigit() else 1 << 30, row))


def _table(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[i]) for row in [STREAM_COLUMNS, *rows]) for i in range(5)]
    return [
        "  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip()
        for row in [STREAM_COLUMNS, *rows]
    ]


def summary_lines(address: str, document: Mapping[str, Any]) -> list[str]:
    obj, job = document.get("object") or {}, document.get("job") or {}
    fmt = (document.get("media_info") or {}).get("Format") or {}
    lines = [
        f"document  {address}",
        f"object    {obj.get('key')} in {obj.get('bucket')} ({obj.get('region')}), "
        f"etag {_text(obj.get('etag'))}, {_text(obj.get('size'))} bytes, "
        f"version {_text(obj.get('version_id'))}",
        f"status    {document.get('status')}",
        f"job       {job.get('id')} {job.get('state')} (code {_text(job.get('code'))}, "
        f"attempt {_text(job.get('attempt'))}); created {_text(job.get('creation_time'))}, "
        f"started {_text(job.get('start_time'))}, ended {_text(job.get('end_time'))}",
        f"written   {_text(document.get('written_at'))}",
    ]
    if job.get("message"):
        lines.append(f"message   {job['message']}")
    if fmt:
        lines.append(
            f"format    {_text(fmt.get('FormatName'))}, {_text(fmt.get('Duration'))} s, "
            f"{_text(fmt.get('Bitrate'))} kbps, {_text(fmt.get('NumStream'))} streams"
        )
    rows = stream_rows(document.get("media_info"))
    return [*lines, "streams", *_table(rows)] if rows else lines
