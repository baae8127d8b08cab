"""The ``soak`` subcommand of ``python -m emulator``: its options and how they become a run.

Only argument handling lives here (emulator.cli stays small); the run is ``emulator.soak.run``.
Bad options exit 2 through argparse; a soak that cannot start (ffmpeg missing, no socket) exits 1
with a one-line reason; otherwise the exit status is the soak's verdict.
"""

from __future__ import annotations

import argparse
from typing import TextIO

from emulator.cli import non_negative_int, positive_seconds


def probability(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be within 0..1, not {text}")
    return value


def add_soak_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    soak = commands.add_parser(
        "soak", help="many parallel uploads, with and without faults; check every object"
    )
    soak.add_argument("--uploads", type=non_negative_int, default=500, help="per phase (500)")
    soak.add_argument("--phase", choices=("clean", "faults", "both"), default="both", help="(both)")
    soak.add_argument(
        "--failure-rate", type=probability, default=0.10, help="COS/CI 503|429 (0.10)"
    )
    soak.add_argument("--drop-rate", type=probability, default=0.025, help="callbacks lost (0.025)")
    soak.add_argument(
        "--duplicate-rate", type=probability, default=0.025, help="callbacks sent twice (0.025)"
    )
    soak.add_argument("--workers", type=non_negative_int, default=16, help="parallel uploads (16)")
    soak.add_argument("--seed", type=int, default=6, help="fault injection seed (6)")
    soak.add_argument("--timeout", type=positive_seconds, default=300.0, help="per phase (300)")
    soak.add_argument(
        "--no-reconcile", action="store_true", help="skip reconcile (shows what faults leave)"
    )


def run_soak_command(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from emulator.soak.report import SoakOptions  # noqa: PLC0415
    from emulator.soak.run import run_soak  # noqa: PLC0415 -- keeps --help light

    phases = ("clean", "faults") if args.phase == "both" else (args.phase,)
    options = SoakOptions(
        uploads=args.uploads,
        phases=phases,
        failure_rate=args.failure_rate,
        drop_rate=args.drop_rate,
        duplicate_rate=args.duplicate_rate,
        workers=max(1, args.workers),
        seed=args.seed,
        timeout_s=args.timeout,
        reconcile=not args.no_reconcile,
    )
    try:
        status, _ = run_soak(options, out)
    except (RuntimeError, ValueError, OSError) as exc:  # ffmpeg missing, bad rate, no socket
        err.write(f"soak failed: {exc}\n")
        return 1
    return status
