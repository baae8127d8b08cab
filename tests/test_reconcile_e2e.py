"""Reconcile end to end: callbacks lost by fault injection, then reconcile repairs every object.

Jobs are submitted by backfill (the upload function's own path) into the emulator; the emulator
drops callbacks (``Faults``); reconcile (API, CLI and the timer function) must bring every
object to the tags the test expects from its own ffprobe run, write nothing when run again,
and apply only the newest job whose UserData ETag matches the object's current content.
"""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from emulator.app import Emulator
from functions.reconcile_on_timer import index as timer_function
from shared.ops.api import run_backfill
from shared.ops.backfill import BackfillTarget
from shared.ops.cli import main
from shared.reconcile.runner import run_reconcile
from tests.e2e_helpers import (
    BUCKET,
    PREFIX,
    REGION,
    SETTLE_S,
    Media,
    comparable,
    expected_tags,
    oracle_client,
    read_tags,
)
from tests.test_backfill_e2e import (  # the same samples and bucket layout
    Bucket,
    audio,
    fill,
    no_upload_trigger,
    video,
)

pytestmark = pytest.mark.e2e
__all__ = ["audio", "video"]  # module fixtures shared with the backfill tests


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[Emulator]:
    with Emulator(
        tmp_path / "data",
        upload_handler=no_upload_trigger,
        job_runner_delay_s=0.001,
        retry_interval_s=0,
    ) as running:
        yield running


def backfill(emulator: Emulator, tmp_path: Path, prefix: str = "") -> None:
    state = tmp_path / f"state-{time.monotonic_ns()}.json"
    run_backfill(
        BackfillTarget(BUCKET, REGION, prefix),
        environ=emulator.function_environ(),
        rate=1000,
        state_file=state,
        wait_timeout_s=None,  # callbacks are dropped on purpose here: reconcile is under test
    )
    assert emulator.wait_idle(SETTLE_S)


def put(emulator: Emulator, key: str, body: bytes) -> None:
    emulator.server.store.put_object(
        BUCKET, key, [body], content_type="application/octet-stream", meta={}
    )


def tag_writes(emulator: Emulator) -> int:
    return int(emulator.stats()["operations"].get("cos:PUT:tagging", 0))


def wrong_objects(emulator: Emulator, expected: dict[str, dict[str, str]]) -> dict[str, object]:
    client = oracle_client(emulator)
    found = {key: comparable(read_tags(client, key)) for key in expected}
    return {key: tags for key, tags in found.items() if tags != expected[key]}


def several_jobs_per_object(
    emulator: Emulator, tmp_path: Path, video: Media, audio: Media
) -> dict[str, dict[str, str]]:
    """Objects whose content changed between jobs (every callback dropped): what each must
    carry once reconciled."""
    emulator.faults.random_callback_faults(drop_rate=1.0, duplicate_rate=0.0)
    for key in ("several/x.mp4", "several/y.mp4", "several/z.mp4"):
        put(emulator, key, video.body)
    backfill(emulator, tmp_path, "several/")  # job 1 of each: the video
    for key in ("several/x.mp4", "several/y.mp4"):
        put(emulator, key, audio.body)
    backfill(emulator, tmp_path, "several/x")  # x: job 2, the audio (current content)
    backfill(emulator, tmp_path, "several/y")  # y: job 2, the audio ...
    put(emulator, "several/y.mp4", video.body)  # ... then the video again (job 1's ETag)
    put(emulator, "several/z.mp4", audio.body)  # z: changed, and no job saw the new content
    emulator.faults.reset()
    # y's job 1 began before y's current content was written (A -> B -> A) and z's jobs all
    # read older content: reconcile submits a job for each current content, which tags them.
    return {
        "several/x.mp4": expected_tags(audio),
        "several/y.mp4": expected_tags(video),
        "several/z.mp4": expected_tags(audio),
    }


def test_reconcile_repairs_every_object_whose_callback_was_lost(
    emulator: Emulator, video: Media, audio: Media, tmp_path: Path
) -> None:
    started = time.time()
    bucket: Bucket = fill(emulator, video, audio)
    emulator.faults.drop_next_callbacks(10)
    emulator.faults.random_callback_faults(drop_rate=0.5, duplicate_rate=0.1, seed=7)
    backfill(emulator, tmp_path)
    emulator.faults.reset()
    expected = dict(bucket.expected)
    expected.update(several_jobs_per_object(emulator, tmp_path, video, audio))
    missing = wrong_objects(emulator, expected)
    assert len(missing) >= 10 + 2  # the lost callbacks really left objects without results
    writes = tag_writes(emulator)

    summary = run_reconcile(
        BUCKET,
        REGION,
        since=started - 5,
        until=time.time() + 5,
        environ=emulator.function_environ(),
    )
    assert emulator.wait_idle(SETTLE_S)
    assert wrong_objects(emulator, expected) == {}
    assert tag_writes(emulator) - writes == len(missing)  # one PUT per object that lacked it
    # z got a job for its current content (its callback wrote it); so did y unless job 1 began
    # within the clock-skew allowance of y's third write (docs "Ordering guarantees": same bytes,
    # so either way y ends right); everything else: the lost result applied
    resubmitted = summary.outcomes["resubmitted"]
    assert resubmitted in (1, 2) and summary.errors == 0
    assert summary.outcomes["tagged"] == len(missing) - resubmitted
    assert summary.jobs == 75 + 5 and summary.objects == 75 + 3

    again = run_reconcile(
        BUCKET,
        REGION,
        since=started - 5,
        until=time.time() + 5,
        environ=emulator.function_environ(),
    )
    assert tag_writes(emulator) - writes == len(missing)  # nothing left to write
    assert again.outcomes == {"unchanged": 75 + 3} and again.jobs == 75 + 5 + resubmitted


def test_timer_function_and_cli_reconcile(
    emulator: Emulator, video: Media, audio: Media, tmp_path: Path
) -> None:
    keys = [f"timer/{i:02d}.mp4" for i in range(6)]
    for key in keys:
        put(emulator, key, video.body)
    emulator.faults.random_callback_faults(drop_rate=1.0, duplicate_rate=0.0)
    backfill(emulator, tmp_path)
    emulator.faults.reset()
    environ = emulator.function_environ()
    client = oracle_client(emulator)
    assert [read_tags(client, key) for key in keys] == [{}] * 6  # every callback was lost

    err = io.StringIO()
    code = main(
        ["reconcile", "--bucket", BUCKET, "--region", REGION, "--dry-run"],
        environ=environ,
        stderr=err,
    )
    assert code == 0 and "would-tag 6" in err.getvalue()
    assert tag_writes(emulator) == 0

    timer_environ = {
        **environ,
        "MEDIA_TAGGER_RECONCILE_BUCKETS": BUCKET,
        "MEDIA_TAGGER_RECONCILE_REGION": REGION,
        "MEDIA_TAGGER_RECONCILE_WINDOW": "10m",
        "MEDIA_TAGGER_RECONCILE_SETTLE": "0s",
    }
    context = {"request_id": "timer-1", "time_limit_in_ms": 60_000}
    result = timer_function.handle({"Type": "Timer"}, context, environ=timer_environ)
    assert result["outcomes"] == {"tagged": 6} and result["errors"] == 0
    assert wrong_objects(emulator, dict.fromkeys(keys, expected_tags(video))) == {}
    assert PREFIX + "status" in read_tags(oracle_client(emulator), keys[0])
