"""ffprobe -> Cloud Infinite MediaInfo: run the real ffprobe on a stored object, map to CI's shape.

CI's MediaInfo is ffprobe output renamed (cos-ci-api.md section 4): seconds and frame rates as
6-decimal strings ("31.533000"), bitrates in kbps ("128.012000"), counts and sizes as integers,
fields of each node in alphabetical order as in the CI samples, an empty ``<Subtitle/>`` when
there is none. ffprobe runs without a shell and with a timeout, on a link to the stored bytes
that has no file name extension: the store names files ``<hash>.bin`` and ffprobe would pick its
``bin`` (binary text) demuxer from that suffix and call a text file a 1280x10000 video, so the
demuxer is chosen from the content alone (the object's own extension is not trusted either: a
``.txt`` would get ffprobe's ``tty`` "video"). This module does not decide job states; it raises
``MediaProbeError`` (a CI error code + message) for unreadable input.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Mapping
from fractions import Fraction
from pathlib import Path
from typing import Any

from emulator.xmlreply import XmlNode

FFPROBE_ARGS = ("-v", "error", "-print_format", "json", "-show_format", "-show_streams")
DEFAULT_TIMEOUT_S = 30.0
# The handbook's CI error table (cos-ci-api.md 2.5) lists ResourceNotSupported for "bad /
# unsupported file": used when ffprobe cannot read the object or finds no audio/video stream.
NOT_MEDIA_CODE = "ResourceNotSupported"
# CI reports colour fields as "unknown" when the stream does not carry them (handbook section 4).
_COLOUR_FIELDS = {
    "ColorPrimaries": "color_primaries",
    "ColorRange": "color_range",
    "ColorTransfer": "color_transfer",
}


class MediaProbeError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def find_ffprobe(which: Callable[[str], str | None] = shutil.which) -> str:
    """Path of ffprobe; RuntimeError with install advice when it is missing (no fallback)."""
    path = which("ffprobe")
    if path is None:
        raise RuntimeError(
            "ffprobe not found on PATH: the emulator needs it for CI MediaInfo jobs "
            "(Debian/Ubuntu: apt-get install ffmpeg; macOS: brew install ffmpeg)"
        )
    return path


def run_ffprobe(ffprobe: str, media: Path, timeout_s: float = DEFAULT_TIMEOUT_S) -> dict[str, Any]:
    """ffprobe's JSON for ``media``; MediaProbeError when ffprobe refuses the file."""
    with tempfile.TemporaryDirectory(prefix="ci-probe-") as scratch:
        unnamed = os.path.join(scratch, "object")  # no extension: content decides the demuxer
        os.symlink(os.path.abspath(media), unnamed)
        try:
            done = subprocess.run(
                [ffprobe, *FFPROBE_ARGS, unnamed],
                capture_output=True,
                timeout=timeout_s,
                check=False,
                shell=False,
            )
        except subprocess.TimeoutExpired as exc:
            message = f"ffprobe took longer than {timeout_s} s"
            raise MediaProbeError("InternalError", message) from exc
    if done.returncode != 0:
        raise MediaProbeError(NOT_MEDIA_CODE, "The input file is not a supported media file")
    try:
        parsed = json.loads(done.stdout.decode("utf-8", "replace"))
    except ValueError as exc:
        raise MediaProbeError("InternalError", "ffprobe printed no JSON") from exc
    return parsed if isinstance(parsed, dict) else {}


def _float(value: Any) -> float | None:
    try:
        return float(Fraction(str(value))) if value not in (None, "", "N/A") else None
    except (ValueError, ZeroDivisionError):
        return None


def _six(value: Any) -> str | None:
    number = _float(value)
    return None if number is None else f"{number:.6f}"


def _kbps(bit_rate: Any) -> str | None:
    number = _float(bit_rate)
    return None if number is None else f"{number / 1000:.6f}"


def _int(value: Any) -> str | None:
    number = _float(value)
    return None if number is None else str(int(number))


def _text(value: Any) -> str | None:
    return None if value in (None, "", "N/A") else str(value)


def _rotation(stream: Mapping[str, Any]) -> str:
    """The clockwise rotation a player applies to show the picture upright, 0..359.

    CI's sign is unknown (every CI sample says 0.000000: research ci-facts.md section 7), so this
    is the convention users expect and ffprobe's old ``rotate`` tag used: a portrait phone clip
    (display matrix [0 1 -1 0], which ffprobe >= 5 prints as side data ``rotation: -90``) is 90.
    ffprobe's side-data angle is counter-clockwise, hence the minus. ffmpeg's own autorotate turns
    the picture by the same amount. (Caution: ffmpeg 5.x writes ``-metadata:s:v rotate=90`` as a
    counter-clockwise 90 matrix, which plays, and is reported here, as 270.)
    """
    rotate = _float(stream.get("tags", {}).get("rotate"))
    if rotate is None:
        for side in stream.get("side_data_list", ()):
            angle = _float(side.get("rotation"))
            if angle is not None:
                rotate = -angle
                break
    return f"{(rotate or 0.0) % 360:.6f}"


