"""Small soaks in `make test`: the faults phase with issue 10's figures, and a burst beyond CI's
queue, each a few seconds; plus runs that show the outcome check can fail.

The full run is `make soak` (emulator.soak.run: 500 uploads in the clean and faults phases, 1000
in the burst). Here: 40 uploads with 30 % COS/CI 503|429, 20 % dropped, 5 % duplicated and
reordered callbacks, deletes/re-creates and A->B->A overwrites, then reconcile; 60 uploads
against a queue of 6 waiting / 2 running, paused half-way, without reconcile.
"""

from __future__ import annotations

import io

import pytest

from emulator.cli import main
from emulator.soak.plan import MEDIA, PlannedObject
from emulator.soak.report import SoakOptions
from emulator.soak.rewrites import history_for, rewrite_counts, with_rewrites
from emulator.soak.run import run_soak

FAULTS = SoakOptions(uploads=40, phases=("faults",), seed=6)  # the defaults: issue 10's figures
BURST = SoakOptions(
    phases=("burst",), burst_uploads=60, burst_capacity=6, burst_concurrency=2, burst_pause_s=0.5
)


@pytest.mark.e2e  # ffmpeg makes the samples, the emulator runs ffprobe
def test_forty_uploads_with_the_issues_faults_lose_nothing_after_reconcile() -> None:
    assert (FAULTS.failure_rate, FAULTS.drop_rate, FAULTS.duplicate_rate) == (0.3, 0.2, 0.05)
    out = io.StringIO()
    status, (result,) = run_soak(FAULTS, out)
    assert status == 0, out.getvalue()
    assert result.verdicts["correct"] == 40
    assert result.settled and result.leaked == 0
    injected = result.injected
    assert sum(v for k, v in injected.items() if k.startswith(("cos_", "ci_"))) > 0
    assert injected.get("callbacks_dropped", 0) >= 1, "the seed must drop a callback"
    assert injected.get("callbacks_reordered", 0) >= 1
    assert set(result.rewritten) == {"recreate-same", "recreate-other", "aba"}
    assert sum(p["outcomes"].get("tagged", 0) for p in result.reconcile) >= 1
    assert "OK: lost = 0, wrong = 0" in out.getvalue()


@pytest.mark.e2e
def test_without_reconcile_dropped_callbacks_are_reported_lost() -> None:
    out = io.StringIO()
    options = SoakOptions(
        uploads=40, phases=("faults",), failure_rate=0.0, drop_rate=0.3, duplicate_rate=0.0,
        seed=6, reconcile=False, rewrites=False, reorder_window=0,
    )  # fmt: skip
    status, (result,) = run_soak(options, out)
    assert status == 1
    assert result.verdicts["lost"] == result.injected["callbacks_dropped"] > 0
    assert "FAILED" in out.getvalue()


@pytest.mark.e2e
def test_a_burst_ten_times_the_queue_with_a_pause_loses_nothing_without_reconcile() -> None:
    out = io.StringIO()
    status, (result,) = run_soak(BURST, out)
    assert status == 0, out.getvalue()
    assert result.verdicts["correct"] == 60 and result.reconcile == []
    burst = result.burst or {}
    assert (burst["capacity"], burst["concurrency"], burst["peak_waiting"]) == (6, 2, 6)
    assert burst["paused_after_uploads"] == 30 and burst["paused_s"] >= 0.5
    assert burst["refused_submits"] > 0 and burst["hand_on_invocations"] > 0
    assert result.hand_ons == burst["hand_on_invocations"]
    assert "burst: 60 uploads stored in" in out.getvalue()


@pytest.mark.e2e
def test_the_burst_finds_records_dropped_when_queue_signals_are_permanent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What issue 18 reported: every 4xx but 429 permanent. The burst must then fail."""
    monkeypatch.setattr("shared.upload.service.QUEUE_SIGNALS", frozenset({"SlowDown"}))
    monkeypatch.setattr("shared.upload.service.RETRY_IN_PLACE", frozenset({"SlowDown"}))
    monkeypatch.setattr("shared.upload.event_run.QUEUE_SIGNALS", frozenset({"SlowDown"}))
    out = io.StringIO()
    status, (result,) = run_soak(BURST, out)
    assert status == 1
    assert result.verdicts["lost"] > 0
    assert "FAILED" in out.getvalue()


def test_rewrites_end_with_the_planned_content_and_cover_every_kind() -> None:
    def media(index: int, data: bytes) -> PlannedObject:
        return PlannedObject(f"k{index}.mp4", data, "video/mp4", MEDIA, {"status": "ok"})

    planned = [media(index, b"A" if index % 2 else b"B") for index in range(20)]
    rewritten = with_rewrites(planned)
    assert rewrite_counts(rewritten) == {"recreate-same": 1, "recreate-other": 1, "aba": 1}
    assert [(item.rewrite, item.history, item.data) for item in rewritten if item.rewrite] == [
        ("recreate-same", (b"A", None), b"A"),
        ("recreate-other", (b"B", None), b"A"),
        ("aba", (b"A", b"B"), b"A"),
    ]
    assert all(item.expected == {"status": "ok"} for item in rewritten)  # the last content's
    with pytest.raises(ValueError, match="unknown rewrite"):
        history_for("twice", b"A", b"B")


def test_soak_options_are_checked_by_the_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit, match=r"^2$") as exited:
        main(["soak", "--uploads", "many"])
    assert exited.value.code == 2
    assert "--uploads" in capsys.readouterr().err
    with pytest.raises(SystemExit, match=r"^2$") as exited:
        main(["soak", "--failure-rate", "1.5"])
    assert exited.value.code == 2
    assert "--failure-rate" in capsys.readouterr().err
    with pytest.raises(SystemExit, match=r"^0$"):
        main(["soak", "--help"])
    help_text = capsys.readouterr().out
    for option in ("--uploads", "--phase", "--failure-rate", "--drop-rate", "--no-reconcile",
                   "--reorder-window", "--no-rewrites", "--burst-uploads", "--burst-capacity",
                   "--burst-concurrency", "--burst-pause"):  # fmt: skip
        assert option in help_text
