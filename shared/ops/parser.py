"""The command line of ``python -m shared`` (backfill, reconcile, show): options, checks, help.

Values are checked here so a bad option is a usage error (argparse: message + exit 2) before
anything is read from the environment or sent anywhere. No I/O beyond argparse's own output.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from shared.errors import ConfigError
from shared.ops.adaptive_rate import MAX_RATE
from shared.ops.api import DEFAULT_RATE
from shared.ops.backfill import DEFAULT_CONCURRENCY, MAX_CONCURRENCY
from shared.ops.batch_parser import add_batch_options
from shared.ops.wait import DEFAULT_TIMEOUT_S
from shared.settings.functions import check_bucket_name, check_region
from shared.time_window import parse_instant

ENGINES = ("local", "ci")

SETTINGS_NOTE = (
    "Settings and credentials come from the environment, exactly as the SCF functions read "
    "them (TENCENTCLOUD_SECRETID/_SECRETKEY/_SESSIONTOKEN, MEDIA_TAGGER_*; "
    "MEDIA_TAGGER_ENDPOINT_URL points at the local emulator). One JSON line per decision goes "
    "to stdout; progress and the summary go to stderr. Exit codes: 0 done, 1 configuration or "
    "remote error, 2 bad command line, 3 some objects failed, 4 (backfill) some results never "
    "reached their object (show: no result document), 130 interrupted."
)


def _bucket(text: str) -> str:
    try:
        return check_bucket_name(text, "--bucket")
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(f"{text!r}: {exc.problem}") from exc


def _region(text: str) -> str:
    try:
        return check_region(text, "--region")
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(f"{text!r}: {exc.problem}") from exc


def _rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value <= MAX_RATE:
        raise argparse.ArgumentTypeError(
            f"{text!r}: must be a number above 0 and at most {MAX_RATE:g}"
        )
    return value


def _concurrency(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= MAX_CONCURRENCY:
        raise argparse.ArgumentTypeError(
            f"{text!r}: must be a whole number, 1 to {MAX_CONCURRENCY}"
        )
    return int(text)


def _positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: must be a whole number of at least 1")
    return int(text)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value <= 86_400:
        raise argparse.ArgumentTypeError(f"{text!r}: must be a number of seconds, 0 to 86400")
    return value


def _instant(text: str) -> str:
    try:
        parse_instant(text, 0.0)  # checked now, resolved against the clock when the run starts
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc
    return text


def _common(parser: argparse.ArgumentParser, dry_run_help: str) -> None:
    parser.add_argument(
        "--bucket", required=True, type=_bucket, help="full bucket name <name>-<appid>"
    )
    parser.add_argument(
        "--region", required=True, type=_region, help="the bucket's region, e.g. ap-guangzhou"
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help=dry_run_help,
    )


def _backfill_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "backfill",
        help="submit MediaInfo jobs for objects already in the bucket",
        description=(
            "List the bucket and submit a MediaInfo job for every object the upload function "
            "would accept (MEDIA_TAGGER_EXTENSIONS, _INCLUDE_PREFIXES, _EXCLUDE_PREFIXES; no "
            "folder markers or empty objects), skipping objects whose tags already record a "
            "result for their current ETag. Ctrl-C saves a checkpoint; the same command then "
            "continues after the last fully handled object. " + SETTINGS_NOTE
        ),
    )
    _common(parser, "decide and log every object, but submit no job and write no state file")
    parser.add_argument(
        "--engine",
        choices=ENGINES,
        default="local",
        help="local: list and submit one job per object from here (default); ci: Cloud "
        "Infinite's batch engine runs the jobs, this command (or the reconcile timer) drains "
        "the results (docs/operations.md)",
    )
    parser.add_argument(
        "--prefix",
        action="append",
        help="only keys starting with this (--engine ci: repeatable)",
    )
    parser.add_argument(
        "--key",
        action="append",
        default=[],
        metavar="KEY",
        help="handle this object by name instead of listing the bucket (repeatable; what the "
        "upload function's 'unsubmitted' ERROR lines name); no state file is kept",
    )
    parser.add_argument(
        "--keys-from",
        metavar="FILE",
        help="like --key for every key in FILE ('-': stdin): one key per line, or the JSON "
        "decision lines of a log, from which the 'unsubmitted' ones are taken",
    )
    parser.add_argument(
        "--rate",
        type=_rate,
        default=DEFAULT_RATE,
        help=f"most MediaInfo jobs submitted per second (default {DEFAULT_RATE:g})",
    )
    parser.add_argument(
        "--concurrency",
        type=_concurrency,
        default=DEFAULT_CONCURRENCY,
        help="objects handled at once, so --rate is reached although each one waits for its "
        f"round trips (default {DEFAULT_CONCURRENCY})",
    )
    parser.add_argument(
        "--state-file",
        type=Path,
        help="checkpoint file (default: backfill-<bucket>-<region>[-<prefix hash>].state.json "
        "in $XDG_STATE_HOME/cos-media-tagger, else ~/.local/state/cos-media-tagger); delete it "
        "to start over",
    )
    parser.add_argument(
        "--max-objects",
        type=_positive_int,
        help="stop (resumably) after handling this many objects in this run",
    )
    parser.add_argument(
        "--no-wait",
        action="store_true",
        help="do not wait for the submitted jobs' results to reach their objects (by default "
        "backfill polls them and exits 4 when a finished job's result is missing, e.g. a "
        "refused callback)",
    )
    parser.add_argument(
        "--wait-timeout",
        type=_seconds,
        help=f"longest wait for the results, in seconds (default {DEFAULT_TIMEOUT_S:g}; "
        "--engine ci: until every batch is drained)",
    )
    parser.add_argument(
        "--no-count",
        action="store_true",
        help="skip the first listing pass that counts objects for the ETA",
    )
    add_batch_options(parser)


def _reconcile_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "reconcile",
        help="apply finished job results whose callback never arrived",
        description=(
            "List the Success/Failed MediaInfo jobs created in a time window (GET /jobs) and, "
            "for every object that does not carry its result yet, apply the newest job whose "
            "UserData ETag matches the object's current ETag, through the callback's own "
            "checks (GET /jobs/<id>, stale guard, tag merge). " + SETTINGS_NOTE
        ),
    )
    _common(parser, "decide and log every object, but write no tags")
    parser.add_argument(
        "--since",
        type=_instant,
        default="24h",
        help="window start: a duration ago (30m, 24h, 7d, 1h30m) or a time with an offset "
        "(2024-11-25T10:00:00+08:00); default 24h",
    )
    parser.add_argument(
        "--until",
        type=_instant,
        default="now",
        help="window end, same forms as --since (default now)",
    )


def _show_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "show",
        help="print an object's result document (MEDIA_TAGGER_RESULT_DOCUMENT)",
        description=(
            "Read the result document of one object back from MEDIA_TAGGER_RESULT_DOCUMENT "
            "(or --location) with your own credentials and print a summary with the streams as "
            "a table, or the document itself (--json). --bucket defaults to the one bucket of "
            "MEDIA_TAGGER_RECONCILE_BUCKETS, --region to MEDIA_TAGGER_RECONCILE_REGION (else "
            "TENCENTCLOUD_REGION). Exit 4 when the object has no document. " + SETTINGS_NOTE
        ),
    )
    parser.add_argument("key", help="the object key, exactly as stored (quote it)")
    parser.add_argument("--bucket", type=_bucket, help="the object's bucket <name>-<appid>")
    parser.add_argument("--region", type=_region, help="the object's region, e.g. ap-guangzhou")
    parser.add_argument(
        "--location", help="cos://<bucket>/<prefix>/ instead of MEDIA_TAGGER_RESULT_DOCUMENT"
    )
    parser.add_argument("--json", action="store_true", help="print the document as stored")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m shared",
        description="Operator tools of cos-media-tagger. " + SETTINGS_NOTE,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _backfill_parser(commands)
    _reconcile_parser(commands)
    _show_parser(commands)
    return parser
