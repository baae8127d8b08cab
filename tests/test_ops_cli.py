"""``python -m shared``: help text, option checks, exit codes, progress and summary output."""

from __future__ import annotations

import io
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from emulator.app import Emulator
from shared.ops.backfill import BackfillTarget
from shared.ops.cli import default_state_file, main, state_directory
from shared.ops.parser import build_parser
from tests.e2e_helpers import BUCKET, REGION, SETTLE_S
from tests.upload_helpers import BASE_ENVIRON, isolated_project_loggers

ROOT = Path(__file__).resolve().parent.parent
GOOD = ["--bucket", "media-1250000000", "--region", "ap-guangzhou"]


@pytest.fixture(autouse=True)
def _project_loggers() -> Iterator[None]:
    with isolated_project_loggers():  # main() configures the project loggers
        yield


def run(argv: list[str], environ: dict[str, str] | None = None) -> tuple[int, str]:
    err = io.StringIO()
    code = main(argv, environ=BASE_ENVIRON if environ is None else environ, stderr=err)
    return code, err.getvalue()


# -- help -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("argv", [["--help"], ["backfill", "--help"], ["reconcile", "--help"]])
def test_help_exits_0(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit, match=r"^0$") as caught:
        main(argv, environ={})
    assert caught.value.code == 0
    assert capsys.readouterr().out.startswith("usage: python -m shared")


@pytest.mark.parametrize("command", ["backfill", "reconcile"])
def test_every_option_is_explained(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    parser = build_parser()
    with pytest.raises(SystemExit, match=r"^0$"):
        parser.parse_args([command, "--help"])
    text = " ".join(capsys.readouterr().out.split())
    subparsers = next(a for a in parser._actions if a.dest == "command")
    sub = subparsers.choices[command]  # type: ignore[index]
    options = [a for a in sub._actions if a.option_strings and a.dest != "help"]
    assert len(options) >= 5
    for action in options:
        assert action.help and len(action.help) > 15, action.dest
        assert action.option_strings[0] in text
    assert "Exit codes" in text and "MEDIA_TAGGER_ENDPOINT_URL" in text


def test_the_module_runs_as_a_program() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "shared", "backfill", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0 and "--max-objects" in done.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "shared", "reconcile", "--bucket", "x"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert bad.returncode == 2 and "--bucket" in bad.stderr


# -- bad command lines: argparse, exit 2 ----------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "required: COMMAND"),
        (["tag"], "invalid choice: 'tag'"),
        (["backfill", "--region", "ap-guangzhou"], "required: --bucket"),
        (["backfill", "--bucket", "media", "--region", "ap-guangzhou"], "<name>-<appid>"),
        (["backfill", *GOOD[:2], "--region", "guangzhou"], "region like ap-guangzhou"),
        (["backfill", *GOOD, "--rate", "0"], "--rate: '0': must be a number above 0"),
        (["backfill", *GOOD, "--rate", "fast"], "--rate: 'fast'"),
        (["backfill", *GOOD, "--rate", "5000"], "at most 1000"),
        (["backfill", *GOOD, "--max-objects", "0"], "--max-objects: '0'"),
        (["backfill", *GOOD, "--max-objects", "-3"], "--max-objects"),
        (["backfill", *GOOD, "--since", "1h"], "unrecognized arguments: --since"),
        (["reconcile", *GOOD, "--since", "yesterday"], "--since: 'yesterday' is neither"),
        (["reconcile", *GOOD, "--until", "2024-11-25T10:00:00"], "with an offset"),
        (["reconcile", *GOOD, "--prefix", "a/"], "unrecognized arguments: --prefix"),
    ],
)
def test_bad_options_exit_2_with_a_clear_message(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit, match=r"^2$") as caught:
        main(argv, environ=BASE_ENVIRON)
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert message in err and err.startswith("usage:")


# -- runtime configuration: exit 1 naming the variable or file -----------------------------------


