"""Backfill end to end: a bucket of a few hundred objects in the emulator, the real callback.

Objects are written straight into the emulator's store (no COS trigger fires), so every job is
one backfill submitted. Tags are read back through cos-python-sdk-v5 (test-only oracle) and
compared with the test's own ffprobe expectations; POST /jobs is counted at the emulator.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from emulator.app import Emulator
from shared.ops.api import run_backfill
from shared.ops.backfill import DEFAULT_CONCURRENCY, BackfillTarget, max_redone
from shared.ops.checkpoint import load_state
from tests.e2e_helpers import (
    AUDIO_ARGS,
    BUCKET,
    PREFIX,
    REGION,
    SETTLE_S,
    VIDEO_ARGS,
    Media,
    comparable,
    expected_tags,
    generate_media,
    md5_hex,
    oracle_client,
    read_tags,
)

pytestmark = pytest.mark.e2e

NOT_MEDIA_CODE = "ResourceNotSupported"  # cos-ci-api.md 2.5: bad or unsupported input file
USER_TAG = ("owner", "alice")


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Media:
    return generate_media(tmp_path_factory.mktemp("bf-media"), "clip.mp4", VIDEO_ARGS)


@pytest.fixture(scope="module")
def audio(tmp_path_factory: pytest.TempPathFactory) -> Media:
    return generate_media(tmp_path_factory.mktemp("bf-media"), "tone.mp3", AUDIO_ARGS)


def no_upload_trigger(event: object, context: object) -> None:
    """The upload function is not under test here: backfill must do the submitting."""


@dataclass
class Bucket:
    """What was put where, and what each object must end up with."""

    expected: dict[str, dict[str, str]] = field(default_factory=dict)
    submit: set[str] = field(default_factory=set)  # keys backfill must submit a job for

    def put(
        self,
        emulator: Emulator,
        key: str,
        body: bytes,
        *,
        tags: tuple[tuple[str, str], ...] = (),
        expect: dict[str, str] | None = None,
        submit: bool = False,
    ) -> None:
        emulator.server.store.put_object(
            BUCKET, key, [body], content_type="application/octet-stream", meta={}, tags=tags
        )
        self.expected[key] = dict(tags) if expect is None else expect
        if submit:
            self.submit.add(key)


def fill(emulator: Emulator, video: Media, audio: Media) -> Bucket:
    """200 objects; 75 of them deserve a job (ffprobe runs are what costs time here)."""
    bucket = Bucket()
    for i in range(40):
        key = f"videos/{i:03d}.mp4" if i % 5 else f"videos/{i:03d}.MOV"
        bucket.put(emulator, key, video.body, expect=expected_tags(video), submit=True)
    for i in range(20):
        bucket.put(
            emulator, f"audio/{i:03d}.mp3", audio.body, expect=expected_tags(audio), submit=True
        )
    for i in range(10):
        body = f"not media {i}".encode()
        failed = {PREFIX + "status": f"failed:{NOT_MEDIA_CODE}", PREFIX + "etag": md5_hex(body)}
        bucket.put(emulator, f"broken/{i:03d}.mp4", body, expect=failed, submit=True)
    for i in range(60):
        bucket.put(emulator, f"docs/{i:03d}.txt", b"plain text")  # filtered: extension
    for i in range(15):
        bucket.put(emulator, f"videos/folder{i:02d}/", b"")  # folder markers
        bucket.put(emulator, f"videos/empty{i:02d}.mp4", b"")  # empty objects
    done = (
        (PREFIX + "status", "ok"),
        (PREFIX + "etag", video.etag),
        (PREFIX + "duration", "1.300"),
        USER_TAG,
    )
    for i in range(35):
        bucket.put(emulator, f"tagged/{i:03d}.mp4", video.body, tags=done)  # not resubmitted
    stale = ((PREFIX + "status", "ok"), (PREFIX + "etag", "0" * 32), USER_TAG)
    ours = expected_tags(video)  # one user tag + our 7 fit
    for i in range(5):
        want = {**ours, USER_TAG[0]: USER_TAG[1]}
        bucket.put(
            emulator, f"retagged/{i:03d}.mp4", video.body, tags=stale, expect=want, submit=True
        )
    return bucket


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[Emulator]:
    with Emulator(
        tmp_path / "data",
        upload_handler=no_upload_trigger,
        job_runner_delay_s=0.001,
        retry_interval_s=0,
    ) as running:
        yield running


def posts(emulator: Emulator) -> int:
    return int(emulator.stats()["operations"].get("ci:POST", 0))


def submitted_keys(emulator: Emulator) -> Counter[str]:
    return Counter(job.object_key for job in emulator.server.jobs.all())


def check_every_object(emulator: Emulator, bucket: Bucket) -> None:
    client = oracle_client(emulator)
    found = {key: comparable(read_tags(client, key)) for key in bucket.expected}
    wrong = {key: tags for key, tags in found.items() if tags != bucket.expected[key]}
    assert wrong == {}


class InterruptAfter:
    """A rate-limiter clock/sleep pair: time stands still, so every token after the first is
    waited for; the ``n``-th wait raises KeyboardInterrupt like Ctrl-C would."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.now = 0.0
        self.sleeps = 0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps += 1
        if self.sleeps == self.n:
            raise KeyboardInterrupt
        self.now += seconds


