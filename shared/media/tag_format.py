"""MediaInfo -> tag values with deterministic formatting, sanitised to COS's tag rules.

COS's docs disagree on the tag charset: the tagging overview allows letters of any script,
digits, space and ``+ - = . _ : / @``; the PUT Object tagging API page allows "English letters",
digits, space and ``+ - = . _ : /`` (no ``@``), keys < 128 and values < 256 bytes. Every key and
value we write obeys the narrower reading (ASCII only, no ``@``, 127/255 characters and bytes),
which both readings accept; ``sanitise_value`` enforces it, so a hostile FormatName or codec
name cannot smuggle other characters into a PUT. This module is pure:
no I/O, no logging, no clock, and it never looks at tags the object already has (see tag_merge).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Sequence

from shared.models import AudioStream, MediaInfo, TagSet, VideoStream

MAX_KEY_CHARS = 127
MAX_VALUE_CHARS = 255
STATUS_FIELD = "status"
ETAG_FIELD = "etag"
RESULT_FIELDS = (STATUS_FIELD, ETAG_FIELD)
MEDIA_FIELDS = (
    "duration",
    "resolution",
    "vcodec",
    "acodec",
    "fps",
    "bitrate",
    "container",
    "rotation",
    "samplerate",
    "channels",
    "size",
    "width",
    "height",
)
KNOWN_TAG_FIELDS = frozenset(RESULT_FIELDS + MEDIA_FIELDS)
# Fits the default cap of 7 tags (shared.media.tag_merge.DEFAULT_OWN_TAGS); the rest is opt-in.
DEFAULT_TAG_FIELDS = RESULT_FIELDS + MEDIA_FIELDS[:5]
REPLACEMENT_CHAR = "_"

# The PUT Object tagging API page's set (cos-ci-api.md 6.2, 9.13): the narrower reading.
_ALLOWED = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 +-=._:/")
_SPACES = re.compile(" +")
# Codecs that, as a one-frame "video" stream next to audio, are cover art rather than video.
_IMAGE_CODECS = frozenset({"mjpeg", "png", "bmp", "gif", "webp", "tiff", "jpeg2000"})
_MAX_DURATION_S = 1e9
_MAX_FPS = 1e6
_MAX_KBPS = 1e9
_MAX_PIXELS = 1_000_000
_MAX_COUNT = 10**15


def _sanitised_char(char: str) -> str:
    if char in _ALLOWED:
        return char
    if char.isspace():
        return " "
    # Controls, format chars (RTL marks, zero-width joiners), surrogates, unassigned code points
    # and combining marks left over after NFC carry nothing a reader needs: drop them.
    if unicodedata.category(char)[0] in "CM":
        return ""
    return REPLACEMENT_CHAR


def _truncate(text: str, limit: int) -> str:
    """At most ``limit`` characters and ``limit`` UTF-8 bytes (the docs disagree; obey both;
    with the ASCII-only charset they are the same, kept for a wider charset)."""
    text = text[:limit]
    while len(text.encode("utf-8")) > limit:
        text = text[:-1]
    return text


def sanitise_text(text: str, limit: int) -> str:
    """NFC, then every character allowed, replaced by '_', turned into a space or dropped;
    runs of spaces collapsed, ends stripped, cut to ``limit``. '' means "do not write"."""
    normalised = unicodedata.normalize("NFC", text)
    cleaned = "".join(_sanitised_char(char) for char in normalised)
    cleaned = _SPACES.sub(" ", cleaned).strip(" ")
    return _truncate(cleaned, limit).rstrip(" ")


def sanitise_value(text: str) -> str:
    return sanitise_text(text, MAX_VALUE_CHARS)


def sanitise_key(text: str) -> str:
    return sanitise_text(text, MAX_KEY_CHARS)


def tag_key(prefix: str, field_name: str) -> str:
    """``prefix + field``; refuses a key COS would reject instead of silently changing it."""
    key = prefix + field_name
    if not field_name or sanitise_key(key) != key:
        raise ValueError(f"tag key {key!r} is not a valid COS tag key")
    return key


def _bounded(value: float | None, upper: float) -> float | None:
    if value is None or not math.isfinite(value) or not 0 < value < upper:
        return None
    return value


def _count(value: int | None, *, minimum: int = 1) -> str | None:
    if value is None or not minimum <= value < _MAX_COUNT:
        return None
    return str(int(value))


def format_duration(seconds: float | None) -> str | None:
    """Seconds with exactly three decimals: 61.02 -> '61.020'."""
    value = _bounded(seconds, _MAX_DURATION_S)
    return None if value is None else f"{value:.3f}"


def format_fps(fps: float | None) -> str | None:
    """At most three decimals, trailing zeros trimmed: 23.976024 -> '23.976', 30.0 -> '30'."""
    value = _bounded(fps, _MAX_FPS)
    if value is None:
        return None
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return None if text == "0" else text


def format_kbps(kbps: float | None) -> str | None:
    """Whole kbps, halves rounded up: 335.412 -> '335'."""
    value = _bounded(kbps, _MAX_KBPS)
    return None if value is None else str(math.floor(value + 0.5))


def format_resolution(width: int | None, height: int | None) -> str | None:
    """Coded ``WIDTHxHEIGHT`` (not swapped for rotation; the rotation tag says that)."""
    if width is None or height is None:
        return None
    if _dimension(width) is None or _dimension(height) is None:
        return None
    return f"{width}x{height}"


def _dimension(pixels: int | None) -> str | None:
    return str(pixels) if pixels is not None and 0 < pixels <= _MAX_PIXELS else None


def format_rotation(degrees: float | None) -> str | None:
    """Whole degrees in 0..359: -90 -> '270', 90.000000 -> '90'.

    The tag is the clockwise rotation a player applies to show the picture upright (a portrait
    phone clip: 90), and CI's ``Rotation`` is taken to mean the same, unchanged in sign. That is
    an assumption: every CI sample shows 0.000000, no doc gives the direction (research
    ci-facts.md section 7). The emulator reports this convention (emulator/ci/probe.py).
    """
    if degrees is None or not math.isfinite(degrees) or abs(degrees) > _MAX_COUNT:
        return None
    return str(math.floor(degrees + 0.5) % 360)


def format_container(format_name: str | None) -> str | None:
    """FormatName's comma list joined with '/': 'mov,mp4,m4a' -> 'mov/mp4/m4a' (lossless)."""
    if not format_name:
        return None
    tokens = [token.strip() for token in format_name.split(",")]
    return "/".join(token for token in tokens if token) or None


