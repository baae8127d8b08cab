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


PHASE_CHOICES = {"clean": ("clean",), "faults": ("faults",), "burst": ("burst",),
                 "both": ("clean", "faults"), "all": ("clean", "faults", "burst")}  # fmt: skip


def add_soak_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    soak = commands.add_parser(
        "soak", help="many parallel uploads, with and without faults; check every object"
    )
    soak.add_argument("--uploads", type=non_negative_int, default=500, help="per phase (500)")
    soak.add_argument(
        "--phase", choices=tuple(PHASE_CHOICES), default="all",
        help="all = clean, faults, burst; both = clean, faults (all)",
    )  # fmt: skip
    soak.add_argument(
        "--failure-rate", type=probability, default=0.30, help="COS/CI 503|429 (0.30)"
    )
    soak.add_argument("--drop-rate", type=probability, default=0.20, help="callbacks lost (0.20)")
    soak.add_argument(
        "--duplicate-rate", type=probability, default=0.05, help="callbacks sent twice (0.05)"
    )
    soak.add_argument(
        "--reorder-window", type=non_negative_int, default=5,
        help="faults: callbacks held, then sent newest first, every 20 uploads (5; 0: off)",
    )  # fmt: skip
    soak.add_argument(
        "--no-rewrites", action="store_true",
        help="no delete/re-create or A->B->A overwrites in the clean and faults phases",
    )  # fmt: skip
    soak.add_argument("--workers", type=non_negative_int, default=16, help="parallel uploads (16)")
    soak.add_argument("--seed", type=int, default=6, help="fault injection seed (6)")
    soak.add_argument("--timeout", type=positive_seconds, default=300.0, help="per phase (300)")
    soak.add_argument(
        "--no-reconcile", action="store_true", help="skip reconcile (shows what faults leave)"
    )
    burst = soak.add_argument_group("burst phase")
    burst.add_argument("--burst-uploads", type=non_negative_int, default=1000, help="(1000)")
    burst.add_argument(
        "--burst-capacity", type=non_negative_int, help="queue MaxSize (burst uploads / 10)"
    )
    burst.add_argument(
        "--burst-concurrency", type=non_negative_int, default=10, help="queue MaxConcurrent (10)"
    )
    burst.add_argument(
        "--burst-pause", type=float, default=3.0,
        help="seconds the queue is paused once half the uploads are stored (3; 0: no pause)",
    )  # fmt: skip


def run_soak_command(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from emulator.soak.report import SoakOptions  # noqa: PLC0415
    from emulator.soak.run import run_soak  # noqa: PLC0415 -- keeps --help light

    options = SoakOptions(
        uploads=args.uploads,
        phases=PHASE_CHOICES[args.phase],
        failure_rate=args.failure_rate,
        drop_rate=args.drop_rate,
        duplicate_rate=args.duplicate_rate,
        workers=max(1, args.workers),
        seed=args.seed,
        timeout_s=args.timeout,
        reconcile=not args.no_reconcile,
        rewrites=not args.no_rewrites,
        reorder_window=args.reorder_window,
        burst_uploads=args.burst_uploads,
        burst_capacity=args.burst_capacity or None,
        burst_concurrency=max(1, args.burst_concurrency),
        burst_pause_s=max(0.0, args.burst_pause),
    )
    try:
        status, _ = run_soak(options, out)
    except (RuntimeError, ValueError, OSError) as exc:  # ffmpeg missing, bad rate, no socket
        err.write(f"soak failed: {exc}\n")
        return 1
    return status
