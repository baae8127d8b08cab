"""End to end over loopback, on the points where the emulator now behaves like CI (issue 13).

Rotated phone-style clips get the rotation a player applies (ffmpeg's own autorotate is the
oracle, not the emulator); bytes that are not media under media names end ``failed:<code>``;
an upload event for an object deleted since is handled whether CI refuses the job at submit
(the default) or fails it later (``Fidelity(missing_object="fail-job")``).
"""

from __future__ import annotations

import random
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from emulator.app import Emulator
from emulator.fidelity import Fidelity
from tests.e2e_helpers import (
    BUCKET,
    PREFIX,
    SETTLE_S,
    VIDEO_ARGS,
    Media,
    Pipeline,
    comparable,
    generate_media,
    md5_hex,
    oracle_client,
    read_tags,
)

pytestmark = pytest.mark.e2e
MARKED_CLIP = (  # black 64x32 with a red square in the top-left corner
    *("-f", "lavfi", "-i", "color=black:size=64x32:rate=5,drawbox=x=0:y=0:w=16:h=16:c=red:t=fill"),
    *("-t", "0.4", "-c:v", "libx264", "-pix_fmt", "yuv420p"),
)


def _ffmpeg() -> str:
    path = shutil.which("ffmpeg")
    assert path is not None
    return path


FIRST_FRAME_AS_PPM_FROM = ("-v", "error", "-i")
FIRST_FRAME_AS_PPM_TO = ("-frames:v", "1", "-f", "image2pipe", "-vcodec", "ppm", "-")


def rotate_copy(degrees: int) -> tuple[str, ...]:
    """Copy the stream and set the rotate metadata (how a phone-like clip is made with ffmpeg)."""
    return ("-c", "copy", "-metadata:s:v:0", f"rotate={degrees}")


def player_rotation(clip: Path) -> int:
    """Clockwise degrees ffmpeg's autorotate turns the picture by: where the top-left marker
    lands in the first displayed frame (top-right 90, bottom-right 180, bottom-left 270)."""
    frame = subprocess.run(
        [_ffmpeg(), *FIRST_FRAME_AS_PPM_FROM, str(clip), *FIRST_FRAME_AS_PPM_TO],
        check=True,
        capture_output=True,
        timeout=60,
    ).stdout
    magic, size, maxval, pixels = frame.split(b"\n", 3)
    assert (magic, maxval) == (b"P6", b"255")
    width, height = map(int, size.split())

    def red(x: int, y: int) -> bool:
        r, g, b = pixels[(y * width + x) * 3 : (y * width + x) * 3 + 3]
        return r > 200 and g < 60 and b < 60

    corners = {0: (4, 4), 90: (width - 5, 4), 180: (width - 5, height - 5), 270: (4, height - 5)}
    (turned,) = [degrees for degrees, (x, y) in corners.items() if red(x, y)]
    return turned


@pytest.fixture(scope="module")
def rotated_clips(tmp_path_factory: pytest.TempPathFactory) -> dict[int, tuple[Path, int]]:
    """{rotate metadata: (clip, what a player does)} for clips made with ffmpeg's rotate tag."""
    folder = tmp_path_factory.mktemp("rotated")
    plain = folder / "plain.mp4"
    subprocess.run([_ffmpeg(), "-v", "error", "-y", *MARKED_CLIP, str(plain)], check=True)
    clips = {}
    for rotate in (90, 270):
        clip = folder / f"rotate{rotate}.mp4"
        subprocess.run(
            [_ffmpeg(), *("-v", "error", "-y", "-i"), str(plain), *rotate_copy(rotate), str(clip)],
            check=True,
        )
        clips[rotate] = (clip, player_rotation(clip))
    assert player_rotation(plain) == 0  # the oracle itself: no rotation, marker stays put
    return clips


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    # rotation is opt-in: these tests ask for it (and stay within the 7-tag cap)
    fields = {"MEDIA_TAGGER_TAG_FIELDS": "status,etag,duration,resolution,vcodec,acodec,rotation"}
    with Emulator(
        tmp_path_factory.mktemp("fidelity"),
        job_runner_delay_s=0.005,
        function_env=fields,
        buckets=[BUCKET],
    ) as running:
        yield running