def test_interrupted_backfill_resumes_and_tags_the_bucket_exactly(
    emulator: Emulator, video: Media, audio: Media, tmp_path: Path
) -> None:
    bucket = fill(emulator, video, audio)
    assert len(bucket.expected) == 200 and len(bucket.submit) == 75 and posts(emulator) == 0
    environ, state, target = (
        emulator.function_environ(),
        tmp_path / "state.json",
        BackfillTarget(BUCKET, REGION),
    )
    stop = InterruptAfter(30)
    first = run_backfill(
        target,
        environ=environ,
        rate=100,
        state_file=state,
        clock=stop.clock,
        sleep=stop.sleep,
        concurrency=1,  # one thread: exactly the 30 submitted objects are recorded (no re-do)
    )
    assert first.interrupted and not first.state.complete and state.exists()
    assert posts(emulator) == first.tally.counts["submitted"] == 30  # the 31st waited: ^C
    second = run_backfill(target, environ=environ, rate=1000, state_file=state)
    assert second.state.complete and not second.interrupted
    assert emulator.wait_idle(SETTLE_S)
    assert submitted_keys(emulator) == Counter(bucket.submit)  # each exactly once, in total
    assert second.tally.counts["submitted"] == 75 - 30
    totals = second.state.totals
    assert (totals["submitted"], totals["already_tagged"], totals["failed"]) == (75, 35, 0)
    assert totals["filtered"] == 60 + 15 + 15
    check_every_object(emulator, bucket)
    assert emulator.stats()["callback_failures"] == 0
    # The same command again: complete, nothing to do; a fresh state file: all already tagged.
    assert run_backfill(target, environ=environ, state_file=state).already_complete
    again = run_backfill(target, environ=environ, rate=1000, state_file=tmp_path / "fresh.json")
    assert again.tally.counts["already_tagged"] == 75 + 35 and posts(emulator) == 75


def test_dry_run_submits_and_writes_nothing(
    emulator: Emulator, video: Media, audio: Media, tmp_path: Path
) -> None:
    bucket = fill(emulator, video, audio)
    state = tmp_path / "state.json"
    # The upload function's check may be off; backfill's idempotency check never is.
    environ = {**emulator.function_environ(), "MEDIA_TAGGER_IDEMPOTENCY_CHECK": "false"}
    result = run_backfill(
        BackfillTarget(BUCKET, REGION), environ=environ, dry_run=True, state_file=state
    )
    counts = result.tally.counts
    assert (counts["would_submit"], counts["already_tagged"], counts["filtered"]) == (75, 35, 90)
    assert posts(emulator) == 0 and not state.exists()
    client = oracle_client(emulator)
    assert all(read_tags(client, key) == {} for key in bucket.expected if key.startswith("videos/"))
    only_videos = run_backfill(
        BackfillTarget(BUCKET, REGION, prefix="videos/"), environ=environ, dry_run=True
    )
    assert only_videos.tally.handled == 40 + 15 + 15


KILLED_OBJECTS = 400
ROOT = Path(__file__).resolve().parent.parent


def test_a_killed_backfill_redoes_at_most_the_documented_number(tmp_path: Path) -> None:
    """kill -9 in the middle of a run; the same command then finishes it. Jobs are parked (no
    result ever arrives), so every object handled again shows as a second POST /jobs."""
    with Emulator(
        tmp_path / "data", upload_handler=no_upload_trigger, job_runner_delay_s=3600
    ) as emulator:
        for number in range(KILLED_OBJECTS):
            emulator.server.store.put_object(
                BUCKET, f"k/{number:04d}.mp4", [b"x" * 10], content_type="video/mp4", meta={}
            )
        state = tmp_path / "state.json"
        command = [sys.executable, "-m", "shared", "backfill", "--bucket", BUCKET]
        command += ["--region", REGION, "--rate", "1000", "--no-wait", "--no-count"]
        command += ["--state-file", str(state)]
        environ = {**os.environ, **emulator.function_environ()}
        quiet = subprocess.DEVNULL
        running = subprocess.Popen(command, cwd=ROOT, env=environ, stdout=quiet, stderr=quiet)
        deadline = time.monotonic() + 120
        while posts(emulator) < KILLED_OBJECTS // 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        running.send_signal(signal.SIGKILL)
        running.wait(timeout=30)
        killed_at = posts(emulator)
        assert KILLED_OBJECTS // 3 <= killed_at < KILLED_OBJECTS, "the kill came too late"
        saved = load_state(state)
        assert saved is not None and not saved.complete
        finished = subprocess.run(
            command, cwd=ROOT, env=environ, stdout=quiet, stderr=quiet, check=False, timeout=300
        )
        assert finished.returncode == 0
        keys = submitted_keys(emulator)
        assert set(keys) == {f"k/{number:04d}.mp4" for number in range(KILLED_OBJECTS)}
        redone = sum(keys.values()) - KILLED_OBJECTS
        assert 0 <= redone <= max_redone(DEFAULT_CONCURRENCY)
