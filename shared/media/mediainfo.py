"""Typed MediaInfo and Job values from a parsed tree: one parser for XML-derived trees and JSON.

The tree is what ``shared.tencent.xml_answers.element_to_tree`` or ``json`` produced: nested
mappings, lists for repeated nodes, and leaves that are strings (sometimes JSON numbers). Media
values are typed leniently -- anything unparsable, non-finite or out of range becomes ``None`` and
never raises -- while a JobsDetail without JobId or State is refused. No I/O and no XML parsing
here.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import Any

from shared.errors import MalformedBodyError
from shared.models import (
    AudioStream,
    FormatInfo,
    Job,
    JobInput,
    JobOperation,
    MediaInfo,
    SubtitleStream,
    VideoStream,
)

# Plain ASCII decimals only: float() would also take "nan", "infinity", "1_000" and Arabic digits.
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_DIGITS = re.compile(r"[0-9]+")
_MAX_NUMBER_CHARS = 64  # no real value is longer; also keeps int() far from its digit limit
_NO_TIME = frozenset({"", "-"})


def optional_text(value: Any) -> str | None:
    """A leaf as text, unchanged; '' and non-leaves -> None; a JSON number -> its decimal text."""
    if isinstance(value, str):
        return value or None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    try:
        return str(value)
    except ValueError:  # an int beyond the interpreter's digit limit
        return None


def _label(value: Any) -> str | None:
    text = optional_text(value)
    return text.strip() or None if text is not None else None


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        try:
            result = float(value)
        except OverflowError:
            return None
    elif isinstance(value, str):
        text = value.strip()
        if len(text) > _MAX_NUMBER_CHARS or not _DECIMAL.fullmatch(text):
            return None
        result = float(text)
    else:
        return None
    return result if math.isfinite(result) else None


def _signed_float(value: Any) -> float | None:
    """Start times and rotations may be negative (ffprobe reports e.g. -0.021 or -90)."""
    return _number(value)


def _amount(value: Any) -> float | None:
    """Durations, bitrates, frame rates: finite and not negative."""
    result = _number(value)
    return result if result is not None and result >= 0 else None


def _count(value: Any) -> int | None:
    """Widths, indexes, sizes, levels ...: whole and not negative ("1080", 1080, "1080.0")."""
    if isinstance(value, str) and _DIGITS.fullmatch(value.strip()):
        text = value.strip()
        return int(text) if len(text) <= _MAX_NUMBER_CHARS else None
    result = _amount(value)
    return int(result) if result is not None and result.is_integer() else None


def _rate(value: Any) -> float | None:
    """Frame rate as a decimal ("29.970030") or a rational ("30000/1001"); x/0 -> None."""
    if isinstance(value, str) and "/" in value:
        numerator, _, denominator = value.partition("/")
        top, bottom = _amount(numerator), _amount(denominator)
        if top is None or not bottom:
            return None
        return _amount(top / bottom)
    return _amount(value)


Field = tuple[str, Callable[[Any], Any]]

_FORMAT_FIELDS: dict[str, Field] = {
    "name": ("FormatName", _label),
    "long_name": ("FormatLongName", _label),
    "duration_s": ("Duration", _amount),
    "bitrate_kbps": ("Bitrate", _amount),
    "size_bytes": ("Size", _count),
    "num_streams": ("NumStream", _count),
    "num_programs": ("NumProgram", _count),
    "start_time_s": ("StartTime", _signed_float),
}
_COMMON_STREAM_FIELDS: dict[str, Field] = {
    "index": ("Index", _count),
    "codec_name": ("CodecName", _label),
    "codec_long_name": ("CodecLongName", _label),
    "codec_tag_string": ("CodecTagString", _label),
    "bitrate_kbps": ("Bitrate", _amount),
    "duration_s": ("Duration", _amount),
    "start_time_s": ("StartTime", _signed_float),
    "language": ("Language", _label),
}
_VIDEO_FIELDS: dict[str, Field] = {
    **_COMMON_STREAM_FIELDS,
    "profile": ("Profile", _label),
    "level": ("Level", _count),
    "width": ("Width", _count),
    "height": ("Height", _count),
    "fps": ("Fps", _rate),
    "avg_fps": ("AvgFps", _rate),
    "num_frames": ("NumFrames", _count),
    "rotation_deg": ("Rotation", _signed_float),
    "pix_format": ("PixFormat", _label),
    "dar": ("Dar", _label),
    "sar": ("Sar", _label),
    "field_order": ("FieldOrder", _label),
    "color_primaries": ("ColorPrimaries", _label),
    "color_range": ("ColorRange", _label),
    "color_transfer": ("ColorTransfer", _label),
    "has_b_frames": ("HasBFrame", _count),
    "ref_frames": ("RefFrames", _count),
}
_AUDIO_FIELDS: dict[str, Field] = {
    **_COMMON_STREAM_FIELDS,
    "sample_rate_hz": ("SampleRate", _count),
    "channels": ("Channel", _count),
    "channel_layout": ("ChannelLayout", _label),
    "sample_fmt": ("SampleFmt", _label),
}
_SUBTITLE_FIELDS: dict[str, Field] = {
    "index": ("Index", _count),
    "language": ("Language", _label),
}


def _typed(node: Mapping[str, Any], fields: Mapping[str, Field]) -> dict[str, Any]:
    return {attr: convert(node.get(wire)) for attr, (wire, convert) in fields.items()}


def _stream_nodes(node: Any) -> list[Mapping[str, Any]]:
    """A stream node may be one object, a list, absent or empty ('' / None / {})."""
    items = node if isinstance(node, list) else [node]
    return [item for item in items if isinstance(item, Mapping) and item]


def media_info_from_tree(tree: Mapping[str, Any]) -> MediaInfo:
    """The MediaInfo node (Format + Stream) -> MediaInfo. Never raises; missing nodes are empty.

    A mapping that only wraps it (``{"MediaInfo": {...}}``, as videoinfo answers) is unwrapped.
    """
    node: Any = tree  # callers pass whatever the wire held; refuse nothing
    if not isinstance(node, Mapping):
        return MediaInfo()
    if "Format" not in node and "Stream" not in node and isinstance(node.get("MediaInfo"), Mapping):
        node = node["MediaInfo"]
    fmt = node.get("Format")
    stream = node.get("Stream")
    if not isinstance(stream, Mapping):
        stream = {}
    return MediaInfo(
        format=FormatInfo(**_typed(fmt, _FORMAT_FIELDS))
        if isinstance(fmt, Mapping) and fmt
        else None,
        videos=tuple(
            VideoStream(**_typed(n, _VIDEO_FIELDS)) for n in _stream_nodes(stream.get("Video"))
        ),
        audios=tuple(
            AudioStream(**_typed(n, _AUDIO_FIELDS)) for n in _stream_nodes(stream.get("Audio"))
        ),
        subtitles=tuple(
            SubtitleStream(**_typed(n, _SUBTITLE_FIELDS))
            for n in _stream_nodes(stream.get("Subtitle"))
        ),
    )


def _time(value: Any) -> str | None:
    text = _label(value)
    return None if text is None or text in _NO_TIME else text


def _job_input(node: Any) -> JobInput:
    if not isinstance(node, Mapping):
        return JobInput()
    return JobInput(
        bucket_id=_label(node.get("BucketId")),
        object=optional_text(node.get("Object")),  # a key may start or end with spaces: kept raw
        region=_label(node.get("Region")),
    )


def _job_operation(node: Any) -> JobOperation:
    if not isinstance(node, Mapping):
        return JobOperation()
    media = node.get("MediaInfo")
    return JobOperation(
        user_data=optional_text(node.get("UserData")),
        job_level=_count(node.get("JobLevel")),
        media_info=media_info_from_tree(media) if isinstance(media, Mapping) and media else None,
    )


def job_from_tree(tree: Mapping[str, Any]) -> Job:
    """One JobsDetail node -> Job. No JobId or no State: not a job, MalformedBodyError."""
    node: Any = tree
    if not isinstance(node, Mapping):
        raise MalformedBodyError("JobsDetail is not an object")
    job_id, state = _label(tree.get("JobId")), _label(tree.get("State"))
    if job_id is None or state is None:
        raise MalformedBodyError("JobsDetail without JobId or State")
    return Job(
        job_id=job_id,
        state=state,
        tag=_label(tree.get("Tag")),
        code=_label(tree.get("Code")),
        message=optional_text(tree.get("Message")),
        input=_job_input(tree.get("Input")),
        operation=_job_operation(tree.get("Operation")),
        queue_id=_label(tree.get("QueueId")),
        creation_time=_time(tree.get("CreationTime")),
        start_time=_time(tree.get("StartTime")),
        end_time=_time(tree.get("EndTime")),
    )
