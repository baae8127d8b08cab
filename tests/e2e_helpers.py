"""Helpers for the end-to-end pipeline tests: media samples, independent expectations, an oracle.

Media are generated once with ffmpeg; the tags a file should get are computed here from an
independent ``ffprobe`` run and docs/tags.md's formatting rules, never from the emulator's or the
functions' own output. Uploads and tag reads go through cos-python-sdk-v5 (test-only oracle) so
a shared bug in ``shared.*`` cannot hide itself. ``Pipeline`` counts what one step cost at the
emulator. Nothing here sleeps except polling with a deadline.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

from qcloud_cos import CosConfig, CosS3Client  # noqa: TID251 -- test-only oracle
from qcloud_cos.cos_exception import CosServiceError  # noqa: TID251 -- test-only oracle

from emulator.app import Emulator
from emulator.scf.function_url import UrlInvocation
from emulator.scf.invoker import Invocation

REGION = "ap-guangzhou"
BUCKET = "e2e-1250000000"
CI_HOST = f"{BUCKET}.ci.{REGION}.myqcloud.com"
PREFIX = "media:"
# docs/functions.md: upload = GET ?tagging + POST /jobs; callback = GET /jobs/<id> + HEAD +
# GET ?tagging, then PUT ?tagging when the tags change; plus the client's own PUT Object.
README_REQUESTS = Counter(
    {
        "cos:PUT:object": 1,
        "cos:GET:tagging": 1,  # the callback's; the duplicate check is off by default
        "ci:POST": 1,
        "ci:GET": 1,
        "cos:HEAD:object": 1,
        "cos:PUT:tagging": 1,
    }
)
SETTLE_S = 15.0


def same_requests(actual: Counter[str], expected: Counter[str]) -> bool:
    """``actual == expected``, but for the fresh tag read a callback makes before its PUT when
    GET /jobs answered later than one COS round trip after the first tag read (docs "Tags":
    the lost-update window): at most one more GET ?tagging per PUT ?tagging."""
    reads = "cos:GET:tagging"
    extra = actual[reads] - expected[reads]
    others_equal = (actual - Counter({reads: actual[reads]})) == (
        expected - Counter({reads: expected[reads]})
    )
    return others_equal and 0 <= extra <= expected["cos:PUT:tagging"]


VIDEO_ARGS = (
    *("-f", "lavfi", "-i", "testsrc=size=160x120:rate=30000/1001"),
    *("-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100"),
    *("-t", "1.3", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest"),
)
AUDIO_ARGS = (
    *("-f", "lavfi", "-i", "sine=frequency=660:sample_rate=44100"),
    *("-t", "1.2", "-c:a", "libmp3lame"),
)


def md5_hex(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


@dataclass(frozen=True)
class Media:
    body: bytes
    probe: dict[str, Any]  # ffprobe's own JSON, run by the test

    @property
    def etag(self) -> str:
        return md5_hex(self.body)


def generate_media(directory: Path, name: str, args: tuple[str, ...]) -> Media:
    ffmpeg, ffprobe = shutil.which("ffmpeg"), shutil.which("ffprobe")
    assert ffmpeg is not None and ffprobe is not None
    target = directory / name
    subprocess.run([ffmpeg, "-v", "error", "-y", *args, str(target)], check=True, timeout=60)
    probe_args = ("-v", "error", "-print_format", "json", "-show_format", "-show_streams")
    probed = subprocess.run(
        [ffprobe, *probe_args, str(target)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return Media(target.read_bytes(), json.loads(probed.stdout))


def _three_decimals_trimmed(value: Fraction) -> str:
    text = str(Decimal(value.numerator) / Decimal(value.denominator))
    rounded = Decimal(text).quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)
    return str(rounded).rstrip("0").rstrip(".")


# The default MEDIA_TAGGER_TAG_FIELDS; bitrate, container and rotation are opt-in.
DEFAULT_FIELDS = ("status", "etag", "duration", "resolution", "vcodec", "acodec", "fps")
_APPLIED = re.compile(r"(?P<etag>[0-9a-f]{32}(?:-[0-9]+)?)/[0-9]{8}T[0-9]{6}Z/j[0-9a-f]{32}")


def applied_etag(tags: dict[str, str]) -> str:
    """The ETag part of our etag tag, which must name the job: <etag>/<job time>/<job id>."""
    match = _APPLIED.fullmatch(tags.get(PREFIX + "etag", ""))
    assert match is not None, f"the etag tag does not name a job: {tags.get(PREFIX + 'etag')!r}"
    return match["etag"]


def comparable(tags: dict[str, str]) -> dict[str, str]:
    """``tags`` with an etag tag that names a job reduced to its ETag (the job part differs per
    run); a bare ETag (written before, or by hand) is left as it is."""
    match = _APPLIED.fullmatch(tags.get(PREFIX + "etag", ""))
    return tags if match is None else {**tags, PREFIX + "etag": match["etag"]}


def expected_tags(
    media: Media, etag: str | None = None, fields: tuple[str, ...] = DEFAULT_FIELDS
) -> dict[str, str]:
    """What docs/tags.md says a successful result looks like, from the test's own ffprobe run
    (compare with ``comparable(tags)``: the etag tag's job part is the run's own)."""
    fmt = media.probe["format"]
    streams = media.probe["streams"]
    video = next((s for s in streams if s["codec_type"] == "video"), None)
    audio = next((s for s in streams if s["codec_type"] == "audio"), None)
    kbps = (Decimal(fmt["bit_rate"]) / 1000).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    tags = {
        "status": "ok",
        "etag": etag or media.etag,
        "duration": str(Decimal(fmt["duration"]).quantize(Decimal("0.001"), ROUND_HALF_UP)),
        "bitrate": str(kbps),
        "container": fmt["format_name"].replace(",", "/"),
    }
    if audio is not None:
        tags["acodec"] = audio["codec_name"]
    if video is not None:
        assert "rotate" not in video.get("tags", {}) and "side_data_list" not in video
        tags.update(
            resolution=f"{video['width']}x{video['height']}",
            vcodec=video["codec_name"],
            fps=_three_decimals_trimmed(Fraction(video["avg_frame_rate"])),
            rotation="0",
        )
    return {PREFIX + name: value for name, value in tags.items() if name in fields}


def oracle_client(emulator: Emulator) -> CosS3Client:
    """cos-python-sdk-v5 in IP/Port mode, no retries of its own (every failure shows)."""
    credentials = emulator.credentials
    config = CosConfig(
        Region=REGION,
        SecretId=credentials.secret_id,
        SecretKey=credentials.secret_key,
        Token=credentials.token,
        Scheme="http",
        IP="127.0.0.1",
        Port=emulator.server.port,
    )
    return CosS3Client(config, retry=0)


def read_tags(client: CosS3Client, key: str) -> dict[str, str]:
    """GET ?tagging through the SDK; duplicate keys fail the test."""
    try:
        answer = client.get_object_tagging(Bucket=BUCKET, Key=key)
    except CosServiceError as exc:
        if exc.get_error_code() == "NoSuchTagSet":
            return {}
        raise
    listed = (answer.get("TagSet") or {}).get("Tag") or []
    pairs = [(tag["Key"], tag["Value"]) for tag in listed]
    assert len({k for k, _ in pairs}) == len(pairs), f"duplicate tag keys: {pairs}"
    return dict(pairs)


def list_keys(client: CosS3Client, prefix: str) -> list[str]:
    answer = client.list_objects(Bucket=BUCKET, Prefix=prefix)
    return sorted(item["Key"] for item in answer.get("Contents") or [])


def wait_until(predicate: Callable[[], bool], timeout_s: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


@dataclass
class Activity:
    """What happened at the emulator between a ``Pipeline.mark`` and ``Pipeline.settle``."""

    operations: Counter[str]
    hosts: Counter[str]
    statuses: Counter[str]
    uploads: list[Invocation]
    callbacks: list[UrlInvocation]
    replies: list[dict[str, Any]]

    def outcomes(self) -> list[str]:
        return [f"{reply['outcome']}:{reply['reason']}" for reply in self.replies]


@dataclass
class Mark:
    stats: dict[str, Any]
    uploads: int
    callbacks: int


def _delta(after: Mapping[str, int], before: Mapping[str, int]) -> Counter[str]:
    counter = Counter(after)
    counter.subtract(before)
    return Counter({name: n for name, n in counter.items() if n})


@dataclass
class Pipeline:
    emulator: Emulator
    client: CosS3Client

    @classmethod
    def settled(cls, emulator: Emulator) -> Pipeline:
        """The pipeline of a module's emulator once the previous test's work is done, no faults."""
        assert emulator.wait_idle(SETTLE_S)
        emulator.faults.reset()
        return cls(emulator, oracle_client(emulator))

    def mark(self) -> Mark:
        emulator = self.emulator
        return Mark(
            emulator.stats(),
            len(emulator.upload.invocations),
            len(emulator.function_url.invocations),
        )

    def put(self, key: str, body: bytes, **extra: str) -> None:
        answer = self.client.put_object(Bucket=BUCKET, Key=key, Body=body, **extra)
        assert answer["ETag"] == f'"{md5_hex(body)}"'

    def settle(self, since: Mark) -> Activity:
        """Wait (polling, with a deadline) until the pipeline is idle; no invocation may fail."""
        assert self.emulator.wait_idle(SETTLE_S), "pipeline still busy after the deadline"
        stats = self.emulator.stats()
        uploads = self.emulator.upload.invocations[since.uploads :]
        callbacks = self.emulator.function_url.invocations[since.callbacks :]
        assert [inv.error for inv in uploads if inv.error] == []
        assert [(c.reply.status, c.reply.body) for c in callbacks if c.reply.status >= 300] == []
        return Activity(
            operations=_delta(stats["operations"], since.stats["operations"]),
            hosts=_delta(stats["hosts"], since.stats["hosts"]),
            statuses=_delta(stats["statuses"], since.stats["statuses"]),
            uploads=uploads,
            callbacks=callbacks,
            replies=[json.loads(c.reply.body) for c in callbacks],
        )

    def hold_callbacks(self, count: int) -> None:
        """Wait (with a deadline) until ``count`` callbacks sit in an armed reorder window."""
        emulator = self.emulator

        def held() -> bool:
            stats = emulator.stats()
            busy = emulator.upload.in_flight or stats["jobs_active"]
            return not busy and stats["callbacks"]["in_flight"] == count

        # under the dispatcher's own 2 s hold limit, after which it would deliver anyway
        assert wait_until(held, timeout_s=1.5), "the callbacks were not held"