def _codec_time_base(stream: Mapping[str, Any]) -> str | None:
    """CodecTimeBase equals the stream's time base in CI's MediaInfo samples (1/12800 with
    Timebase 1/12800, 1/44100 with 1/44100: research ci-facts.md section 7); ffprobe >= 5 no
    longer prints a codec time base; older ffprobe's 1/(2 fps) is in no MediaInfo sample."""
    return _text(stream.get("time_base"))


def _common(stream: Mapping[str, Any], fallback_duration: Any) -> dict[str, str | None]:
    return {
        "Bitrate": _kbps(stream.get("bit_rate")),
        "CodecLongName": _text(stream.get("codec_long_name")),
        "CodecName": _text(stream.get("codec_name")),
        "CodecTag": _text(stream.get("codec_tag")),
        "CodecTagString": _text(stream.get("codec_tag_string")),
        "CodecTimeBase": _codec_time_base(stream),
        "Duration": _six(stream.get("duration", fallback_duration)),
        "Index": _int(stream.get("index")),
        "Language": _text(stream.get("tags", {}).get("language")) or "und",
        "StartTime": _six(stream.get("start_time")),
        "Timebase": _text(stream.get("time_base")),
    }


def _video(stream: Mapping[str, Any], fallback_duration: Any) -> dict[str, str | None]:
    fields = _common(stream, fallback_duration)
    fields.update(
        AvgFps=_six(stream.get("avg_frame_rate")),
        Dar=_text(stream.get("display_aspect_ratio")),
        FieldOrder=_text(stream.get("field_order")),
        Fps=_six(stream.get("r_frame_rate")),
        HasBFrame=_int(stream.get("has_b_frames")),
        Height=_int(stream.get("height")),
        Level=_int(stream.get("level")),
        NumFrames=_int(stream.get("nb_frames")),
        PixFormat=_text(stream.get("pix_fmt")),
        Profile=_text(stream.get("profile")),
        RefFrames=_int(stream.get("refs")),
        Rotation=_rotation(stream),
        Sar=_text(stream.get("sample_aspect_ratio")),
        Width=_int(stream.get("width")),
    )
    for name, source in _COLOUR_FIELDS.items():
        fields[name] = _text(stream.get(source)) or "unknown"
    return fields


def _audio(stream: Mapping[str, Any], fallback_duration: Any) -> dict[str, str | None]:
    fields = _common(stream, fallback_duration)
    fields.update(
        Channel=_int(stream.get("channels")),
        ChannelLayout=_text(stream.get("channel_layout")),
        SampleFmt=_text(stream.get("sample_fmt")),
        SampleRate=_int(stream.get("sample_rate")),
    )
    return fields


def _nodes(fields: Mapping[str, str | None]) -> list[XmlNode]:
    return [(name, value) for name, value in sorted(fields.items()) if value is not None]


def _format(fmt: Mapping[str, Any]) -> list[XmlNode]:
    return _nodes(
        {
            "Bitrate": _kbps(fmt.get("bit_rate")),
            "Duration": _six(fmt.get("duration")),
            "FormatLongName": _text(fmt.get("format_long_name")),
            "FormatName": _text(fmt.get("format_name")),
            "NumProgram": _int(fmt.get("nb_programs")),
            "NumStream": _int(fmt.get("nb_streams")),
            "Size": _int(fmt.get("size")),
            "StartTime": _six(fmt.get("start_time")),
        }
    )


def media_info_nodes(probed: Mapping[str, Any]) -> list[XmlNode]:
    """ffprobe JSON -> the children of ``<MediaInfo>``; MediaProbeError without audio/video."""
    fmt = probed.get("format") or {}
    streams = [s for s in probed.get("streams") or () if isinstance(s, dict)]
    by_type: dict[str, list[XmlNode]] = {"Audio": [], "Subtitle": [], "Video": []}
    for stream in streams:
        kind = stream.get("codec_type")
        if kind == "video":
            by_type["Video"].append(("Video", _nodes(_video(stream, fmt.get("duration")))))
        elif kind == "audio":
            by_type["Audio"].append(("Audio", _nodes(_audio(stream, fmt.get("duration")))))
        elif kind == "subtitle":
            subtitle = {
                "Index": _int(stream.get("index")),
                "Language": _text(stream.get("tags", {}).get("language")) or "und",
            }
            by_type["Subtitle"].append(("Subtitle", _nodes(subtitle)))
    if not by_type["Video"] and not by_type["Audio"]:
        raise MediaProbeError(NOT_MEDIA_CODE, "The input file has no audio or video stream")
    stream_nodes = (
        by_type["Audio"] + (by_type["Subtitle"] or [("Subtitle", None)]) + by_type["Video"]
    )
    return [("Format", _format(fmt)), ("Stream", stream_nodes)]


def probe_media_info(
    ffprobe: str, media: Path, timeout_s: float = DEFAULT_TIMEOUT_S
) -> list[XmlNode]:
    """Run ffprobe on ``media`` and map the result to CI MediaInfo nodes."""
    return media_info_nodes(run_ffprobe(ffprobe, media, timeout_s))
