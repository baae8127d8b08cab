"""Starting one handler process (``handler_host.py``) on a list of events and reading its report.

The process is the runtime's Python with ``-S -s`` (no site-packages: only the unpacked zip and
the standard library), ``cwd`` = the unpacked zip, and an environment shaped like SCF's: its
built-in variables, PYTHONDONTWRITEBYTECODE, the role credentials and the function's settings,
nothing inherited from the shell. The emulator's counters are read right before and after, so
the requests and TCP connections of exactly that process are known. No measurement logic is
duplicated here: the numbers come from the handler process itself and from the emulator.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.emulator_handle import Counters, RunningEmulator
from benchmarks.fixture import REGION
from emulator import EmulatorCredentials

HOST_SCRIPT = Path(__file__).resolve().parent / "handler_host.py"
HOST_TIMEOUT_S = 900.0
SCF_APPID = "1250000000"


@dataclass(frozen=True)
class HostRun:
    """What one handler process measured, plus what the emulator counted for it."""

    report: dict[str, Any]
    wall_ms: float  # spawn to exit, seen from the driver (includes interpreter start)
    counters: Counters
    events: int

    @property
    def cold_ms(self) -> float:
        """Import of ``index`` plus the first invocation, inside the process."""
        return float(self.report["import_ms"] + self.report["first_ms"])

    @property
    def cold_cpu_ms(self) -> float:
        """CPU of the import of ``index`` plus the first invocation (less noise on a busy box)."""
        return float(self.report["import_cpu_ms"] + self.report["first_cpu_ms"])


def function_environ(
    function: str, runtime_name: str, zip_dir: Path, settings: Mapping[str, str]
) -> dict[str, str]:
    """SCF's built-in variables, role credentials, then the function's own settings."""
    keys = EmulatorCredentials.default()
    environ = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "TENCENTCLOUD_RUNENV": "SCF",
        "TENCENTCLOUD_REGION": REGION,
        "TENCENTCLOUD_APPID": SCF_APPID,
        "TENCENTCLOUD_UIN": "100000000001",
        "TENCENTCLOUD_TZ": "UTC",
        "SCF_RUNTIME": runtime_name,
        "SCF_FUNCTIONNAME": function,
        "SCF_FUNCTIONVERSION": "$LATEST",
        "USER_CODE_ROOT": str(zip_dir),
        "_SCF_SERVER_PORT": "28902",
        "TENCENTCLOUD_SECRETID": keys.secret_id,
        "TENCENTCLOUD_SECRETKEY": keys.secret_key,
    }
    if keys.token:
        environ["TENCENTCLOUD_SESSIONTOKEN"] = keys.token
    environ.update(settings)
    return environ


def run_host(
    python: str,
    zip_dir: Path,
    lines: Sequence[str],
    environ: Mapping[str, str],
    *,
    warmup: int,
    emulator: RunningEmulator,
    scratch: Path,
    wrapper: Sequence[str] = (),
) -> HostRun:
    """One fresh handler process over ``lines``; RuntimeError with its stderr if it fails.

    ``wrapper`` prefixes the command (a sampling profiler such as ``py-spy record ... --``)."""
    events = scratch / "events.jsonl"
    result = scratch / "result.json"
    events.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result.unlink(missing_ok=True)
    command = [*wrapper, python, "-S", "-s", str(HOST_SCRIPT), str(zip_dir), str(events)]
    command.append(str(result))
    before = emulator.counters()
    started = time.perf_counter()
    done = subprocess.run(
        [*command, str(warmup)],
        cwd=zip_dir,
        env=dict(environ),
        stdout=subprocess.DEVNULL,  # the functions' log lines, as SCF would ship them
        stderr=subprocess.PIPE,
        text=True,
        timeout=HOST_TIMEOUT_S,
        check=False,
    )
    wall_ms = (time.perf_counter() - started) * 1000
    counters = emulator.counters().minus(before)
    if done.returncode != 0 or not result.is_file():
        raise RuntimeError(f"handler process failed ({done.returncode}):\n{done.stderr[-3000:]}")
    report = json.loads(result.read_text(encoding="utf-8"))
    return HostRun(report, wall_ms, counters, len(lines))
