"""Typed values passed between the edges and the core: objects, jobs, media info, tags.

Frozen dataclasses only; no I/O, no parsing (parsers live in ``shared.tencent.xml_answers`` and
``shared.media.mediainfo``). Values are already typed: durations in seconds, bitrates in kbps,
sizes in bytes, rotation in degrees. ``None`` means "not reported".
"""

from __future__ import annotations

from shared.records import field, record

# (key, value) pairs in COS order. A plain alias keeps tag sets hashable and easy to compare.
Tag = tuple[str, str]
TagSet = tuple[Tag, ...]

FINISHED_JOB_STATES = frozenset({"Success", "Failed", "Cancel"})
MEDIA_INFO_TAG = "MediaInfo"  # the Tag of the only jobs this project submits and applies


@record
class ObjectRef:
    """One COS object. ``bucket`` is the full ``<name>-<appid>``; ``key`` is raw (never encoded)."""

    bucket: str
    region: str
    key: str
    version_id: str | None = None


@record
class ObjectHead:
    """What HEAD Object tells us. ``etag`` has its quotes removed."""

    etag: str
    size: int
    content_type: str | None = None
    version_id: str | None = None
    last_modified: str | None = None


@record
class ListedObject:
    """One ``<Contents>`` entry of GET Bucket."""

    key: str
    etag: str
    size: int
    last_modified: str | None = None


@record
class BucketPage:
    """One page of GET Bucket (list objects)."""

    objects: tuple[ListedObject, ...]
    is_truncated: bool
    next_marker: str | None = None
    common_prefixes: tuple[str, ...] = ()


@record
class FormatInfo:
    name: str | None = None  # FormatName, e.g. "mov,mp4,m4a,3gp,3g2,mj2"
    long_name: str | None = None
    duration_s: float | None = None
    bitrate_kbps: float | None = None
    size_bytes: int | None = None
    num_streams: int | None = None
    num_programs: int | None = None
    start_time_s: float | None = None


@record
class VideoStream:
    index: int | None = None
    codec_name: str | None = None
    codec_long_name: str | None = None
    codec_tag_string: str | None = None
    profile: str | None = None
    level: int | None = None
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    avg_fps: float | None = None  # "30.000000" or a rational "24/1", both typed to float
    bitrate_kbps: float | None = None
    duration_s: float | None = None
    start_time_s: float | None = None
    num_frames: int | None = None
    rotation_deg: float | None = None
    pix_format: str | None = None
    dar: str | None = None
    sar: str | None = None
    field_order: str | None = None
    color_primaries: str | None = None
    color_range: str | None = None
    color_transfer: str | None = None
    has_b_frames: int | None = None
    ref_frames: int | None = None
    language: str | None = None


@record
class AudioStream:
    index: int | None = None
    codec_name: str | None = None
    codec_long_name: str | None = None
    codec_tag_string: str | None = None
    sample_rate_hz: int | None = None
    channels: int | None = None
    channel_layout: str | None = None
    sample_fmt: str | None = None
    bitrate_kbps: float | None = None
    duration_s: float | None = None
    start_time_s: float | None = None
    language: str | None = None


@record
class SubtitleStream:
    index: int | None = None
    language: str | None = None


@record
class MediaInfo:
    format: FormatInfo | None = None
    videos: tuple[VideoStream, ...] = ()
    audios: tuple[AudioStream, ...] = ()
    subtitles: tuple[SubtitleStream, ...] = ()


@record
class JobInput:
    bucket_id: str | None = None  # "<name>-<appid>"
    object: str | None = None  # raw object key
    region: str | None = None


@record
class JobOperation:
    user_data: str | None = None
    job_level: int | None = None
    media_info: MediaInfo | None = None
    # The whole MediaInfo node as canonical JSON text (``shared.media.mediainfo_tree``): every
    # field CI sent, for the result document. Text keeps the record immutable and hashable.
    media_info_json: str | None = None


@record
class Job:
    """One CI job as GET /jobs/<id>, POST /jobs and the callback describe it."""

    job_id: str
    state: str  # Submitted | Running | Success | Failed | Pause | Cancel
    tag: str | None = None
    code: str | None = None
    message: str | None = None
    input: JobInput = field(default_factory=JobInput)
    operation: JobOperation = field(default_factory=JobOperation)
    queue_id: str | None = None
    creation_time: str | None = None  # CI text, e.g. 2022-06-27T15:23:10+0800; "-" -> None
    start_time: str | None = None
    end_time: str | None = None

    @property
    def is_finished(self) -> bool:
        return self.state in FINISHED_JOB_STATES

    @property
    def succeeded(self) -> bool:
        return self.state == "Success"

    @property
    def is_media_info(self) -> bool:
        """A MediaInfo job; a Transcode job (even one carrying MediaInfo) is not ours."""
        return self.tag == MEDIA_INFO_TAG


@record
class ResultLocation:
    """Where result documents go (MEDIA_TAGGER_RESULT_DOCUMENT): a bucket and a key prefix that
    ends with '/'. The bucket is addressed in the region of the object the document is about."""

    bucket: str
    prefix: str

    @property
    def uri(self) -> str:
        return f"cos://{self.bucket}/{self.prefix}"

    def holds(self, bucket: str, key: str) -> bool:
        """Is ``key`` of ``bucket`` under this location (a document, or where one could be)?"""
        return bucket == self.bucket and key.startswith(self.prefix)


@record
class JobsPage:
    """GET /jobs/<ids> or GET /jobs?tag=...: the jobs found, unknown ids, the paging token."""

    jobs: tuple[Job, ...] = ()
    non_exist_job_ids: tuple[str, ...] = ()
    next_token: str | None = None


@record
class CallbackNotice:
    """A CI job-finished notification, as the callback body claims it (untrusted)."""

    event_name: str
    jobs: tuple[Job, ...] = ()
