"""Unattended draining: the reconcile timer drains a batch from the record it finds in the bucket;
reconcile leaves a batch's jobs to the drain; the reserved prefix never starts a job.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from emulator.app import Emulator
from functions.reconcile_on_timer import index as timer_function
from functions.submit_on_upload import index as upload_function
from shared.contract.batch import BATCH_RECORDS_PREFIX, RESERVED_PREFIX, batch_run_of
from shared.ops.batch_api import run_batch_backfill
from shared.ops.batch_backfill import BatchOptions
from shared.ops.batch_state import BatchPlan
from shared.upload.filters import Skip, decide_object
from tests.callback_helpers import collected_lines
from tests.e2e_helpers import (
    BUCKET,
    REGION,
    SETTLE_S,
    VIDEO_ARGS,
    Media,
    comparable,
    expected_tags,
    generate_media,
    oracle_client,
    read_tags,
    wait_until,
)
from tests.events import load_event
from tests.upload_helpers import isolated_project_loggers


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Media:
    return generate_media(tmp_path_factory.mktemp("timer-media"), "clip.mp4", VIDEO_ARGS)


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[Emulator]:
    with Emulator(
        tmp_path / "data", buckets=[BUCKET], upload_handler=lambda event, context: None,
        job_runner_delay_s=0.0005, probe_cache=True,
    ) as running:  # fmt: skip
        yield running


@pytest.mark.e2e
def test_the_timer_drains_a_batch_nobody_follows_and_reconcile_leaves_its_jobs_alone(
    emulator: Emulator, video: Media, tmp_path: Path
) -> None:
    keys = [f"t/{i:02d}.mp4" for i in range(20)]
    for key in keys:
        emulator.server.store.put_object(BUCKET, key, [video.body], content_type="v", meta={})
    environ = emulator.function_environ()
    plan = BatchPlan(BUCKET, REGION, "prefix", prefixes=("t/",))
    run_batch_backfill(
        plan, state_file=tmp_path / "s.json", options=BatchOptions(wait=False), environ=environ
    )
    (batch,) = emulator.server.batch.batches.all()
    assert wait_until(lambda: emulator.server.batch.batches.all()[0].state == "Success", 20)
    timer_environ = {
        **environ,
        "MEDIA_TAGGER_RECONCILE_BUCKETS": BUCKET,
        "MEDIA_TAGGER_RECONCILE_REGION": REGION,
        "MEDIA_TAGGER_RECONCILE_WINDOW": "10m",
        "MEDIA_TAGGER_RECONCILE_SETTLE": "0s",  # the batch's jobs are in reconcile's window
    }
    context = {"request_id": "timer-1", "time_limit_in_ms": 60_000}
    with isolated_project_loggers(), collected_lines("media_tagger") as lines:
        result = timer_function.handle({"Type": "Timer"}, context, environ=timer_environ)
        again = timer_function.handle({"Type": "Timer"}, context, environ=timer_environ)
    assert result["batches"] == {
        "batches": 1, "drained": 1, "outcomes": {"tagged": 20}, "errors": 0, "incomplete": False,
    }  # fmt: skip
    assert result["jobs"] == 20 and result["objects"] == 0  # listed, left to the drain
    assert again["batches"]["batches"] == 0  # drained records are not read again
    decisions = lines.decisions()
    assert not [d for d in decisions if d.get("reason") == "unknown-provenance"]
    record = json.loads(
        emulator.server.store.read_bytes(BUCKET, f"{BATCH_RECORDS_PREFIX}{batch.batch_id}.json")
        or b"{}"
    )
    assert record["drained"] and batch_run_of(record["user_data"]) == record["run_id"]
    client = oracle_client(emulator)
    assert all(comparable(read_tags(client, key)) == expected_tags(video) for key in keys)
    assert emulator.wait_idle(SETTLE_S)


def test_the_reserved_prefix_is_refused_whatever_the_filters_allow() -> None:
    key = RESERVED_PREFIX + "batches/b1.json"
    decision = decide_object(key, 10, extensions=None, include_prefixes=(RESERVED_PREFIX,))
    assert decision == Skip("reserved-prefix:.media-tagger/")
    assert decide_object("x/.media-tagger/b.mp4", 10, extensions=None) != decision


def test_the_upload_function_submits_nothing_for_a_record_write(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    event = load_event("cos_put.json")
    event["Records"][0]["cos"]["cosObject"]["key"] = (
        "/1250000000/media-uploads/" + RESERVED_PREFIX + "manifests/r1/data/000000.csv.gz"
    )
    environ = {
        "TENCENTCLOUD_SECRETID": "AKIDEXAMPLEq1w2e3r4t5y6u7i8o9p0ASDFGHJ",
        "TENCENTCLOUD_SECRETKEY": "ExampleSecretKey0123456789abcdEF",
        "MEDIA_TAGGER_CALLBACK_URL": "https://cb.example.com/",
        "MEDIA_TAGGER_CALLBACK_SECRET": "s3cr3t-callback-key-0123456789abcdefXYZ",
        "MEDIA_TAGGER_EXTENSIONS": "*",
        "MEDIA_TAGGER_INCLUDE_PREFIXES": "",
    }
    with isolated_project_loggers(), collected_lines("media_tagger") as lines:
        result = upload_function.handle(event, {"request_id": "u-1"}, environ=environ)
    assert result["submitted"] == []
    skipped = [d for d in lines.decisions() if d.get("outcome") == "skipped"]
    assert [d["reason"] for d in skipped] == ["reserved-prefix:.media-tagger/"]
