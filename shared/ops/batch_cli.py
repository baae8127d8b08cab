"""``python -m shared backfill --engine ci``: the plan from the options, the summary, exit codes.

Exit codes as for the local engine: 0 done (every batch drained, or submitted with --no-wait, or
cancelled), 3 some objects could not be applied (transient errors: the next pass retries them),
4 the batches were not drained within --wait-timeout (the reconcile timer goes on), 130
interrupted (the same command continues). The dry run prints the plan's counts and the estimated
cost (``shared.ops.batch_cost``). Progress and the summary go to stderr.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TextIO

from shared.ops.batch_api import PLAN_NAMES, dry_run_counts, run_batch_backfill
from shared.ops.batch_backfill import BatchBackfillResult, BatchOptions
from shared.ops.batch_cost import cost_lines
from shared.ops.batch_plan import DEFAULT_PART_ROWS
from shared.ops.batch_state import LISTING, MANIFEST, PREFIX, BatchPlan
from shared.ops.progress import Progress
from shared.settings.reconcile import load_reconcile_settings

EXIT_OK, EXIT_FAILURES, EXIT_NOT_DRAINED, EXIT_INTERRUPTED = 0, 3, 4, 130
STATE_DIR_NAME = "cos-media-tagger"


def plan_of(args: argparse.Namespace) -> BatchPlan:
    source = MANIFEST if args.manifest else PREFIX if args.batch_input == "prefix" else LISTING
    return BatchPlan(
        bucket=args.bucket,
        region=args.region,
        source=source,
        prefixes=tuple(args.prefix or ()),
        manifest=args.manifest,
        as_is=args.manifest_as_is,
        skip_tagged=args.skip_tagged,
    )


def default_batch_state_file(plan: BatchPlan, state_directory: Path) -> Path:
    """``batch-backfill-<bucket>-<region>-<plan hash>.state.json`` in the state directory."""
    digest = hashlib.sha256(json.dumps(plan.to_json(), sort_keys=True).encode()).hexdigest()
    return state_directory / f"batch-backfill-{plan.bucket}-{plan.region}-{digest[:10]}.state.json"


def _plan_line(counts: Mapping[str, int]) -> str:
    listed = sum(counts.values())
    shown = [f"{PLAN_NAMES.get(name, name)} {n:,}" for name, n in sorted(counts.items()) if n]
    return f"plan: {listed:,} objects looked at" + (": " + ", ".join(shown) if shown else "")


def _dry_run_lines(plan: BatchPlan, counts: Mapping[str, int], tags_per_object: int) -> list[str]:
    found = dry_run_counts(
        plan, counts, part_rows=DEFAULT_PART_ROWS, tags_per_object=tags_per_object
    )
    return [
        f"CI would run {found.jobs:,} MediaInfo jobs",
        *cost_lines(found),
    ]


def _drain_lines(result: BatchBackfillResult, state_file: Path) -> list[str]:
    watch = result.watch
    if watch is None:
        return ["submitted; the reconcile timer drains the results (or run the same command "
                "again to follow them here)"]  # fmt: skip
    outcomes = ", ".join(f"{name} {n:,}" for name, n in sorted(watch.outcomes.items()))
    states = ", ".join(f"{batch_id} {state}" for batch_id, state in watch.states)
    end = (
        f"complete (state: {state_file})"
        if watch.drained
        else "not drained within --wait-timeout: the reconcile timer goes on, or run the same "
        "command again"
    )
    return [f"drained: {outcomes or '-'}", f"batches: {states}", end]


def batch_summary(
    result: BatchBackfillResult,
    plan: BatchPlan,
    state_file: Path,
    *,
    dry_run: bool,
    tags_per_object: int,
) -> list[str]:
    """The human summary printed at the end (stderr)."""
    state = result.state
    if result.already_complete:
        return [f"backfill --engine ci: nothing to do, {state_file} records a complete run"]
    lines = [_plan_line(state.counts)]
    if dry_run:
        lines += _dry_run_lines(plan, state.counts, tags_per_object)
        return [*lines, f"dry run: nothing was written, submitted or saved (state: {state_file})"]
    lines += [f"batch {batch_id}: {given.kind} {given.value}" for batch_id, given in state.batches]
    if result.interrupted:
        return [*lines, f"interrupted; the same command continues (state: {state_file})"]
    if not state.batches:
        return [*lines, "nothing to submit"]
    return lines + _drain_lines(result, state_file)


def exit_code(result: BatchBackfillResult) -> int:
    if result.interrupted:
        return EXIT_INTERRUPTED
    if result.watch is None:
        return EXIT_OK
    if result.watch.outcomes.get("error"):
        return EXIT_FAILURES
    return EXIT_OK if result.watch.drained else EXIT_NOT_DRAINED


def batch_backfill_command(
    args: argparse.Namespace,
    environ: Mapping[str, str],
    stderr: TextIO,
    state_directory: Path,
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    plan = plan_of(args)
    state_file = args.state_file or default_batch_state_file(plan, state_directory)
    options = BatchOptions(
        dry_run=args.dry_run,
        wait=not args.no_wait,
        cancel=args.cancel,
        timeout_s=args.wait_timeout,
        poll_s=args.poll,
        concurrency=args.drain_concurrency,
    )
    width = shutil.get_terminal_size((100, 24)).columns
    progress = Progress(stderr, tty=stderr.isatty(), clock=clock, width=width)
    result = run_batch_backfill(
        plan,
        state_file=state_file,
        options=options,
        environ=environ,
        progress=progress,
        clock=clock,
        sleep=sleep,
    )
    tags_per_object = len(load_reconcile_settings(environ).tag_fields)
    summary = batch_summary(
        result, plan, state_file, dry_run=args.dry_run, tags_per_object=tags_per_object
    )
    stderr.writelines(line + "\n" for line in summary)
    return exit_code(result)
