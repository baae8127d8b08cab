"""The driver's handle on an emulator process (``benchmarks.emulator_proc``) and its counters.

``running_emulator`` starts the emulator in another process (optionally with CI answering slower
than COS) and stops it on exit; ``RunningEmulator.counters`` reads ``GET /_emulator/stats``: the
COS and CI requests, the tag reads and writes among them, and the accepted TCP connections. The
launcher reads them right before and after one handler process, so every count is that process's.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
BUCKET = "bench-1250000000"
TAG_READ = "cos:GET:tagging"  # the emulator's operation names (emulator/http_handler.py)
TAG_WRITE = "cos:PUT:tagging"


@dataclass(frozen=True)
class Counters:
    """Requests (COS, CI, tag reads and writes among the COS ones) and accepted connections."""

    cos: int
    ci: int
    connections: int
    tag_reads: int = 0
    tag_writes: int = 0

    @property
    def requests(self) -> int:
        return self.cos + self.ci

    def minus(self, before: Counters) -> Counters:
        values = {
            item.name: getattr(self, item.name) - getattr(before, item.name)
            for item in fields(self)
        }
        # The stats request that read ``self`` came on a connection of its own: not the handler's.
        values["connections"] -= 1
        return Counters(**values)


@dataclass
class RunningEmulator:
    endpoint_url: str
    process: subprocess.Popen[str]

    def stats(self) -> dict[str, Any]:
        parts = urlsplit(self.endpoint_url)
        connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
        try:
            connection.request("GET", "/_emulator/stats")
            return dict(json.loads(connection.getresponse().read()))
        finally:
            connection.close()

    def counters(self) -> Counters:
        stats = self.stats()
        requests, operations = stats["requests"], stats["operations"]
        return Counters(
            cos=int(requests.get("cos", 0)),
            ci=int(requests.get("ci", 0)),
            connections=int(stats["connections_accepted"]),
            tag_reads=int(operations.get(TAG_READ, 0)),
            tag_writes=int(operations.get(TAG_WRITE, 0)),
        )


@contextlib.contextmanager
def running_emulator(
    latency_ms: int, job_delay_s: float, log_path: Path, *, ci_extra_ms: int = 0
) -> Iterator[RunningEmulator]:
    """The emulator in another process; stopped (stdin closed, then terminated) on exit.

    Every answer waits ``latency_ms``; CI's wait ``ci_extra_ms`` more."""
    command = [sys.executable, "-m", "benchmarks.emulator_proc", "--latency-ms", str(latency_ms)]
    command += ["--bucket", BUCKET, "--job-delay-s", str(job_delay_s)]
    command += ["--ci-extra-ms", str(ci_extra_ms)]
    with log_path.open("a", encoding="utf-8") as log:
        process = subprocess.Popen(
            command, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True
        )
        try:
            assert process.stdout is not None
            line = process.stdout.readline()
            if not line:
                raise RuntimeError(f"the emulator did not start (see {log_path})")
            yield RunningEmulator(json.loads(line)["endpoint_url"], process)
        finally:
            if process.stdin is not None:
                process.stdin.close()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.terminate()
                process.wait(timeout=10)
