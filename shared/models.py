"""Typed values passed between the edges and the core: objects, jobs, media info, tags.

Frozen dataclasses only; no I/O, no parsing (parsers live in ``shared.xmlcodec`` and
``shared.mediainfo``). Values are already typed: durations in seconds, bitrates in kbps,
sizes in bytes, rotation in degrees. ``None`` means "not reported".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Tuple

# (key, value) pairs in COS order. A plain alias keeps tag sets hashable and easy to compare.
Tag = Tuple[str, str]
TagSet = Tuple[Tag, ...]

FINISHED_JOB_STATES = frozenset({"Success", "Failed", "Cancel"})


@dataclass(frozen=True)
class ObjectRef:
    """One COS object. ``bucket`` is the full ``<name>-<appid>``; ``key`` is raw (never encoded)."""

    bucket: str
    region: str
    key: str
    version_id: Optional[str] = None


@dataclass(frozen=True)
class ObjectHead:
    """What HEAD Object tells us. ``etag`` has its quotes removed."""

    etag: str
    size: int
    content_type: Optional[str] = None
    version_id: Optional[str] = None
    last_modified: Optional[str] = None


@dataclass(frozen=True)
class ListedObject:
    """One ``<Contents>`` entry of GET Bucket."""

    key: str
    etag: str
    size: int
    last_modified: Optional[str] = None


@dataclass(frozen=True)
class BucketPage:
    """One page of GET Bucket (list objects)."""

    objects: Tuple[ListedObject, ...]
    is_truncated: bool
    next_marker: Optional[str] = None
    common_prefixes: Tuple[str, ...] = ()


@dataclass(frozen=True)
class FormatInfo:
    name: Optional[str] = None  # FormatName, e.g. "mov,mp4,m4a,3gp,3g2,mj2"
    long_name: Optional[str] = None
    duration_s: Optional[float] = None
    bitrate_kbps: Optional[float] = None
    size_bytes: Optional[int] = None
    num_streams: Optional[int] = None
    num_programs: Optional[int] = None
    start_time_s: Optional[float] = None


@dataclass(frozen=True)
class VideoStream:
    index: Optional[int] = None
    codec_name: Optional[str] = None
    codec_long_name: Optional[str] = None
    codec_tag_string: Optional[str] = None
    profile: Optional[str] = None
    level: Optional[int] = None
    width: Optional[int] = None
    height: Optional[int] = None
    fps: Optional[float] = None
    avg_fps: Optional[float] = None  # "30.000000" or a rational "24/1", both typed to float
    bitrate_kbps: Optional[float] = None
    duration_s: Optional[float] = None
    start_time_s: Optional[float] = None
    num_frames: Optional[int] = None
    rotation_deg: Optional[float] = None
    pix_format: Optional[str] = None
    dar: Optional[str] = None
    sar: Optional[str] = None
    field_order: Optional[str] = None
    color_primaries: Optional[str] = None
    color_range: Optional[str] = None
    color_transfer: Optional[str] = None
    has_b_frames: Optional[int] = None
    ref_frames: Optional[int] = None
    language: Optional[str] = None


@dataclass(frozen=True)
class AudioStream:
    index: Optional[int] = None
    codec_name: Optional[str] = None
    codec_long_name: Optional[str] = None
    codec_tag_string: Optional[str] = None
    sample_rate_hz: Optional[int] = None
    channels: Optional[int] = None
    channel_layout: Optional[str] = None
    sample_fmt: Optional[str] = None
    bitrate_kbps: Optional[float] = None
    duration_s: Optional[float] = None
    start_time_s: Optional[float] = None
    language: Optional[str] = None


@dataclass(frozen=True)
class SubtitleStream:
    index: Optional[int] = None
    language: Optional[str] = None


@dataclass(frozen=True)
class MediaInfo:
    format: Optional[FormatInfo] = None
    videos: Tuple[VideoStream, ...] = ()
    audios: Tuple[AudioStream, ...] = ()
    subtitles: Tuple[SubtitleStream, ...] = ()


@dataclass(frozen=True)
class JobInput:
    bucket_id: Optional[str] = None  # "<name>-<appid>"
    object: Optional[str] = None  # raw object key
    region: Optional[str] = None


@dataclass(frozen=True)
class JobOperation:
    user_data: Optional[str] = None
    job_level: Optional[int] = None
    media_info: Optional[MediaInfo] = None


@dataclass(frozen=True)
class Job:
    """One CI job as GET /jobs/<id>, POST /jobs and the callback describe it."""

    job_id: str
    state: str  # Submitted | Running | Success | Failed | Pause | Cancel
    tag: Optional[str] = None
    code: Optional[str] = None
    message: Optional[str] = None
    input: JobInput = field(default_factory=JobInput)
    operation: JobOperation = field(default_factory=JobOperation)
    queue_id: Optional[str] = None
    creation_time: Optional[str] = None  # CI text, e.g. 2022-06-27T15:23:10+0800; "-" -> None
    start_time: Optional[str] = None
    end_time: Optional[str] = None

    @property
    def is_finished(self) -> bool:
        return self.state in FINISHED_JOB_STATES

    @property
    def succeeded(self) -> bool:
        return self.state == "Success"


@dataclass(frozen=True)
class JobsPage:
    """GET /jobs/<ids> or GET /jobs?tag=...: the jobs found, unknown ids, the paging token."""

    jobs: Tuple[Job, ...] = ()
    non_exist_job_ids: Tuple[str, ...] = ()
    next_token: Optional[str] = None


@dataclass(frozen=True)
class CallbackNotice:
    """A CI job-finished notification, as the callback body claims it (untrusted)."""

    event_name: str
    jobs: Tuple[Job, ...] = ()
