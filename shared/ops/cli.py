"""``python -m shared backfill|reconcile|show``: argument parsing, exit codes, progress, summary.

Settings and credentials come from the environment exactly as the functions read them (see
``shared.ops.api``). Decision lines (JSON) go to stdout; progress and the summary go to stderr.
Exit codes: 0 done; 1 configuration, state-file or remote error (the message names the variable or
file); 2 bad command line (argparse); 3 finished, but some objects failed (see the log); 4
(backfill) jobs submitted, but some results never reached their object, or (show) the object has
no result document; 130 interrupted (backfill saved its checkpoint: run the same command to
continue).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import shutil
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TextIO

from shared.decision_log import configure_logging
from shared.errors import ConfigError, MediaTaggerError
from shared.ops.api import run_backfill
from shared.ops.backfill import BackfillResult, BackfillTarget
from shared.ops.batch_cli import batch_backfill_command
from shared.ops.batch_parser import check_backfill
from shared.ops.named_keys import keys_from_lines
from shared.ops.parser import build_parser
from shared.ops.progress import Progress, StatusLineGuard
from shared.ops.show import read_document, summary_lines
from shared.ops.wait import DEFAULT_TIMEOUT_S, wait_summary
from shared.reconcile.runner import run_reconcile
from shared.reconcile.service import ReconcileSummary
from shared.settings.reconcile import load_reconcile_settings
from shared.time_window import parse_instant

EXIT_OK, EXIT_ERROR, EXIT_FAILURES, EXIT_INTERRUPTED = 0, 1, 3, 130
EXIT_RESULTS_MISSING = 4


STATE_DIR_NAME = "cos-media-tagger"


def state_directory(environ: Mapping[str, str]) -> Path:
    """Where backfill keeps its state files by default: the per-user state directory.

    ``$XDG_STATE_HOME/cos-media-tagger``, else ``~/.local/state/cos-media-tagger`` (the XDG base
    directory default): never the working folder, so no untracked file lands in a repository.
    """
    base = environ.get("XDG_STATE_HOME") or ""
    if not Path(base).is_absolute():  # the XDG rule: a relative value is ignored
        home = environ.get("HOME") or str(Path.home())
        base = str(Path(home) / ".local" / "state")
    return Path(base) / STATE_DIR_NAME


def default_state_file(target: BackfillTarget, environ: Mapping[str, str]) -> Path:
    """``backfill-<bucket>-<region>[-<prefix hash>].state.json`` in the state directory."""
    suffix = ""
    if target.prefix:
        suffix = "-" + hashlib.sha256(target.prefix.encode("utf-8")).hexdigest()[:10]
    name = f"backfill-{target.bucket}-{target.region}{suffix}.state.json"
    return state_directory(environ) / name


def backfill_summary(
    result: BackfillResult, state_file: Path | None, *, dry_run: bool = False
) -> list[str]:
    """The human summary printed at the end (stderr)."""
    if result.already_complete:
        return [f"backfill: nothing to do, {state_file} records a complete run"]
    counts = ", ".join(
        f"{name.replace('_', ' ')} {n}" for name, n in result.tally.counts.items() if n
    )
    lines = [f"backfill: {result.tally.handled} objects handled in this run: {counts or '-'}"]
    if dry_run:
        why = "interrupted; " if result.interrupted else ""
        lines.append(
            f"{why}dry run: no job was submitted and no state file was written "
            f"(a real run keeps its checkpoint in {state_file})"
        )
    elif result.interrupted or result.stopped_early:
        why = "interrupted" if result.interrupted else "stopped at --max-objects"
        where = repr(result.state.last_key) if result.state.last_key else "the start"
        lines.append(f"{why}; the same command continues after {where} (state: {state_file})")
    elif result.state.retry_keys:
        lines.append(
            f"{len(result.state.retry_keys)} object(s) failed transiently; run the same command "
            "again to retry them"
        )
    elif result.state.complete:
        lines.append(f"complete (state: {state_file})")
    return lines


def reconcile_summary(summary: ReconcileSummary) -> list[str]:
    outcomes = ", ".join(f"{name} {n}" for name, n in sorted(summary.outcomes.items()))
    line = f"reconcile: {summary.jobs} finished jobs, {summary.objects} objects: {outcomes or '-'}"
    lines = [line]
    if summary.errors:
        lines.append(f"{summary.errors} object(s) failed transiently; run again to retry them")
    return lines


@contextlib.contextmanager
def _guarded_stdout(progress: Progress, stdout_is_tty: bool) -> Iterator[None]:
    """When stdout shares the terminal with the status line, keep them from overlapping."""
    if not stdout_is_tty:
        yield
        return
    saved = sys.stdout
    sys.stdout = StatusLineGuard(saved, progress)
    try:
        yield
    finally:
        sys.stdout = saved


def _backfill(
    args: argparse.Namespace,
    environ: Mapping[str, str],
    stderr: TextIO,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
) -> int:
    keys = _named_keys(args)
    target = BackfillTarget(args.bucket, args.region, (args.prefix or [""])[0], keys)
    state_file = None if keys else args.state_file or default_state_file(target, environ)
    tty = stderr.isatty()
    width = shutil.get_terminal_size((100, 24)).columns
    progress = Progress(stderr, tty=tty, clock=clock, width=width)
    with _guarded_stdout(progress, tty and sys.stdout.isatty()):
        result = run_backfill(
            target,
            environ=environ,
            rate=args.rate,
            dry_run=args.dry_run,
            state_file=state_file,
            max_objects=args.max_objects,
            count_first=not args.no_count,
            progress=progress,
            clock=clock,
            sleep=sleep,
            wait_timeout_s=None if args.no_wait else args.wait_timeout or DEFAULT_TIMEOUT_S,
            concurrency=args.concurrency,
        )
    for line in backfill_summary(result, state_file, dry_run=args.dry_run):
        stderr.write(line + "\n")
    if result.wait is not None:
        stderr.writelines(line + "\n" for line in wait_summary(result.wait))
    if result.interrupted:
        return EXIT_INTERRUPTED
    if result.wait is not None and not result.wait.complete:
        return EXIT_RESULTS_MISSING
    failed = result.tally.counts["failed"] + len(result.state.retry_keys)
    return EXIT_FAILURES if failed else EXIT_OK


def _named_keys(args: argparse.Namespace) -> tuple[str, ...]:
    """--key and --keys-from, in that order, each key once (ConfigError for an unreadable file)."""
    lines: list[str] = list(args.key)
    if args.keys_from == "-":
        lines += list(sys.stdin)
    elif args.keys_from:
        try:
            lines += Path(args.keys_from).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError("--keys-from", f"cannot be read ({exc})") from exc
    return keys_from_lines(lines)


def _reconcile(args: argparse.Namespace, environ: Mapping[str, str], stderr: TextIO) -> int:
    now = time.time()
    since, until = parse_instant(args.since, now), parse_instant(args.until, now)
    if since >= until:
        raise ConfigError("--since/--until", "--since must be earlier than --until")
    summary = run_reconcile(
        args.bucket, args.region, since=since, until=until, environ=environ, dry_run=args.dry_run
    )
    for line in reconcile_summary(summary):
        stderr.write(line + "\n")
    return EXIT_FAILURES if summary.errors else EXIT_OK


def _show(args: argparse.Namespace, environ: Mapping[str, str], stderr: TextIO) -> int:
    address, document = read_document(
        args.key,
        bucket=args.bucket,
        region=args.region,
        location=args.location,
        environ=environ,
    )
    if document is None:
        stderr.write(f"no result document at {address}\n")
        return EXIT_RESULTS_MISSING
    if args.json:
        sys.stdout.write(json.dumps(document, ensure_ascii=False, indent=2) + "\n")
    else:
        sys.stdout.writelines(line + "\n" for line in summary_lines(address, document))
    return EXIT_OK


def _log_level(environ: Mapping[str, str]) -> str:
    try:
        return load_reconcile_settings(environ).log_level
    except ConfigError:
        return "INFO"  # the command itself reports the bad variable


def _command(
    args: argparse.Namespace,
    env: Mapping[str, str],
    err: TextIO,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
) -> int:
    if args.command == "backfill" and args.engine == "ci":
        directory = state_directory(env)
        return batch_backfill_command(args, env, err, directory, clock=clock, sleep=sleep)
    if args.command == "backfill":
        return _backfill(args, env, err, clock, sleep)
    if args.command == "show":
        return _show(args, env, err)
    return _reconcile(args, env, err)


def main(
    argv: Sequence[str] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    stderr: TextIO | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Run one command; returns the exit code (argparse itself exits 2 on a bad command line)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "backfill":
        check_backfill(parser, args)
    env = os.environ if environ is None else environ
    err = sys.stderr if stderr is None else stderr
    configure_logging(_log_level(env))
    try:
        return _command(args, env, err, clock, sleep)
    except KeyboardInterrupt:
        err.write("interrupted\n")
        return EXIT_INTERRUPTED
    except ConfigError as exc:
        err.write(f"error: {exc}\n")
        return EXIT_ERROR
    except MediaTaggerError as exc:
        err.write(f"error: {type(exc).__name__}: {exc}\n")
        return EXIT_ERROR
