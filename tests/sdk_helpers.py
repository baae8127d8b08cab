"""Helpers for the tests that drive the emulator's COS object API through cos-python-sdk-v5.

``sdk_client`` is the SDK in IP/Port mode (it connects to the emulator and signs the real host
name); ``presigning_client`` is the SDK configured as an app would be (no IP: its URLs name
``<bucket>.cos.<region>.myqcloud.com``), and ``browser`` a plain requests session that reaches
those URLs with the emulator as its HTTP proxy (the way the serve banner tells coscli to). Media:
``padded_mp4`` grows a real mp4 to any size with a trailing ``free`` box, streamed to disk, so
ffprobe still reads it and the expected tags stay computable from ffprobe's own output.
"""

from __future__ import annotations

import hashlib
import json
import random
import shutil
import struct
import subprocess
from pathlib import Path
from typing import Any

import requests
from qcloud_cos import CosConfig, CosS3Client  # noqa: TID251 -- test-only oracle

from emulator import EmulatorCredentials

REGION = "ap-guangzhou"
MIB = 1024 * 1024
# cos-python-sdk-v5 computes the download's CRC-64 with exactly this crcmod function
# (qcloud_cos/resumable_downloader.py); the doc vectors below pin it to COS's own answers.
DOC_PART = b"[Object Part]"  # Upload Part doc: ETag 108f528e..., CRC 4510578591875220731
DOC_PART_MD5 = "108f528eb63b65e734f27ae331f5ffaa"
DOC_PART_CRC64 = "4510578591875220731"
DOC_CONTENT = b"[Object Content]"  # GET Object doc: CRC 16749565679157681890
DOC_CONTENT_CRC64 = "16749565679157681890"


def sdk_client(
    port: int, credentials: EmulatorCredentials, *, secret_key: str | None = None
) -> CosS3Client:
    config = CosConfig(
        Region=REGION,
        SecretId=credentials.secret_id,
        SecretKey=secret_key or credentials.secret_key,
        Token=credentials.token,
        Scheme="http",
        IP="127.0.0.1",
        Port=port,
    )
    return CosS3Client(config, retry=0)


def presigning_client(credentials: EmulatorCredentials) -> CosS3Client:
    """The SDK as an app's backend has it: presigned URLs name the real COS host."""
    config = CosConfig(
        Region=REGION,
        SecretId=credentials.secret_id,
        SecretKey=credentials.secret_key,
        Token=credentials.token,
        Scheme="http",
    )
    return CosS3Client(config, retry=0)


def browser(endpoint_url: str) -> requests.Session:
    """A plain HTTP client that reaches ``*.myqcloud.com`` URLs through the emulator (a proxy)."""
    session = requests.Session()
    session.trust_env = False
    session.proxies = {"http": endpoint_url}
    return session


def md5_hex(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def file_md5(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as source:
        while chunk := source.read(MIB):
            digest.update(chunk)
    return digest.hexdigest()


def make_mp4(path: Path, seconds: float = 1.0) -> Path:
    ffmpeg = shutil.which("ffmpeg")
    assert ffmpeg is not None
    command = [ffmpeg, "-v", "error", "-y"]
    command += ["-f", "lavfi", "-i", "testsrc=size=160x120:rate=25"]
    command += ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100"]
    command += ["-t", str(seconds), "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac"]
    subprocess.run([*command, "-shortest", str(path)], check=True, timeout=60)
    return path


def padded_mp4(source: Path, target: Path, size: int, seed: int = 1) -> Path:
    """``source`` followed by one mp4 ``free`` box of pseudo-random bytes: ``size`` bytes."""
    head = source.read_bytes()
    filler = size - len(head)
    assert filler >= 8
    rng = random.Random(seed)
    with target.open("wb") as out:
        out.write(head)
        out.write(struct.pack(">I", filler) + b"free")
        left = filler - 8
        while left:
            chunk = rng.randbytes(min(MIB, left))
            out.write(chunk)
            left -= len(chunk)
    return target


def ffprobe_json(path: Path) -> dict[str, Any]:
    ffprobe = shutil.which("ffprobe")
    assert ffprobe is not None
    args = ("-v", "error", "-print_format", "json", "-show_format", "-show_streams")
    probed = subprocess.run([ffprobe, *args, str(path)], check=True, capture_output=True)
    result: dict[str, Any] = json.loads(probed.stdout)
    return result
