"""``python -m shared backfill --engine ci``: option combinations, the dry run's plan and cost,
submit-only, cancel, the drain's exit codes; and the cost arithmetic against hand-made sums.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from emulator.app import Emulator
from shared.ops.batch_cost import BatchCounts, estimate
from shared.ops.cli import main
from tests.e2e_helpers import BUCKET, PREFIX, REGION, SETTLE_S, md5_hex
from tests.emulator_fixtures import make_sample_mp4
from tests.upload_helpers import BASE_ENVIRON, isolated_project_loggers

GOOD = ["--bucket", "media-1250000000", "--region", "ap-guangzhou"]
CI = ["backfill", "--engine", "ci"]


@pytest.fixture(autouse=True)
def _project_loggers() -> Iterator[None]:
    with isolated_project_loggers():  # main() configures the project loggers
        yield


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["backfill", *GOOD, "--manifest", "m.json"], "--manifest need --engine ci"),
        (["backfill", *GOOD, "--cancel", "--skip-tagged"], "--skip-tagged, --cancel need"),
        (["backfill", *GOOD, "--prefix", "a/", "--prefix", "b/"], "takes one --prefix"),
        ([*CI, *GOOD, "--max-objects", "5"], "are for the local engine"),
        ([*CI, *GOOD, "--key", "a.mp4"], "--max-objects, --key and --keys-from are for the local"),
        ([*CI, *GOOD, "--batch-input", "prefix"], "--batch-input prefix needs --prefix"),
        ([*CI, *GOOD, "--manifest-as-is"], "--manifest-as-is needs --manifest"),
        ([*CI, *GOOD, "--manifest", "m", "--prefix", "a/"], "do not combine"),
        (
            [*CI, *GOOD, "--batch-input", "prefix", "--prefix", "a/", "--skip-tagged"],
            "needs a manifest of our own",
        ),
        ([*CI, *GOOD, "--drain-concurrency", "65"], "must be 1 to 64"),
        ([*CI, *GOOD, "--poll", "0"], "0 to 3600"),
        (["backfill", *GOOD, "--engine", "aws"], "invalid choice: 'aws'"),
    ],
)
def test_combinations_that_cannot_run_exit_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as caught:
        main(argv, environ=BASE_ENVIRON)
    assert caught.value.code == 2
    assert message in capsys.readouterr().err


def test_the_cost_of_ten_million_objects_is_the_published_prices_arithmetic() -> None:
    counts = BatchCounts(
        listed=10_000_000, filtered_in=10_000_000, jobs=10_000_000, listing_requests=10_000,
        tag_reads=0, manifest_puts=101, tags_per_object=7,
    )  # fmt: skip
    lines = {line.item: round(line.yuan, 2) for line in estimate(counts)}
    assert lines["CI MediaInfo"] == round((10_000_000 - 3000) / 1000 * 0.1, 2) == 999.7
    requests = 10_000 + 101 + 3 * 10_000_000 + 100_000
    assert lines["COS requests"] == round(requests / 10_000 * 0.01, 2) == 30.11
    assert lines["one-time total"] == 1029.81
    assert lines["COS tags, every month"] == round(70_000_000 / 10_000 * 0.00166667 * 30, 2)


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[Emulator]:
    with Emulator(
        tmp_path / "data", buckets=[BUCKET], upload_handler=lambda event, context: None,
        job_runner_delay_s=0.0005, probe_cache=True,
    ) as running:  # fmt: skip
        yield running


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return make_sample_mp4(tmp_path_factory.mktemp("cli-media") / "clip.mp4").read_bytes()


def fill(emulator: Emulator, clip: bytes) -> None:
    store = emulator.server.store
    for i in range(12):
        store.put_object(BUCKET, f"in/{i:02d}.mp4", [clip], content_type="video/mp4", meta={})
    store.put_object(BUCKET, "in/notes.txt", [b"text"], content_type="text/plain", meta={})
    done = ((PREFIX + "status", "ok"), (PREFIX + "etag", md5_hex(b"x" * 32)))  # its own ETag
    store.put_object(
        BUCKET, "in/done.mp4", [b"x" * 32], content_type="video/mp4", meta={}, tags=done
    )


def cli(emulator: Emulator, *argv: str) -> tuple[int, str]:
    err = io.StringIO()
    args = [*CI, "--bucket", BUCKET, "--region", REGION, *argv]
    code = main(args, environ=emulator.function_environ(), stderr=err)
    return code, err.getvalue()


@pytest.mark.e2e
def test_a_dry_run_prints_the_plan_and_its_cost_and_changes_nothing(
    emulator: Emulator, clip: bytes, tmp_path: Path
) -> None:
    fill(emulator, clip)
    state = tmp_path / "state.json"
    before = dict(emulator.stats()["operations"])
    code, err = cli(emulator, "--skip-tagged", "--dry-run", "--state-file", str(state))
    assert code == 0, err
    assert "plan: 14 objects looked at: already tagged 1, filtered 1, to submit 12" in err
    assert "CI would run 12 MediaInfo jobs" in err
    assert "CI MediaInfo" in err and "COS tags, every month" in err and "元" in err
    assert "dry run: nothing was written, submitted or saved" in err
    operations = emulator.stats()["operations"]
    changed = {op: n - before.get(op, 0) for op, n in operations.items() if n != before.get(op)}
    assert changed == {"cos:GET:bucket": 1, "cos:GET:tagging": 13}  # the listing, tag reads
    assert not state.exists() and emulator.server.batch.batches.all() == []
    code, err = cli(emulator, "--batch-input", "prefix", "--prefix", "in/", "--dry-run")
    assert "CI would run 14 MediaInfo jobs" in err  # CI bills every object under a prefix


@pytest.mark.e2e
def test_submit_only_then_cancel_then_drain_what_finished(
    emulator: Emulator, clip: bytes, tmp_path: Path
) -> None:
    fill(emulator, clip)
    state = ["--state-file", str(tmp_path / "state.json")]
    code, err = cli(emulator, "--cancel", *state)
    assert code == 1 and "nothing to cancel" in err
    emulator.server.batch.runner.object_delay_s = 0.1  # the batch runs over a second or more
    code, err = cli(emulator, "--no-wait", *state)
    assert code == 0 and "submitted; the reconcile timer drains the results" in err
    (batch,) = emulator.server.batch.batches.all()
    key = f".media-tagger/batches/{batch.batch_id}.json"
    record = emulator.server.store.read_bytes(BUCKET, key)
    assert record is not None and json.loads(record)["run_id"] in batch.name
    code, err = cli(emulator, "--wait-timeout", "0.3", "--poll", "0.1", *state)
    assert code == 4 and "not drained within --wait-timeout" in err
    code, err = cli(emulator, "--cancel", "--poll", "0.1", *state)
    assert code == 0, err
    assert f"batch {batch.batch_id}: cancel sent" in err and "complete (state:" in err
    cancelled = emulator.server.batch.batches.get(batch.batch_id)
    assert cancelled is not None and cancelled.state == "Cancel"
    assert 1 <= cancelled.jobs_created < 12
    drained = json.loads(emulator.server.store.read_bytes(BUCKET, key) or b"{}")
    assert drained["drained"] and drained["counts"].get("tagged", 0) >= 1
    assert emulator.wait_idle(SETTLE_S)
    code, err = cli(emulator, *state)
    assert code == 0 and "nothing to do" in err