@pytest.fixture
def pipeline(emulator: Emulator) -> Pipeline:
    assert emulator.wait_idle(SETTLE_S)
    return Pipeline(emulator, oracle_client(emulator))


def test_rotation_is_the_clockwise_turn_a_player_applies(
    pipeline: Pipeline, rotated_clips: dict[int, tuple[Path, int]]
) -> None:
    since = pipeline.mark()
    for rotate, (clip, _) in rotated_clips.items():
        pipeline.put(f"rotated/{rotate}.mp4", clip.read_bytes())
    pipeline.settle(since)
    tagged = {}
    for rotate, (_, player) in rotated_clips.items():
        tags = read_tags(pipeline.client, f"rotated/{rotate}.mp4")
        assert tags[PREFIX + "resolution"] == "64x32"  # coded size, not swapped
        assert tags[PREFIX + "rotation"] == str(player), rotate
        tagged[rotate] = player
    # the two clips turn opposite ways (which way "rotate=90" turns depends on ffmpeg's version:
    # 5.x writes it counter-clockwise, so a player turns that clip 270 clockwise)
    assert sorted(tagged.values()) == [90, 270]


@pytest.mark.parametrize("kind", ["random", "long-text", "truncated"])
def test_bytes_that_are_not_media_under_a_media_name_fail(
    pipeline: Pipeline, video: Media, kind: str
) -> None:
    sample = video.body
    body = {
        "random": random.Random(7).randbytes(300_000),
        "long-text": b"plain text pretending to be a video\n" * 8000,
        "truncated": sample[: len(sample) // 2],
    }[kind]
    key = f"not-media/{kind}.mp4"
    since = pipeline.mark()
    pipeline.put(key, body)
    activity = pipeline.settle(since)
    assert comparable(read_tags(pipeline.client, key)) == {
        PREFIX + "status": "failed:ResourceNotSupported",
        PREFIX + "etag": md5_hex(body),
    }
    assert activity.outcomes() == ["tagged:failed:ResourceNotSupported"]


def _redeliver_for_a_deleted_object(
    pipeline: Pipeline, video: bytes, monkeypatch: pytest.MonkeyPatch
) -> tuple[dict[str, object], list[str]]:
    """Upload, delete, then deliver the upload event again with the tag check off (so the
    upload function goes straight to POST /jobs); returns its result and the callback outcomes."""
    key = "gone/clip.mp4"
    since = pipeline.mark()
    pipeline.put(key, video)
    (upload,) = pipeline.settle(since).uploads
    pipeline.client.delete_object(Bucket=BUCKET, Key=key)
    monkeypatch.setenv("MEDIA_TAGGER_IDEMPOTENCY_CHECK", "false")
    again = pipeline.mark()
    pipeline.emulator.upload.invoke_event(upload.event)
    activity = pipeline.settle(again)
    (redelivered,) = activity.uploads
    return redelivered.result, activity.outcomes()


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Media:
    return generate_media(tmp_path_factory.mktemp("video"), "clip.mp4", VIDEO_ARGS)


def test_a_deleted_object_refused_at_submit_is_object_gone(
    pipeline: Pipeline, video: Media, monkeypatch: pytest.MonkeyPatch
) -> None:
    result, outcomes = _redeliver_for_a_deleted_object(pipeline, video.body, monkeypatch)
    assert result["skipped"] == [{"key": "gone/clip.mp4", "reason": "object-gone"}]
    assert (result["submitted"], result["failed"], outcomes) == ([], [], [])


def test_a_deleted_object_whose_job_fails_later_is_object_gone(
    tmp_path: Path, video: Media, monkeypatch: pytest.MonkeyPatch
) -> None:
    fidelity = Fidelity(missing_object="fail-job")
    with Emulator(tmp_path, job_runner_delay_s=0.005, fidelity=fidelity, buckets=[BUCKET]) as later:
        result, outcomes = _redeliver_for_a_deleted_object(
            Pipeline(later, oracle_client(later)), video.body, monkeypatch
        )
    assert [item["key"] for item in result["submitted"]] == ["gone/clip.mp4"]  # type: ignore[attr-defined]
    assert outcomes == ["skipped:object-gone"]  # the callback's HEAD found no object
