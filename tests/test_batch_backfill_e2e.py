"""Batch backfill end to end on the emulator: 2,000 objects via Prefix and via a COS inventory.

The bucket holds video, audio, broken media, non-media, folder markers and empty objects,
hostile keys, objects already tagged for their content and objects tagged for other content.
Some objects are overwritten while the batch waits in a paused queue (the batch's job reads the
new content: its result stands) and some after their job read them (the result is stale: it is
not written, and the object gets a job of its own through the upload path and the callback).
The drain runs as a subprocess killed with SIGKILL part way, then resumes in-process; every
object must end with exactly the tags the test computes from its own ffprobe run. The emulator's
clock runs ahead on demand, so Last-Modified falls where the test needs it without sleeping.
"""

from __future__ import annotations

import json
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
from shared.contract.batch import RESERVED_PREFIX
from shared.ops.batch_api import run_batch_backfill
from shared.ops.batch_backfill import BatchOptions
from shared.ops.batch_state import BatchPlan
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
    wait_until,
)

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parent.parent
TOP = "bf/"
USER_TAG = ("owner", "alice")
HOSTILE = ["a b+c 100%.mp4", "视频/夏天 (1).mp4", "x#1?y=z.mp4", "p%20q%25.mp4", " lead.mp4"]


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Media:
    return generate_media(tmp_path_factory.mktemp("batch-media"), "clip.mp4", VIDEO_ARGS)


@pytest.fixture(scope="module")
def audio(tmp_path_factory: pytest.TempPathFactory) -> Media:
    return generate_media(tmp_path_factory.mktemp("batch-media"), "tone.mp3", AUDIO_ARGS)


