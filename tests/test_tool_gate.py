"""The required-tools gate (tests/runtimes.py) and the runtime bootstrap (deploy/pythons.py)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from deploy.pythons import ensure, installers
from deploy.runtime import MissingInterpreterError
from tests.runtimes import TOOLS, bootstrap_reason, required_tools


@pytest.mark.parametrize(
    ("environ", "required"),
    [
        ({}, set()),
        ({"MEDIA_TAGGER_REQUIRE_TOOLS": "ffprobe"}, {"ffprobe"}),
        ({"MEDIA_TAGGER_REQUIRE_TOOLS": " runtimes , ffprobe"}, {"ffprobe", "runtimes"}),
        ({"MEDIA_TAGGER_REQUIRE_TOOLS": "all"}, set(TOOLS)),
        ({"MEDIA_TAGGER_REQUIRE_TOOLS": "ffprobe", "CI": "true"}, set(TOOLS)),
        ({"MEDIA_TAGGER_REQUIRE_TOOLS": "0"}, set()),
    ],
)
def test_required_tools(environ: dict[str, str], required: set[str]) -> None:
    assert required_tools(environ) == required


def test_an_unknown_tool_name_is_a_usage_error() -> None:
    with pytest.raises(pytest.UsageError, match=r"unknown \['ffmpeg'\]"):
        required_tools({"MEDIA_TAGGER_REQUIRE_TOOLS": "ffmpeg"})


def test_bootstrap_reason_comes_from_the_record(tmp_path: Path) -> None:
    record = tmp_path / "runtimes.json"
    record.write_text(json.dumps({"3.9": {"status": "missing", "reason": "uv: dns error"}}))
    assert bootstrap_reason("3.9", record) == "uv: dns error"
    assert bootstrap_reason("3.12", record) is None
    assert bootstrap_reason("3.9", tmp_path / "absent.json") is None


class FakeMachine:
    """Interpreters that exist, and installers that add some of them."""

    def __init__(self, present: set[str], installable: set[str]) -> None:
        self.present = present
        self.installable = installable
        self.commands: list[list[str]] = []

    def find(self, version: tuple[int, int]) -> str:
        name = f"{version[0]}.{version[1]}"
        if name not in self.present:
            raise MissingInterpreterError(version, [])
        return f"/py/{name}"

    def run(self, command: list[str]) -> subprocess.CompletedProcess[str]:
        self.commands.append(command)
        got = [v for v in command[2:] if v in self.installable]
        self.present.update(got)
        return subprocess.CompletedProcess(command, 0 if got else 1, "", "error: dns error\n")


def test_ensure_asks_uv_once_for_every_missing_version_then_pyenv() -> None:
    machine = FakeMachine({"3.11"}, installable={"3.12"})
    tools = [("uv", ["uv", "python", "install"]), ("pyenv", ["pyenv", "install", "-s"])]
    outcome = ensure([(3, 9), (3, 11), (3, 12)], find=machine.find, run=machine.run, tools=tools)
    assert machine.commands == [
        ["uv", "python", "install", "3.9", "3.12"],
        ["pyenv", "install", "-s", "3.9"],
    ]
    assert outcome["3.11"] == {"status": "found", "python": "/py/3.11"}
    assert outcome["3.12"] == {"status": "installed", "python": "/py/3.12"}
    assert outcome["3.9"] == {
        "status": "missing",
        "reason": "uv: error: dns error; pyenv: error: dns error",
    }


def test_ensure_without_installers_says_so() -> None:
    machine = FakeMachine(set(), installable=set())
    outcome = ensure([(3, 13)], find=machine.find, run=machine.run, tools=[])
    assert outcome["3.13"]["reason"] == "no installer found (uv, pyenv)"
    assert machine.commands == []


def test_installers_prefer_the_venvs_uv_and_add_pyenv_when_on_path() -> None:
    found = installers(which=lambda name: f"/bin/{name}" if name == "pyenv" else None)
    assert [name for name, _ in found][-1] == "pyenv"
    assert found[-1][1] == ["/bin/pyenv", "install", "-s"]
