"""Backfill's parts on their own: the progress display and the state file (the pace:
tests/test_adaptive_rate.py)."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest

from shared.errors import ConfigError
from shared.ops.checkpoint import BackfillState, check_state_matches, load_state, save_state
from shared.ops.progress import (
    CLEAR_LINE,
    Progress,
    ProgressPoint,
    StatusLineGuard,
    describe,
    format_eta,
)
from shared.records import replace


class FakeTime:
    """A clock that only moves when told to, or when someone sleeps."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


# -- progress ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, "?"),
        (float("nan"), "?"),
        (-1, "?"),
        (0, "0s"),
        (44.6, "45s"),
        (200, "3m20s"),
        (7500, "2h05m"),
        (3 * 86400 + 4 * 3600 + 59, "3d04h"),
    ],
)
def test_eta_text(seconds: float | None, text: str) -> None:
    assert format_eta(seconds) == text


def test_the_line_shows_counts_rate_and_eta() -> None:
    point = ProgressPoint(120, 480, 30, [("submitted", 30), ("filtered", 90)])
    # 120 objects in 60 s -> 360 left take 180 s; 30 jobs in 60 s = 0.5 jobs/s
    assert describe(point, 60.0) == (
        "120/480 objects (25%) | submitted 30 | filtered 90 | 0.5 jobs/s | ETA 3m00s"
    )


def test_without_a_total_there_is_no_eta() -> None:
    assert describe(ProgressPoint(7, None, 0), 2.0) == "7 objects | 0.0 jobs/s | ETA ?"
    assert describe(ProgressPoint(0, 10, 0), 0.0).endswith("ETA ?")


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_one_line_rewritten_in_place() -> None:
    time, out = FakeTime(), Terminal()
    progress = Progress(out, tty=True, clock=time.clock, width=40)
    progress.update(ProgressPoint(1, 4, 1))
    time.now += 0.05
    progress.update(ProgressPoint(2, 4, 2))  # too soon: not drawn
    time.now += 0.1
    progress.update(ProgressPoint(3, 4, 3))
    progress.finish(ProgressPoint(4, 4, 4))
    frames = out.getvalue().split(CLEAR_LINE)
    assert frames[0] == "" and "\n" not in "".join(frames[1:-1])
    assert [frame[:3] for frame in frames[1:]] == ["1/4", "3/4", "4/4"]
    assert all(len(frame.rstrip("\n")) <= 39 for frame in frames)  # cut to the width
    assert out.getvalue().endswith("\n")


def test_elsewhere_plain_lines_at_an_interval() -> None:
    time, out = FakeTime(), io.StringIO()
    progress = Progress(out, tty=False, clock=time.clock, interval_s=10)
    for done in range(1, 30):
        progress.update(ProgressPoint(done, 30, done))
        time.now += 1
    progress.finish(ProgressPoint(30, 30, 30))
    lines = out.getvalue().splitlines()
    assert [line.split(" ")[0] for line in lines] == ["1/30", "11/30", "21/30", "30/30"]
    assert "\r" not in out.getvalue() and "\x1b" not in out.getvalue()


def test_log_lines_do_not_run_into_the_status_line() -> None:
    time, terminal = FakeTime(), Terminal()
    progress = Progress(terminal, tty=True, clock=time.clock)
    progress.update(ProgressPoint(1, 2, 1))
    status = terminal.getvalue()
    guard = StatusLineGuard(terminal, progress)
    guard.write('{"outcome":"submitted"}\n')
    assert terminal.getvalue() == status + CLEAR_LINE + '{"outcome":"submitted"}\n' + status
    assert guard.isatty()


def test_notes_appear_above_the_status_line() -> None:
    time, terminal = FakeTime(), Terminal()
    progress = Progress(terminal, tty=True, clock=time.clock)
    progress.update(ProgressPoint(1, 2, 1))
    status = terminal.getvalue()
    progress.note("resuming")
    assert terminal.getvalue() == status + CLEAR_LINE + "resuming\n" + status


# -- state file ---------------------------------------------------------------------------------

STATE = BackfillState(
    "media-1250000000",
    "ap-guangzhou",
    "videos/",
    last_key="videos/b 视频.mp4",
    retry_keys=("videos/a.mp4",),
    totals={"submitted": 3},
)


