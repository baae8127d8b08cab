"""The result document of one verified job: the JSON of schema version 1 (docs/result-document.md).

Built only from what the writer verified: the GET /jobs answer (``Job``, its typed MediaInfo and
the whole MediaInfo node kept as ``media_info_json``), the UserData facts it checked against
HEAD, and HEAD itself; never from a callback body. Field names and types are fixed per
``SCHEMA_VERSION``: renaming a field or changing its type makes a new version, a new field may be
added within one. Times are RFC 3339 UTC seconds (``2026-01-31T09:22:39Z``) or null. Pure: the
writing time is passed in.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from shared.contract.userdata import UserDataFacts
from shared.models import Job, MediaInfo, ObjectHead, ObjectRef
from shared.records import as_dict
from shared.results.ordering import http_date_second
from shared.time_window import parse_ci_time

SCHEMA = "cos-media-tagger/result-document"
SCHEMA_VERSION = 1
CONTENT_TYPE = "application/json"


def utc_text(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return datetime.fromtimestamp(int(epoch), timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _typed_media(info: MediaInfo | None) -> dict[str, Any] | None:
    """Our typed reading of the MediaInfo (the units are in the names: _s, _kbps, _hz ...)."""
    if info is None:
        return None
    return {
        "format": as_dict(info.format) if info.format is not None else None,
        "video": [as_dict(stream) for stream in info.videos],
        "audio": [as_dict(stream) for stream in info.audios],
        "subtitle": [as_dict(stream) for stream in info.subtitles],
    }


def _job_section(job: Job, facts: UserDataFacts) -> dict[str, Any]:
    return {
        "id": job.job_id,
        "state": job.state,
        "code": job.code,
        "message": job.message,
        "queue_id": job.queue_id,
        "attempt": facts.attempt,
        "creation_time": utc_text(parse_ci_time(job.creation_time)),
        "start_time": utc_text(parse_ci_time(job.start_time)),
        "end_time": utc_text(parse_ci_time(job.end_time)),
    }


def document_body(
    obj: ObjectRef,
    job: Job,
    facts: UserDataFacts,
    head: ObjectHead,
    *,
    status: str,
    written_at: float,
) -> dict[str, Any]:
    """The document as JSON-able data; ``status`` is the status tag's value for this result."""
    raw = job.operation.media_info_json
    return {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "status": status,
        "written_at": utc_text(written_at),
        "object": {
            "bucket": obj.bucket,
            "region": obj.region,
            "key": obj.key,
            "version_id": facts.version_id,
            "etag": facts.etag.strip('"'),
            "size": facts.size,
            "last_modified": utc_text(http_date_second(head.last_modified)),
        },
        "job": _job_section(job, facts),
        "media": _typed_media(job.operation.media_info),
        "media_info": json.loads(raw) if raw is not None else None,
    }


def document_bytes(body: dict[str, Any]) -> bytes:
    """UTF-8 JSON, indented for people who open it in the console."""
    return json.dumps(body, ensure_ascii=False, indent=2, allow_nan=False).encode("utf-8")
