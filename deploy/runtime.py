"""Which Python the SCF functions run on (serverless.yml says), and where that interpreter is here.

The .pyc files in a zip must be written by the runtime's own minor version, so the build needs
that interpreter locally. Lookup order: an explicit path (``--python`` / ``SCF_PYTHON``), then
``python3.X`` on PATH, then pyenv's ``versions/3.X.*``; anything else is a clear BuildError.
This module only reads files and runs ``<python> -c`` to ask a version: it never installs.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

RUNTIME_RE = re.compile(r"Python(3)\.([0-9]{1,2})")
PYTHON_ENV_VARIABLE = "SCF_PYTHON"
_VERSION_PROBE = "import sys; print('%d.%d' % sys.version_info[:2])"


def dotted(version: tuple[int, int]) -> str:
    """(3, 12) -> "3.12"."""
    return f"{version[0]}.{version[1]}"


class BuildError(Exception):
    """The build cannot go on; the message says what to do."""


def load_manifest(path: Path) -> dict[str, Any]:
    """serverless.yml as data (YAML anchors and merge keys resolved)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not isinstance(data.get("instances"), dict):
        raise BuildError(f"{path}: expected a mapping with an 'instances' section")
    return data


def instance_inputs(manifest: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Function folder name -> the scf component's ``inputs`` of its instance."""
    found: dict[str, dict[str, Any]] = {}
    for function, instance in manifest["instances"].items():
        inputs = instance.get("inputs") if isinstance(instance, dict) else None
        if not isinstance(inputs, dict):
            raise BuildError(f"instance {function!r} has no inputs mapping")
        found[str(function)] = inputs
    return found


def runtime_version(manifest: Mapping[str, Any]) -> tuple[int, int]:
    """The one Python runtime all instances use, as (3, minor)."""
    runtimes = {str(inputs.get("runtime")) for inputs in instance_inputs(manifest).values()}
    if len(runtimes) != 1:
        raise BuildError(f"all functions must use one runtime, found {sorted(runtimes)}")
    runtime = runtimes.pop()
    match = RUNTIME_RE.fullmatch(runtime)
    if match is None:
        raise BuildError(f"runtime {runtime!r} is not an SCF Python runtime like Python3.12")
    return int(match.group(1)), int(match.group(2))


def probe_version(python: str) -> tuple[int, int] | None:
    """(major, minor) of an interpreter, or None when it does not run."""
    try:
        done = subprocess.run(  # noqa: S603 -- a local interpreter path, no shell
            [python, "-S", "-c", _VERSION_PROBE],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    major, _, minor = done.stdout.strip().partition(".")
    return (int(major), int(minor)) if major.isdigit() and minor.isdigit() else None


def _pyenv_candidates(version: tuple[int, int], environ: Mapping[str, str]) -> Iterator[str]:
    root = Path(environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
    prefix = dotted(version) + "."
    patches = sorted(
        (
            path
            for path in (root / "versions").glob(prefix + "*")
            if path.name[len(prefix) :].isdigit()
        ),
        key=lambda path: int(path.name[len(prefix) :]),
        reverse=True,
    )
    for path in patches:
        yield str(path / "bin" / f"python{dotted(version)}")


def _candidates(
    version: tuple[int, int],
    explicit: str | None,
    environ: Mapping[str, str],
    which: Callable[[str], str | None],
) -> Iterator[str]:
    for given in (explicit, environ.get(PYTHON_ENV_VARIABLE)):
        if given:
            yield given
    on_path = which(f"python{dotted(version)}")
    if on_path:
        yield on_path
    yield from _pyenv_candidates(version, environ)


def find_interpreter(
    version: tuple[int, int],
    explicit: str | None = None,
    environ: Mapping[str, str] | None = None,
    which: Callable[[str], str | None] = shutil.which,
    probe: Callable[[str], tuple[int, int] | None] = probe_version,
) -> str:
    """A local interpreter of exactly ``version``; BuildError naming the fixes otherwise."""
    env = os.environ if environ is None else environ
    tried = []
    for candidate in _candidates(version, explicit, env, which):
        found = probe(candidate)
        if found == version:
            return candidate
        tried.append(f"{candidate} ({'not runnable' if found is None else dotted(found)})")
    wanted = dotted(version)
    raise BuildError(
        f"Python {wanted} is needed to compile .pyc for the SCF runtime Python{wanted}, "
        f"and none was found (tried: {', '.join(tried) or 'nothing'}). Install it "
        f"(pyenv install {wanted}, or your OS package python{wanted}) or point "
        f"{PYTHON_ENV_VARIABLE}=/path/to/python{wanted} (make package SCF_PYTHON=...) at one."
    )