def _is_cover_art(video: VideoStream, has_audio: bool) -> bool:
    codec = (video.codec_name or "").lower()
    return has_audio and codec in _IMAGE_CODECS and (video.num_frames or 0) <= 1


def primary_video(info: MediaInfo) -> VideoStream | None:
    """The first video stream that is not an audio file's embedded cover picture."""
    has_audio = bool(info.audios)
    return next((v for v in info.videos if not _is_cover_art(v, has_audio)), None)


def _duration(info: MediaInfo, video: VideoStream | None, audio: AudioStream | None) -> str | None:
    candidates = (
        info.format.duration_s if info.format else None,
        video.duration_s if video else None,
        audio.duration_s if audio else None,
    )
    return next((text for text in map(format_duration, candidates) if text), None)


def _bitrate(info: MediaInfo) -> str | None:
    fmt = info.format
    if fmt is None:
        return None
    reported = format_kbps(fmt.bitrate_kbps)
    if reported or fmt.size_bytes is None or not fmt.duration_s:
        return reported
    return format_kbps(_bounded(fmt.size_bytes * 8 / 1000 / fmt.duration_s, _MAX_KBPS))


def _field_formatters(info: MediaInfo) -> dict[str, Callable[[], str | None]]:
    video = primary_video(info)
    audio = info.audios[0] if info.audios else None
    fmt = info.format
    return {
        "duration": lambda: _duration(info, video, audio),
        "resolution": lambda: format_resolution(video.width, video.height) if video else None,
        "vcodec": lambda: video.codec_name if video else None,
        "acodec": lambda: audio.codec_name if audio else None,
        "fps": lambda: format_fps(video.avg_fps or video.fps) if video else None,
        "bitrate": lambda: _bitrate(info),
        "container": lambda: format_container(fmt.name) if fmt else None,
        "rotation": lambda: format_rotation(video.rotation_deg) if video else None,
        "samplerate": lambda: _count(audio.sample_rate_hz) if audio else None,
        "channels": lambda: _count(audio.channels) if audio else None,
        "size": lambda: _count(fmt.size_bytes, minimum=0) if fmt else None,
        "width": lambda: _dimension(video.width) if video else None,
        "height": lambda: _dimension(video.height) if video else None,
    }


def media_tags(info: MediaInfo, fields: Sequence[str], prefix: str) -> TagSet:
    """Tags for ``fields`` in the given (priority) order; fields without a value are left out.

    ``status`` and ``etag`` are result fields (see tag_merge) and skipped here; an unknown field
    name is a programming or configuration error and raises ValueError."""
    formatters = _field_formatters(info)
    tags: list[tuple[str, str]] = []
    for field_name in dict.fromkeys(fields):
        if field_name in RESULT_FIELDS:
            continue
        if field_name not in formatters:
            raise ValueError(f"unknown tag field {field_name!r}")
        raw = formatters[field_name]()
        value = sanitise_value(raw) if raw else ""
        if value:
            tags.append((tag_key(prefix, field_name), value))
    return tuple(tags)
