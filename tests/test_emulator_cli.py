"""`python -m emulator`: help, option errors, the serve banner, the demo's pieces."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from emulator.auth import EmulatorCredentials
from emulator.cli import main
from emulator.demo import (
    DemoError,
    DemoResult,
    format_tags,
    make_sample_video,
    upload_verdict,
    wait_for_tags,
)
from emulator.scf.invoker import Invocation
from emulator.serve import export_lines, serve_banner
from shared.models import ObjectRef, TagSet

ROOT = Path(__file__).resolve().parent.parent


def run_module(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "emulator", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


# -- help and option errors -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((), ["serve", "demo"]),
        (("serve",), ["--cos-port", "--function-url-port", "--data-dir", "--latency-ms"]),
        (("demo",), ["FILE", "--format", "--timeout"]),
    ],
)
def test_help_lists_the_options(args: tuple[str, ...], expected: list[str]) -> None:
    result = run_module(*args, "--help")
    assert result.returncode == 0, result.stderr
    for word in expected:
        assert word in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "required"),
        (("launch",), "invalid choice"),
        (("serve", "--cos-port", "70000"), "port must be 0..65535"),
        (("serve", "--cos-port", "http"), "not a port number"),
        (("serve", "--latency-ms", "-5"), "must be >= 0"),
        (("demo", "--format", "YAML"), "invalid choice"),
        (("demo", "--timeout", "0"), "must be > 0"),
        (("demo", "--timeout", "soon"), "not a number of seconds"),
    ],
)
def test_bad_options_exit_2_with_a_clear_message(
    args: tuple[str, ...], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit, match=r"^2$") as raised:
        main(list(args))
    assert raised.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("serve", "--cos-port", "70000"), "port must be 0..65535"),
        (("demo", "--timeout", "soon"), "not a number of seconds"),
    ],
)
def test_bad_options_message_reaches_stderr(args: tuple[str, ...], message: str) -> None:
    result = run_module(*args)
    assert result.returncode == 2
    assert message in result.stderr
    assert result.stdout == ""


def test_demo_of_a_missing_file_fails_with_exit_1(tmp_path: Path) -> None:
    result = run_module("demo", str(tmp_path / "nope.mp4"), "--timeout", "5")
    assert result.returncode == 1
    assert "no such file" in result.stderr


# -- serve banner -----------------------------------------------------------------------------
def test_serve_banner_names_endpoints_credentials_and_client_settings() -> None:
    credentials = EmulatorCredentials("AKIDtest", "keytest", "tokentest")
    banner = serve_banner(
        "http://127.0.0.1:9000", "http://127.0.0.1:9001/", credentials, "b-1250000000", "ap-x"
    )
    assert "http://127.0.0.1:9000" in banner and "http://127.0.0.1:9001/" in banner
    assert "IP='127.0.0.1', Port=9000" in banner
    assert "SecretId='AKIDtest', SecretKey='keytest'" in banner
    assert "Token='tokentest'" in banner
    assert "sessiontoken: tokentest" in banner
    assert "HTTP_PROXY=http://127.0.0.1:9000 coscli" in banner


def test_serve_banner_without_token_omits_token_settings() -> None:
    banner = serve_banner(
        "http://127.0.0.1:9", "http://127.0.0.1:8/", EmulatorCredentials("a", "b"), "b-1", "r"
    )
    assert "Token=" not in banner
    assert "sessiontoken" not in banner
    assert "(none: permanent keys)" in banner


# -- demo pieces ------------------------------------------------------------------------------
class FakeTagging:
    """get_object_tagging answers from a script: one TagSet per call."""

    def __init__(self, answers: list[TagSet]) -> None:
        self.answers = answers
        self.calls = 0

    def get_object_tagging(self, obj: ObjectRef, *, deadline: float | None = None) -> TagSet:
        answer = self.answers[min(self.calls, len(self.answers) - 1)]
        self.calls += 1
        return answer


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


OBJ = ObjectRef("demo-1250000000", "ap-guangzhou", "demo/a.mp4")


def test_wait_for_tags_polls_until_the_status_tag_appears() -> None:
    done: TagSet = (("owner", "me"), ("media:status", "ok"), ("media:duration", "2.0"))
    fake, time_ = FakeTagging([(), (("owner", "me"),), done]), FakeTime()
    tags = wait_for_tags(fake, OBJ, 10, clock=time_.clock, sleep=time_.sleep)
    assert tags == done
    assert fake.calls == 3
    assert time_.sleeps == [0.2, 0.2]


def test_wait_for_tags_gives_up_after_the_timeout() -> None:
    fake, time_ = FakeTagging([(("owner", "me"),)]), FakeTime()
    tags = wait_for_tags(fake, OBJ, 1.0, clock=time_.clock, sleep=time_.sleep)
    assert tags is None
    assert sum(time_.sleeps) == pytest.approx(1.0)


def test_wait_for_tags_stops_at_once_when_no_tag_will_come() -> None:
    fake, time_ = FakeTagging([()]), FakeTime()
    verdicts = iter([None, "the upload function skipped demo/a.mp4: no-extension"])
    with pytest.raises(DemoError, match=r"skipped demo/a\.mp4: no-extension"):
        wait_for_tags(
            fake, OBJ, 60, clock=time_.clock, sleep=time_.sleep, gave_up=lambda: next(verdicts)
        )
    assert fake.calls == 2
    assert time_.sleeps == [0.2]


def _invocation(result: object) -> Invocation:
    return Invocation({}, {}, 1, result, None, 0.0, 0.001)


def test_upload_verdict_names_the_filter_reason_or_a_permanent_failure() -> None:
    skipped = _invocation(
        {"submitted": [], "skipped": [{"key": "demo/n.txt", "reason": "extension-not-allowed:txt"}]}
    )
    failed = _invocation(
        {"failed": [{"key": "demo/x.mp4", "code": "AccessDenied", "permanent": True}]}
    )
    transient = _invocation(
        {"failed": [{"key": "demo/y.mp4", "code": "SlowDown", "permanent": False}]}
    )
    submitted = _invocation({"submitted": [{"key": "demo/a.mp4", "job_id": "j1"}]})
    invocations = [submitted, skipped, failed, transient, _invocation(None)]
    assert "extension-not-allowed:txt" in str(upload_verdict(invocations, "demo/n.txt"))
    assert "AccessDenied" in str(upload_verdict(invocations, "demo/x.mp4"))
    assert upload_verdict(invocations, "demo/y.mp4") is None  # SCF retries it: keep waiting
    assert upload_verdict(invocations, "demo/a.mp4") is None


@pytest.mark.e2e
def test_demo_of_a_non_media_file_fails_at_once_with_the_reason(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("not a video\n", encoding="utf-8")
    result = run_module("demo", str(notes), "--timeout", "25")
    assert result.returncode == 1
    assert "skipped demo/notes.txt: extension-not-allowed:txt" in result.stderr
    assert "no media:status tag after" not in result.stderr  # it did not wait for the timeout


@pytest.mark.e2e
def test_demo_of_a_file_with_a_space_in_its_name(tmp_path: Path) -> None:
    clip = make_sample_video(tmp_path).rename(tmp_path / "my clip.mp4")
    result = run_module("demo", str(clip), timeout=60)
    assert result.returncode == 0, result.stderr
    assert "cos://demo-1250000000/demo/my clip.mp4:" in result.stdout
    assert "media:status      ok" in result.stdout


def test_format_tags_aligns_the_values() -> None:
    text = format_tags(DemoResult("demo/a.mp4", (("media:status", "ok"), ("k", "v")), 1.234))
    lines = text.splitlines()
    assert lines[0] == "cos://demo-1250000000/demo/a.mp4: 2 tags after 1.23 s"
    rows = lines[2:]
    assert rows[0].split() == ["tag", "value"]
    assert rows[2] == "  media:status  ok"
    assert rows[3] == "  k             v"


@pytest.mark.e2e
def test_sample_video_is_h264_aac_320x240_about_2_seconds(tmp_path: Path) -> None:
    path = make_sample_video(tmp_path)
    probe = subprocess.run(
        [
            *(shutil.which("ffprobe") or "ffprobe", "-v", "error", "-print_format", "json"),
            *("-show_streams", "-show_format", str(path)),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    info = json.loads(probe.stdout)
    codecs = {stream["codec_type"]: stream for stream in info["streams"]}
    assert codecs["video"]["codec_name"] == "h264"
    assert (codecs["video"]["width"], codecs["video"]["height"]) == (320, 240)
    assert codecs["audio"]["codec_name"] == "aac"
    assert 1.9 <= float(info["format"]["duration"]) <= 2.2


def test_sample_video_without_ffmpeg_explains_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    from emulator.demo import DemoError

    with pytest.raises(DemoError, match="install"):
        make_sample_video(tmp_path)
    assert os.listdir(tmp_path) == []


def test_export_lines_survive_a_shell_eval() -> None:
    lines = export_lines({"MEDIA_TAGGER_CALLBACK_SECRET": "a b'c$d", "X": "1"}, pid=42)
    script = "\n".join(lines) + '\nprintf "%s|%s|%s" "$MEDIA_TAGGER_CALLBACK_SECRET" "$X" '
    script += '"$MEDIA_TAGGER_EMULATOR_PID"'
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout == "a b'c$d|1|42"
    assert "export MEDIA_TAGGER_EMULATOR_BUCKET=demo-1250000000" in lines


@pytest.mark.e2e
def test_serve_detach_takes_the_callback_secret_from_the_environment(tmp_path: Path) -> None:
    secret = "s" * 40
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "emulator",
            "serve",
            "--detach",
            "--free-ports",
            "--data-dir",
            str(tmp_path / "data"),
        ],
        cwd=ROOT,
        env={**os.environ, "MEDIA_TAGGER_CALLBACK_SECRET": secret},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    pid = int(next(line for line in lines if "EMULATOR_PID=" in line).split("=")[1])
    try:
        assert f"export MEDIA_TAGGER_CALLBACK_SECRET={secret}" in lines
        assert all(line.startswith("export ") for line in lines)  # nothing else on stdout
        assert any(
            line.startswith("export MEDIA_TAGGER_ENDPOINT_URL=http://127.0.0.1:") for line in lines
        )
    finally:
        os.kill(pid, 15)