@pytest.mark.parametrize(
    ("command", "environ", "variable"),
    [
        ("backfill", {}, "MEDIA_TAGGER_CALLBACK_SECRET"),
        (
            "backfill",
            {**BASE_ENVIRON, "MEDIA_TAGGER_CALLBACK_URL": ""},
            "MEDIA_TAGGER_CALLBACK_URL",
        ),
        ("backfill", {**BASE_ENVIRON, "TENCENTCLOUD_SECRETKEY": " "}, "TENCENTCLOUD_SECRETKEY"),
        (
            "backfill",
            {**BASE_ENVIRON, "MEDIA_TAGGER_EXTENSIONS": "m p4"},
            "MEDIA_TAGGER_EXTENSIONS",
        ),
        ("reconcile", {}, "TENCENTCLOUD_SECRETID"),
        (
            "reconcile",
            {**BASE_ENVIRON, "MEDIA_TAGGER_TAG_FIELDS": "colour"},
            "MEDIA_TAGGER_TAG_FIELDS",
        ),
        (
            "reconcile",
            {**BASE_ENVIRON, "MEDIA_TAGGER_ENDPOINT_URL": "ftp://x"},
            "MEDIA_TAGGER_ENDPOINT_URL",
        ),
    ],
)
def test_configuration_errors_exit_1_naming_the_variable(
    command: str, environ: dict[str, str], variable: str, tmp_path: Path
) -> None:
    code, err = run(
        [command, *GOOD, "--state-file", str(tmp_path / "s")]
        if command == "backfill"
        else [command, *GOOD],
        environ,
    )
    assert code == 1
    assert err.startswith(f"error: {variable}: ")


