"""A small soak in `make test`: 40 uploads through the emulator with faults, then reconcile.

The full run is `make soak` (emulator.soak.run, 500 uploads per phase). Here one faults phase with
more callback trouble than the full run (10 % dropped, 10 % duplicated) so reconcile and the
duplicate path are exercised, and the same without reconcile to show the outcome check can fail.
"""

from __future__ import annotations

import io

import pytest

from emulator.cli import main
from emulator.soak.report import SoakOptions
from emulator.soak.run import run_soak

SMALL = SoakOptions(uploads=40, phases=("faults",), drop_rate=0.1, duplicate_rate=0.1, seed=6)


@pytest.mark.e2e  # ffmpeg makes the samples, the emulator runs ffprobe
def test_forty_uploads_with_faults_lose_nothing_after_reconcile() -> None:
    out = io.StringIO()
    status, (result,) = run_soak(SMALL, out)
    assert status == 0, out.getvalue()
    assert result.verdicts["correct"] == 40
    assert result.settled and result.leaked == 0
    injected = result.injected
    assert sum(v for k, v in injected.items() if k.startswith(("cos_", "ci_"))) > 0
    assert injected.get("callbacks_dropped", 0) >= 1, "the seed must drop a callback"
    repaired = sum(p["outcomes"].get("tagged", 0) for p in result.reconcile)
    assert repaired >= injected["callbacks_dropped"]
    assert "OK: lost = 0, wrong = 0" in out.getvalue()


@pytest.mark.e2e
def test_without_reconcile_dropped_callbacks_are_reported_lost() -> None:
    out = io.StringIO()
    options = SoakOptions(
        uploads=40, phases=("faults",), failure_rate=0.0, drop_rate=0.3, seed=6, reconcile=False
    )
    status, (result,) = run_soak(options, out)
    assert status == 1
    assert result.verdicts["lost"] == result.injected["callbacks_dropped"] > 0
    assert "FAILED" in out.getvalue()


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
    for option in ("--uploads", "--phase", "--failure-rate", "--drop-rate", "--no-reconcile"):
        assert option in help_text
