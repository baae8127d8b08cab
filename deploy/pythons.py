"""``make pythons``: get every SCF runtime Python the tests and the build need, where possible.

For each of ``SCF_PYTHONS`` not already found by ``deploy.runtime.find_interpreter``, it asks a
standard installer, in this order: ``uv python install`` (uv from PyPI, a dev dependency; it
downloads prebuilt CPython from python-build-standalone releases), then ``pyenv install -s`` when
pyenv is on PATH (it builds from python.org sources). A machine that reaches neither host keeps
what it has. The outcome per version is printed and written to build/runtimes.json, where the
test suite reads the reason a runtime is missing (tests/runtimes.py). Never fails the make run:
whether a missing runtime is an error is the test suite's call (MEDIA_TAGGER_REQUIRE_TOOLS, CI).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from deploy.runtime import SCF_PYTHONS, BuildError, dotted, find_interpreter

ROOT = Path(__file__).resolve().parent.parent
RECORD = Path("build") / "runtimes.json"
INSTALL_TIMEOUT_S = 900
Runner = Callable[[list[str]], "subprocess.CompletedProcess[str]"]


def _run(command: list[str]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "UV_HTTP_TIMEOUT": os.environ.get("UV_HTTP_TIMEOUT", "30")}
    try:
        return subprocess.run(  # noqa: S603 -- fixed installer commands, no shell
            command, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S, env=env, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return subprocess.CompletedProcess(command, 1, "", f"{type(exc).__name__}: {exc}")


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:300] if lines else "no output"


def installers(which: Callable[[str], str | None] = shutil.which) -> list[tuple[str, list[str]]]:
    """(name, command prefix) of the installers present, in the order they are tried."""
    found = []
    beside = Path(sys.executable).with_name("uv")  # the venv's own uv (requirements-dev.txt)
    uv = str(beside) if beside.is_file() else which("uv")
    if uv:
        found.append(("uv", [uv, "python", "install"]))
    pyenv = which("pyenv")
    if pyenv:
        found.append(("pyenv", [pyenv, "install", "-s"]))
    return found


def _split(
    versions: Sequence[tuple[int, int]],
    find: Callable[[tuple[int, int]], str],
    status: str,
    outcome: dict[str, dict[str, str]],
) -> list[tuple[int, int]]:
    """Record the versions ``find`` finds under ``status``; return the ones still missing."""
    missing = []
    for version in versions:
        try:
            outcome[dotted(version)] = {"status": status, "python": find(version)}
        except BuildError:
            missing.append(version)
    return missing


def _install(
    name: str, prefix: list[str], missing: list[tuple[int, int]], run: Runner
) -> dict[str, str]:
    """One installer's attempt at every missing version: version -> its last words."""
    if name == "uv":  # one call for all: uv downloads them in parallel
        said = _last_line(run([*prefix, *(dotted(v) for v in missing)]).stderr)
        return {dotted(version): f"uv: {said}" for version in missing}
    return {
        dotted(version): f"{name}: {_last_line(run([*prefix, dotted(version)]).stderr)}"
        for version in missing
    }


def ensure(
    versions: Sequence[tuple[int, int]] = SCF_PYTHONS,
    *,
    find: Callable[[tuple[int, int]], str] = find_interpreter,
    run: Runner = _run,
    tools: list[tuple[str, list[str]]] | None = None,
) -> dict[str, dict[str, str]]:
    """Per version: ``{"status": found|installed|missing, "python" or "reason": ...}``."""
    outcome: dict[str, dict[str, str]] = {}
    missing = _split(versions, find, "found", outcome)
    attempts: dict[str, list[str]] = {dotted(v): [] for v in missing}
    for name, prefix in installers() if tools is None else tools:
        if not missing:
            break
        for name_of_version, said in _install(name, prefix, missing, run).items():
            attempts[name_of_version].append(said)
        missing = _split(missing, find, "installed", outcome)
    for version in missing:
        tried = "; ".join(attempts[dotted(version)]) or "no installer found (uv, pyenv)"
        outcome[dotted(version)] = {"status": "missing", "reason": tried}
    return outcome


def main(argv: Sequence[str] | None = None) -> int:
    """CLI: python -m deploy.pythons [--record PATH]."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--record", type=Path, default=ROOT / RECORD, help="outcome as JSON")
    args = parser.parse_args(argv)
    outcome = ensure()
    for version, result in outcome.items():
        detail = result.get("python") or f"not available ({result['reason']})"
        print(f"Python {version}: {result['status']}: {detail}")
    args.record.parent.mkdir(parents=True, exist_ok=True)
    args.record.write_text(json.dumps(outcome, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
