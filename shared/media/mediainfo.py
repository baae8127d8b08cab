"""A MediaInfo node (Format + Stream) from a parsed tree -> typed ``MediaInfo``; never raises.

The tree is what ``shared.tencent.xml_parser.element_to_tree`` or ``json`` produced: nested
mappings, lists for repeated nodes, and leaves that are strings (sometimes JSON numbers). Values
are typed leniently by ``shared.media.tree_values``: anything unparsable, non-finite or out of
range becomes ``None``. Pure: no I/O and no XML parsing here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from shared.media.tree_values import amount, count, label, rate, signed_float
from shared.models import (
    AudioStream,
    FormatInfo,
    MediaInfo,
    SubtitleStream,
    VideoStream,
)

Field = tuple[str, Callable[[Any], Any]]

_FORMAT_FIELDS: dict[str, Field] = {
    "name": ("FormatName", label),
    "long_name": ("FormatLongName", label),
    "duration_s": ("Duration", amount),
    "bitrate_kbps": ("Bitrate", amount),
    "size_bytes": ("Size", count),
    "num_streams": ("NumStream", count),
    "num_programs": ("NumProgram", count),
    "start_time_s": ("StartTime", signed_float),
}
_COMMON_STREAM_FIELDS: dict[str, Field] = {
    "index": ("Index", count),
    "codec_name": ("CodecName", label),
    "codec_long_name": ("CodecLongName", label),
    "codec_tag_string": ("CodecTagString", label),
    "bitrate_kbps": ("Bitrate", amount),
    "duration_s": ("Duration", amount),
    "start_time_s": ("StartTime", signed_float),
    "language": ("Language", label),
}
_VIDEO_FIELDS: dict[str, Field] = {
    **_COMMON_STREAM_FIELDS,
    "profile": ("Profile", label),
    "level": ("Level", count),
    "width": ("Width", count),
    "height": ("Height", count),
    "fps": ("Fps", rate),
    "avg_fps": ("AvgFps", rate),
    "num_frames": ("NumFrames", count),
    "rotation_deg": ("Rotation", signed_float),
    "pix_format": ("PixFormat", label),
    "dar": ("Dar", label),
    "sar": ("Sar", label),
    "field_order": ("FieldOrder", label),
    "color_primaries": ("ColorPrimaries", label),
    "color_range": ("ColorRange", label),
    "color_transfer": ("ColorTransfer", label),
    "has_b_frames": ("HasBFrame", count),
    "ref_frames": ("RefFrames", count),
}
_AUDIO_FIELDS: dict[str, Field] = {
    **_COMMON_STREAM_FIELDS,
    "sample_rate_hz": ("SampleRate", count),
    "channels": ("Channel", count),
    "channel_layout": ("ChannelLayout", label),
    "sample_fmt": ("SampleFmt", label),
}
_SUBTITLE_FIELDS: dict[str, Field] = {
    "index": ("Index", count),
    "language": ("Language", label),
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
