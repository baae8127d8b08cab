"""What the soak run uploads and what every object must end up with (``python -m emulator soak``).

A few small media samples are made once with ffmpeg (H.264/AAC mp4, MPEG-4/FLAC mkv, MPEG-4/PCM
avi, PCM wav, AAC m4a) and reused under many hostile keys: spaces, CJK, '+', '%', '#', '?',
'&', RTL and zero-width marks, dot segments, emoji, upper-case extensions, 700-character keys.
Next to them: non-media bytes (random, a PDF) under media extensions (CI fails them: a failure
status is expected), and objects the upload filter skips (.txt, empty files: no tags expected).
Every ``MULTIPART_EVERY``-th object is the mp4 sample grown past 2 MiB with an mp4 ``free`` box
(ffprobe still reads it): it goes up by multipart (3 parts) and its ETag tag must be the
``<hex>-3`` ETag that CompleteMultipartUpload answered.

Expected tags are derived here from ffprobe's own JSON of each sample with the documented formatting
(docs/tags.md), not through ``shared.media.tags``, so the soak checks the pipeline against an
independent oracle. This module runs ffmpeg/ffprobe but sends no request and starts no server.
"""

from __future__ import annotations

import hashlib
import json
import random
import shutil
import struct
import subprocess
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

MEDIA, NOT_MEDIA, FILTERED = "media", "not-media", "filtered"
NOT_MEDIA_STATUS = "failed:ResourceNotSupported"  # what CI reports for bytes it cannot read
_LAVFI_VIDEO = "testsrc=size={size}:rate={rate}:duration=1"
_LAVFI_AUDIO = "sine=frequency={hz}:sample_rate={rate}:duration=1"
_PDF_LIKE = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\n" * 40
MULTIPART_EVERY = 25
MULTIPART_SIZE = 2 * 1024 * 1024 + 512 * 1024  # 3 parts of 1 MiB (upload_file's default)
MULTIPART_PARTS = 3
_PROBE_ARGS = ("-v", "error", "-print_format", "json", "-show_format", "-show_streams")


@dataclass(frozen=True)
class SampleSpec:
    name: str
    extension: str
    content_type: str
    video: tuple[str, str] | None  # (size, rate) of the test picture
    audio: tuple[int, int] | None  # (tone Hz, sample rate)
    codecs: tuple[str, ...]  # ffmpeg output options


SAMPLE_SPECS = (
    SampleSpec("h264-aac", "mp4", "video/mp4", ("160x120", "25"), (440, 44100),
               ("-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac")),
    SampleSpec("mpeg4-flac", "mkv", "video/x-matroska", ("176x144", "15"), (330, 22050),
               ("-c:v", "mpeg4", "-c:a", "flac")),
    SampleSpec("mpeg4-pcm", "avi", "video/x-msvideo", ("128x96", "10"), (550, 8000),
               ("-c:v", "mpeg4", "-c:a", "pcm_s16le")),
    SampleSpec("pcm", "wav", "audio/wav", None, (220, 22050), ("-c:a", "pcm_s16le")),
    SampleSpec("aac", "m4a", "audio/mp4", None, (660, 48000), ("-c:a", "aac")),
)  # fmt: skip
# Key shapes (the index and the extension are appended). Each is a real COS key.
KEY_SHAPES = (
    "plain/clip-",
    "with space/my holiday clip (final) ",
    "视频/2024 夏天/我的 旅行 ",
    "plus+and%percent/a+b=c 100% done%2B ",
    "hash#and?query=1&x=y/",
    "rtl/\u202eevil\u202c name ",
    "zero\u200bwidth\u200f/",
    "emoji/🎬 clip ",
    "dots/./../x/",
    "Ünïcödé/Ǆ ÅÄÖ ",
    "long/" + "k" * 700 + "/",
    "  lead and trail  /  ",
)


@dataclass(frozen=True)
class Sample:
    spec: SampleSpec
    data: bytes
    probe: dict[str, Any]


@dataclass(frozen=True)
class PlannedObject:
    key: str
    data: bytes
    content_type: str
    kind: str  # MEDIA, NOT_MEDIA or FILTERED
    expected: dict[str, str]  # field -> value under the tag prefix; {} means "no tags at all"
    parts: int = 0  # > 0: sent by multipart; "etag" is then the ETag Complete answers
    # Writes before the last one (emulator.soak.rewrites: None = delete); ``data`` is the last.
    history: tuple[bytes | None, ...] = ()
    rewrite: str = ""  # which rewrite made ``history`` ("" for none)

    def expected_with(self, uploaded_etag: str) -> dict[str, str]:
        """``expected`` with a multipart object's ETag filled in from the upload's answer."""
        if not self.parts:
            return self.expected
        return {**self.expected, "etag": uploaded_etag}


def _ffmpeg_command(ffmpeg: str, spec: SampleSpec, target: Path) -> list[str]:
    command = [ffmpeg, "-hide_banner", "-loglevel", "error", "-y"]
    if spec.video:
        size, rate = spec.video
        command += ["-f", "lavfi", "-i", _LAVFI_VIDEO.format(size=size, rate=rate)]
    if spec.audio:
        tone, sample_rate = spec.audio
        command += ["-f", "lavfi", "-i", _LAVFI_AUDIO.format(hz=tone, rate=sample_rate)]
    return [*command, *spec.codecs, "-shortest", str(target)]


def _probe(ffprobe: str, target: Path) -> dict[str, Any]:
    probed = subprocess.run([ffprobe, *_PROBE_ARGS, str(target)], check=True, capture_output=True)
    result: dict[str, Any] = json.loads(probed.stdout)
    return result


