"""The emulator's COS + CI server in a process of its own: ``python -m benchmarks.emulator_proc``.

The same ``EmulatorServer`` that ``python -m emulator serve`` runs (``--latency-ms`` becomes its
``latency_s``: every COS/CI answer waits that long), without the SCF side, so that the handler
process under test is the only client and the emulator's CPU is never counted in it.
``--job-delay-s`` is the CI job runner's step delay: a large value keeps submitted jobs queued
(no ffprobe runs while the upload handlers are measured). ``--ci-extra-ms`` makes every CI
answer wait that much longer than COS's (the "CI 10x slower than COS" phases). Prints one JSON
line with the endpoint once listening, then serves until its standard input closes or SIGTERM.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from emulator import EmulatorCredentials, EmulatorServer, Faults


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.emulator_proc")
    parser.add_argument("--latency-ms", type=int, default=0, help="delay every COS/CI answer")
    parser.add_argument("--job-delay-s", type=float, default=0.0, help="CI job step delay")
    parser.add_argument("--ci-extra-ms", type=int, default=0, help="CI answers wait this more")
    parser.add_argument(
        "--bucket", action="append", default=[], help="a bucket that exists (repeatable)"
    )
    return parser.parse_args(argv)


def wait_for_eof(stop: threading.Event) -> None:
    """The driver closes our standard input to stop us (also when it dies)."""
    sys.stdin.read()
    stop.set()


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    faults = Faults()
    faults.delay("ci", args.ci_extra_ms / 1000)
    with tempfile.TemporaryDirectory(prefix="bench-emu-") as data_dir:
        server = EmulatorServer(
            data_dir=Path(data_dir),
            credentials=EmulatorCredentials.default(),
            latency_s=args.latency_ms / 1000,
            job_runner_delay_s=args.job_delay_s,
            buckets=args.bucket,
            faults=faults,
        ).start()
        try:
            sys.stdout.write(json.dumps({"endpoint_url": server.endpoint_url}) + "\n")
            sys.stdout.flush()
            threading.Thread(target=wait_for_eof, args=(stop,), daemon=True).start()
            stop.wait()
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