def test_a_corrupt_state_file_exits_1_naming_it(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    state.write_text("{half a json", encoding="utf-8")
    code, err = run(["backfill", *GOOD, "--state-file", str(state)])
    assert code == 1
    assert f"--state-file {state}" in err and "delete it" in err
    assert state.read_text(encoding="utf-8") == "{half a json"  # never overwritten


def test_since_must_come_before_until() -> None:
    code, err = run(["reconcile", *GOOD, "--since", "1h", "--until", "2h"])
    assert code == 1 and "--since must be earlier than --until" in err


def test_secrets_never_reach_the_error_output() -> None:
    environ = {**BASE_ENVIRON, "MEDIA_TAGGER_CALLBACK_SECRET": "short-but-secret"}
    code, err = run(["backfill", *GOOD], environ)
    assert code == 1 and "short-but-secret" not in err


def test_the_default_state_file_is_per_bucket_region_and_prefix() -> None:
    environ = {"XDG_STATE_HOME": "/var/state", "HOME": "/home/u"}
    plain = default_state_file(BackfillTarget("media-1250000000", "ap-guangzhou"), environ)
    assert plain == Path(
        "/var/state/cos-media-tagger/backfill-media-1250000000-ap-guangzhou.state.json"
    )
    videos = default_state_file(BackfillTarget("media-1250000000", "ap-guangzhou", "videos/"), {})
    audio = default_state_file(BackfillTarget("media-1250000000", "ap-guangzhou", "audio/"), {})
    assert len({plain, videos, audio}) == 3


def test_the_state_directory_is_per_user_never_the_working_folder() -> None:
    assert state_directory({"XDG_STATE_HOME": "/s", "HOME": "/h"}) == Path("/s/cos-media-tagger")
    home = Path("/h/.local/state/cos-media-tagger")
    assert state_directory({"HOME": "/h"}) == home
    assert state_directory({"XDG_STATE_HOME": "relative/ignored", "HOME": "/h"}) == home
    assert state_directory({}).is_absolute()


# -- against the emulator: progress, summary, exit codes ------------------------------------------


def no_upload_trigger(event: object, context: object) -> None:
    """Backfill submits; the trigger stays quiet."""


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[Emulator]:
    with Emulator(
        tmp_path / "data", upload_handler=no_upload_trigger, job_runner_delay_s=0.001
    ) as running:
        for i in range(6):
            running.server.store.put_object(
                BUCKET, f"clips/{i}.mp4", [b"x" * (i + 1)], content_type="video/mp4", meta={}
            )
        yield running


@pytest.mark.e2e
def test_backfill_prints_plain_progress_and_a_summary(emulator: Emulator, tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    argv = ["backfill", "--bucket", BUCKET, "--region", REGION, "--state-file", str(state)]
    calls = {"n": 0}

    def interrupting_sleep(seconds: float) -> None:
        calls["n"] += 1
        raise KeyboardInterrupt

    err = io.StringIO()
    code = main(
        [*argv, "--concurrency", "1"],  # one thread: the interrupt lands on the second object
        environ=emulator.function_environ(),
        stderr=err,
        clock=lambda: 0.0,
        sleep=interrupting_sleep,
    )
    assert code == 130 and calls["n"] == 1
    assert "interrupted; the same command continues after 'clips/0.mp4'" in err.getvalue()
    err = io.StringIO()
    code = main([*argv, "--rate", "1000"], environ=emulator.function_environ(), stderr=err)
    output = err.getvalue()
    assert code == 0, output
    assert "resuming after 'clips/0.mp4'" in output
    assert "5/5 objects (100%) | submitted 5" in output  # plain lines: not a terminal
    assert "\x1b" not in output and "complete (state:" in output
    assert emulator.wait_idle(SETTLE_S)


@pytest.mark.e2e
def test_reconcile_exits_3_when_objects_failed(emulator: Emulator, tmp_path: Path) -> None:
    environ = {**emulator.function_environ(), "MEDIA_TAGGER_MAX_ATTEMPTS": "1"}
    emulator.faults.random_callback_faults(drop_rate=1.0, duplicate_rate=0.0)
    backfill = ["backfill", "--bucket", BUCKET, "--region", REGION, "--rate", "1000"]
    state = ["--state-file", str(tmp_path / "s.json")]
    assert main([*backfill, *state, "--no-wait"], environ=environ, stderr=io.StringIO()) == 0
    assert emulator.wait_idle(SETTLE_S)
    emulator.faults.fail_next("cos", 2, 503)  # the first two objects' GET ?tagging
    code, err = run(["reconcile", "--bucket", BUCKET, "--region", REGION], environ)
    assert code == 3
    assert "6 objects" in err and "error 2" in err and "run again" in err
    code, err = run(["reconcile", "--bucket", BUCKET, "--region", REGION], environ)
    assert code == 0 and "tagged 2" in err and "unchanged 4" in err


@pytest.mark.e2e
def test_dry_run_writes_no_state_and_says_so_then_a_run_uses_the_state_directory(
    emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    environ = {**emulator.function_environ(), "XDG_STATE_HOME": str(tmp_path / "state")}
    expected = tmp_path / "state" / "cos-media-tagger" / f"backfill-{BUCKET}-{REGION}.state.json"
    argv = ["backfill", "--bucket", BUCKET, "--region", REGION, "--rate", "1000"]
    code, err = run([*argv, "--dry-run"], environ)
    assert code == 0, err
    assert "would submit 6" in err
    assert f"no state file was written (a real run keeps its checkpoint in {expected})" in err
    assert "complete (state:" not in err
    assert not (tmp_path / "state").exists()
    code, err = run(argv, environ)
    assert code == 0, err
    assert f"complete (state: {expected})" in err
    assert expected.is_file()
    assert list(work.iterdir()) == []  # nothing lands in the working folder
    assert emulator.wait_idle(SETTLE_S)


class SteppedClock:
    """A clock that moves only when slept on: the wait's grace time passes without sleeping."""

    def __init__(self) -> None:
        self.now = 1000.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.mark.e2e
def test_backfill_exits_4_when_its_callbacks_are_refused(
    emulator: Emulator, tmp_path: Path
) -> None:
    """The issue's case: backfill's secret is not the callback function's, so CI's callbacks get
    403; every submission succeeds, and only the wait can tell that no object was tagged."""
    environ = {**emulator.function_environ(), "MEDIA_TAGGER_CALLBACK_SECRET": "x" * 40}
    time_ = SteppedClock()
    err = io.StringIO()
    argv = ["backfill", "--bucket", BUCKET, "--region", REGION, "--rate", "1000"]
    code = main(
        [*argv, "--state-file", str(tmp_path / "s.json")],
        environ=environ,
        stderr=err,
        clock=time_.clock,
        sleep=time_.sleep,
    )
    output = err.getvalue()
    assert code == 4, output
    assert "0 written, 6 missing, 0 jobs not finished" in output
    assert (
        "missing: 'clips/0.mp4' (job j" in output and "Failed, result not on the object" in output
    )
    assert (
        "MEDIA_TAGGER_CALLBACK_SECRET differs" in output and "python -m shared reconcile" in output
    )
    refused = [call.reply.status for call in emulator.function_url.invocations]
    assert refused == [403] * 6
    assert "x" * 40 not in output
    assert emulator.wait_idle(SETTLE_S)


@pytest.mark.e2e
def test_backfill_waits_until_every_result_is_written(emulator: Emulator, tmp_path: Path) -> None:
    time_ = SteppedClock()
    err = io.StringIO()
    argv = ["backfill", "--bucket", BUCKET, "--region", REGION, "--rate", "1000"]
    code = main(
        [*argv, "--state-file", str(tmp_path / "s.json")],
        environ=emulator.function_environ(),
        stderr=err,
        clock=time_.clock,
        sleep=time_.sleep,
    )
    assert code == 0, err.getvalue()
    assert "6 written, 0 missing, 0 jobs not finished" in err.getvalue()
    assert emulator.wait_idle(SETTLE_S)  # the last callback's log line, before the loggers go