def make_samples(directory: Path, specs: tuple[SampleSpec, ...] = SAMPLE_SPECS) -> list[Sample]:
    """Every sample made and probed; RuntimeError when ffmpeg or ffprobe is missing or fails."""
    ffmpeg, ffprobe = shutil.which("ffmpeg"), shutil.which("ffprobe")
    if ffmpeg is None or ffprobe is None:
        raise RuntimeError("the soak needs ffmpeg and ffprobe (apt-get install ffmpeg)")
    samples = []
    for spec in specs:
        target = directory / f"{spec.name}.{spec.extension}"
        try:
            subprocess.run(_ffmpeg_command(ffmpeg, spec, target), check=True, capture_output=True)
            probe = _probe(ffprobe, target)
        except subprocess.CalledProcessError as exc:
            raise RuntimeError(f"ffmpeg could not make the {spec.name} sample") from exc
        samples.append(Sample(spec, target.read_bytes(), probe))
    return samples


def with_free_box(data: bytes, size: int, seed: int) -> bytes:
    """An mp4 grown to ``size`` bytes by a trailing ``free`` box of pseudo-random filler."""
    filler = size - len(data)
    if filler < 8:
        raise ValueError(f"{size} bytes leave no room for a free box after {len(data)}")
    payload = random.Random(seed).randbytes(filler - 8)
    return data + struct.pack(">I", filler) + b"free" + payload


def make_multipart_sample(directory: Path, sample: Sample, size: int = MULTIPART_SIZE) -> Sample:
    """``sample`` (an mp4) padded to ``size`` with a free box, probed again by ffprobe."""
    ffprobe = shutil.which("ffprobe")
    if ffprobe is None:
        raise RuntimeError("the soak needs ffprobe (apt-get install ffmpeg)")
    target = directory / f"{sample.spec.name}-multipart.{sample.spec.extension}"
    target.write_bytes(with_free_box(sample.data, size, seed=len(sample.data)))
    try:
        probe = _probe(ffprobe, target)
    except subprocess.CalledProcessError as exc:
        raise RuntimeError("ffprobe could not read the padded multipart sample") from exc
    return Sample(sample.spec, target.read_bytes(), probe)


def md5_hex(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def _first(streams: list[dict[str, Any]], kind: str) -> dict[str, Any] | None:
    return next((s for s in streams if s.get("codec_type") == kind), None)


def _fps(rate: str) -> str | None:
    value = Fraction(rate) if rate and not rate.endswith("/0") else Fraction(0)
    text = f"{float(value):.3f}".rstrip("0").rstrip(".")
    return text if value > 0 else None


def expected_media_fields(probe: dict[str, Any], etag: str) -> dict[str, str]:
    """docs/tags.md's formatting applied to ffprobe's JSON: what the tags of a sample must say with
    the default fields (status, etag, duration, resolution, vcodec, acodec, fps)."""
    fmt, streams = probe["format"], probe.get("streams", [])
    video, audio = _first(streams, "video"), _first(streams, "audio")
    fields = {"status": "ok", "etag": etag, "duration": f"{float(fmt['duration']):.3f}"}
    if video is not None:
        fields["resolution"] = f"{video['width']}x{video['height']}"
        fields["vcodec"] = video["codec_name"]
        fps = _fps(video.get("avg_frame_rate", ""))
        if fps:
            fields["fps"] = fps
    if audio is not None:
        fields["acodec"] = audio["codec_name"]
    return fields


def _media(index: int, key: str, sample: Sample) -> PlannedObject:
    extension = sample.spec.extension.upper() if index % 7 == 0 else sample.spec.extension
    data = sample.data
    fields = expected_media_fields(sample.probe, md5_hex(data))
    return PlannedObject(f"{key}.{extension}", data, sample.spec.content_type, MEDIA, fields)


def _not_media(index: int, key: str, rng: random.Random) -> PlannedObject:
    # Plain text is not used: ffprobe reads it as the "bintext" video format, so CI tags it ok.
    data = _PDF_LIKE if index % 2 else rng.randbytes(2048)
    fields = {"status": NOT_MEDIA_STATUS, "etag": md5_hex(data)}
    return PlannedObject(f"{key}.mp4", data, "video/mp4", NOT_MEDIA, fields)


def _filtered(index: int, key: str) -> PlannedObject:
    if index % 2:
        return PlannedObject(f"{key}.txt", b"notes\n", "text/plain", FILTERED, {})
    return PlannedObject(f"{key}.mp4", b"", "video/mp4", FILTERED, {})  # empty object


def _multipart(key: str, sample: Sample) -> PlannedObject:
    fields = expected_media_fields(sample.probe, etag="")  # the etag is known once uploaded
    extension = sample.spec.extension
    return PlannedObject(
        f"{key}.{extension}", sample.data, sample.spec.content_type, MEDIA, fields, MULTIPART_PARTS
    )


def plan_objects(
    count: int,
    prefix: str,
    samples: list[Sample],
    seed: int,
    multipart_sample: Sample | None = None,
) -> list[PlannedObject]:
    """``count`` objects under ``prefix``: 70 % media, 15 % not media, 15 % filtered; when
    ``multipart_sample`` is given, every ``MULTIPART_EVERY``-th object is that sample instead."""
    rng = random.Random(seed)
    planned = []
    for index in range(count):
        key = f"{prefix}{KEY_SHAPES[index % len(KEY_SHAPES)]}{index:04d}"
        slot = index % 20
        if multipart_sample is not None and index % MULTIPART_EVERY == MULTIPART_EVERY - 1:
            planned.append(_multipart(key, multipart_sample))
        elif slot < 14:
            planned.append(_media(index, key, samples[index % len(samples)]))
        elif slot < 17:
            planned.append(_not_media(index, key, rng))
        else:
            planned.append(_filtered(index, key))
    return planned