def test_state_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    save_state(path, STATE)
    assert load_state(path) == STATE
    assert json.loads(path.read_text(encoding="utf-8"))["format"] == "media-tagger-backfill/1"


@pytest.mark.parametrize("flag", [1, "true", "yes", [1]])
def test_only_a_json_true_marks_a_state_complete(tmp_path: Path, flag: object) -> None:
    path = tmp_path / "state.json"
    save_state(path, replace(STATE, complete=True))
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["complete"] is True
    path.write_text(json.dumps({**data, "complete": flag}), encoding="utf-8")  # edited by hand
    loaded = load_state(path)
    assert loaded is not None and loaded.complete is False  # a rerun is the safe reading


def test_no_file_means_no_state(tmp_path: Path) -> None:
    assert load_state(tmp_path / "missing.json") is None


def test_a_failed_write_leaves_the_old_state_and_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "state.json"
    save_state(path, STATE)

    def broken_replace(source: str, target: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="No space"):
        save_state(path, BackfillState("media-1250000000", "ap-guangzhou", "videos/", "z"))
    assert load_state(path) == STATE
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.json"]


def test_ctrl_c_during_a_write_leaves_the_old_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "state.json"
    save_state(path, STATE)

    def dump_half_then_interrupt(data: object, out: io.TextIOBase, **options: object) -> None:
        out.write('{"format": "media-tagger-backf')
        raise KeyboardInterrupt("^C half way through the write")

    monkeypatch.setattr(json, "dump", dump_half_then_interrupt)
    with pytest.raises(KeyboardInterrupt, match="half way through the write"):
        save_state(path, BackfillState("media-1250000000", "ap-guangzhou", "videos/", "z"))
    monkeypatch.undo()
    assert load_state(path) == STATE
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.json"]


def test_durable_writes_fsync_before_the_rename(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        calls.append("fsync")
        real_fsync(fd)

    def rename(source: str, target: str) -> None:
        calls.append("replace")
        real_replace(source, target)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", rename)
    save_state(tmp_path / "a.json", STATE)
    save_state(tmp_path / "b.json", STATE, durable=False)
    assert calls == ["fsync", "replace", "replace"]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"{not json", "not a usable backfill state file"),
        (b"\xff\xfe", "not a usable backfill state file"),
        (b'{"format": "something-else/1"}', "not a media-tagger-backfill/1 file"),
        (b"[]", "not a media-tagger-backfill/1 file"),
        (
            b'{"format": "media-tagger-backfill/1", "bucket": "b-1250000000", "region": "r",'
            b' "prefix": "", "last_key": 5, "retry_keys": [], "totals": {}}',
            "last_key must be a string",
        ),
        (
            b'{"format": "media-tagger-backfill/1", "bucket": "b-1250000000", "region": "r",'
            b' "prefix": "", "last_key": null, "retry_keys": "a", "totals": {}}',
            "retry_keys must be a list",
        ),
    ],
)
def test_an_unusable_file_is_a_clear_error_naming_it(
    tmp_path: Path, content: bytes, problem: str
) -> None:
    path = tmp_path / "state.json"
    path.write_bytes(content)
    with pytest.raises(
        ConfigError, match=r"is not a usable backfill state file \(.+\); move it away or delete it"
    ) as caught:
        load_state(path)
    assert caught.value.variable == f"--state-file {path}"
    assert problem in str(caught.value) and "delete it" in str(caught.value)


def test_a_state_file_only_continues_its_own_bucket_and_prefix(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    check_state_matches(path, STATE, "media-1250000000", "ap-guangzhou", "videos/")
    with pytest.raises(ConfigError, match="belongs to bucket media-1250000000"):
        check_state_matches(path, STATE, "media-1250000000", "ap-guangzhou", "audio/")
    with pytest.raises(ConfigError, match="--state-file"):
        check_state_matches(path, STATE, "other-1250000000", "ap-guangzhou", "videos/")


def test_after_advances_the_checkpoint_and_remembers_retries() -> None:
    state = BackfillState("b-1250000000", "ap-guangzhou", "")
    state = state.after("a", retry=False).after("b", retry=True).after("b", retry=True)
    assert (state.last_key, state.retry_keys) == ("b", ("b",))