class AheadClock:
    """Wall time plus an offset the test moves forward (the emulator's clock)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


@dataclass
class Bucket:
    expected: dict[str, dict[str, str]] = field(default_factory=dict)
    before_read: list[str] = field(default_factory=list)  # overwritten while the batch waits
    after_read: list[str] = field(default_factory=list)  # overwritten after their job ran
    tagged: set[str] = field(default_factory=set)  # already carry their result

    def put(
        self, emulator: Emulator, key: str, body: bytes, expect: dict[str, str], tags: tuple = ()
    ) -> None:
        emulator.server.store.put_object(
            BUCKET, key, [body], content_type="application/octet-stream", meta={}, tags=tags
        )
        self.expected[key] = expect


def fill(emulator: Emulator, video: Media, audio: Media) -> Bucket:
    """2,000 objects under TOP (and 60 that will be overwritten with audio)."""
    bucket = Bucket()
    keys = [f"{TOP}v/{i:04d}.mp4" for i in range(1195)] + [f"{TOP}h/{k}" for k in HOSTILE]
    for key in keys:
        bucket.put(emulator, key, video.body, expected_tags(video))
    for i in range(300):
        bucket.put(emulator, f"{TOP}a/{i:03d}.mp3", audio.body, expected_tags(audio))
    broken = b"not media at all"  # one content: the emulator's probe cache runs ffprobe once
    failed = {PREFIX + "status": "failed:ResourceNotSupported", PREFIX + "etag": md5_hex(broken)}
    for i in range(100):
        bucket.put(emulator, f"{TOP}broken/{i:03d}.mp4", broken, failed)
    for i in range(200):
        bucket.put(emulator, f"{TOP}docs/{i:03d}.txt", b"plain text", {})
    for i in range(25):
        bucket.put(emulator, f"{TOP}dir{i:02d}/", b"", {})
        bucket.put(emulator, f"{TOP}empty/{i:02d}.mp4", b"", {})
    done = ((PREFIX + "status", "ok"), (PREFIX + "etag", video.etag), USER_TAG)
    for i in range(100):
        key = f"{TOP}tagged/{i:03d}.mp4"
        bucket.put(emulator, key, video.body, dict(done), done)
        bucket.tagged.add(key)
    stale = ((PREFIX + "status", "ok"), (PREFIX + "etag", "0" * 32), USER_TAG)
    for i in range(50):
        want = {**expected_tags(video), USER_TAG[0]: USER_TAG[1]}
        bucket.put(emulator, f"{TOP}retag/{i:03d}.mp4", video.body, want, stale)
    bucket.before_read = [f"{TOP}v/{i:04d}.mp4" for i in range(0, 300, 10)]
    bucket.after_read = [f"{TOP}v/{i:04d}.mp4" for i in range(5, 300, 10)]
    assert len(bucket.expected) == 2000
    return bucket


def overwrite(emulator: Emulator, bucket: Bucket, keys: list[str], audio: Media) -> None:
    for key in keys:
        bucket.put(emulator, key, audio.body, expected_tags(audio))


@pytest.fixture
def clock() -> AheadClock:
    return AheadClock()


@pytest.fixture
def emulator(tmp_path: Path, clock: AheadClock) -> Iterator[Emulator]:
    with Emulator(
        tmp_path / "data",
        buckets=[BUCKET],
        job_runner_delay_s=0.0005,
        retry_interval_s=0,
        probe_cache=True,
        queue_max_concurrent=32,
        clock=clock,
    ) as running:
        yield running


def batch_state(emulator: Emulator) -> str:
    (batch,) = emulator.server.batch.batches.all()
    return batch.state


def cli_command(emulator: Emulator, args: list[str]) -> tuple[list[str], dict[str, str]]:
    """``python -m shared backfill --engine ci ...`` and its environment, as an operator runs it."""
    env = {**os.environ, **emulator.function_environ(), "PYTHONUNBUFFERED": "1"}
    env["PYTHONPATH"] = str(ROOT)
    return [sys.executable, "-m", "shared", "backfill", "--engine", "ci", *args], env


def drain_in_a_subprocess_and_kill_it(emulator: Emulator, args: list[str], after_lines: int) -> int:
    """The command until ``after_lines`` objects were tagged, then SIGKILL; the number of
    tagged lines it printed."""
    command, env = cli_command(emulator, args)
    child = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    tagged = 0
    assert child.stdout is not None
    try:
        for line in child.stdout:
            if line.startswith("{") and json.loads(line).get("outcome") == "tagged":
                tagged += 1
                if tagged >= after_lines:
                    child.send_signal(signal.SIGKILL)
                    break
    finally:
        child.kill()
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL, "the drain ended before it was killed"
    return tagged


def resume_in_a_subprocess(emulator: Emulator, args: list[str]) -> str:
    """The same command again, to the end: exit 0; its summary (stderr)."""
    command, env = cli_command(emulator, args)
    done = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stderr


def check_every_object(emulator: Emulator, bucket: Bucket) -> None:
    """Every object's tags as the emulator stores them (its own state, not read through
    ``shared``), and the hostile keys once more through cos-python-sdk-v5 (test-only oracle)."""
    store, wrong = emulator.server.store, {}
    for key, want in bucket.expected.items():
        stored = store.head(BUCKET, key)
        tags = dict(stored.tags) if stored is not None else {"missing": "object"}
        found = tags if key in bucket.tagged else comparable(tags)
        if found != want:
            wrong[key] = found
    assert wrong == {}
    client = oracle_client(emulator)
    for key in (f"{TOP}h/{name}" for name in HOSTILE):
        assert comparable(read_tags(client, key)) == bucket.expected[key]


@dataclass
class World:
    emulator: Emulator
    clock: AheadClock
    audio: Media
    state_file: Path


def run_case(world: World, bucket: Bucket, plan: BatchPlan, args: list[str]) -> None:
    emulator, clock, audio = world.emulator, world.clock, world.audio
    environ, state = emulator.function_environ(), world.state_file
    emulator.server.configure_queue(state="Paused")
    submitted = run_batch_backfill(
        plan, state_file=state, options=BatchOptions(wait=False), environ=environ
    )
    assert len(submitted.state.batches) == 1
    clock.offset += 5
    overwrite(emulator, bucket, bucket.before_read, audio)
    emulator.server.configure_queue(state="Active")
    assert wait_until(lambda: batch_state(emulator) == "Success", timeout_s=60)
    clock.offset += 30
    overwrite(emulator, bucket, bucket.after_read, audio)
    drain_args = [*args, "--poll", "0.1", "--state-file", str(state)]
    assert drain_in_a_subprocess_and_kill_it(emulator, drain_args, 400) >= 400
    summary = resume_in_a_subprocess(emulator, drain_args)
    assert f"resuming run {submitted.state.run_id}" in summary and "complete (state:" in summary
    assert emulator.wait_idle(SETTLE_S)
    check_every_object(emulator, bucket)
    submitted_keys = Counter(job.object_key for job in emulator.server.jobs.all())
    resubmitted = {key for key, n in submitted_keys.items() if n > 1}
    assert set(bucket.after_read) <= resubmitted  # stale: a job of their own
    assert not [key for key in submitted_keys if key.startswith(RESERVED_PREFIX)]
    assert emulator.stats()["callback_failures"] == 0


@pytest.fixture
def world(emulator: Emulator, clock: AheadClock, audio: Media, tmp_path: Path) -> World:
    return World(emulator, clock, audio, tmp_path / "batch.state.json")


def test_a_prefix_batch_of_2000_objects_survives_kill_9_and_overwrites(
    world: World, video: Media, audio: Media
) -> None:
    bucket = fill(world.emulator, video, audio)
    plan = BatchPlan(BUCKET, REGION, "prefix", prefixes=(TOP,))
    args = ["--bucket", BUCKET, "--region", REGION, "--batch-input", "prefix", "--prefix", TOP]
    run_case(world, bucket, plan, args)
    jobs = [job for job in world.emulator.server.jobs.all() if job.batch_id is not None]
    assert len(jobs) == 2000  # CI runs every object under the prefix


def test_a_manifest_batch_of_2000_objects_skips_what_is_tagged_and_non_media(
    world: World, video: Media, audio: Media
) -> None:
    bucket = fill(world.emulator, video, audio)
    written = world.emulator.server.batch.write_inventory(bucket=BUCKET, prefix=TOP)
    manifest = f"cos://{BUCKET}/{written['manifest']}"
    plan = BatchPlan(BUCKET, REGION, "manifest", manifest=manifest, skip_tagged=True)
    args = ["--bucket", BUCKET, "--region", REGION, "--manifest", manifest, "--skip-tagged"]
    run_case(world, bucket, plan, args)
    jobs = [job for job in world.emulator.server.jobs.all() if job.batch_id is not None]
    assert len(jobs) == 2000 - 100 - 200 - 50  # no tagged, non-media, marker or empty object
