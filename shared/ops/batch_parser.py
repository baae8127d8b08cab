"""The ``backfill --engine ci`` options of ``python -m shared`` and the combinations it refuses.

Added to the backfill command by ``shared.ops.parser``; ``check_backfill`` runs after parsing
(``shared.ops.cli``) and makes a bad combination a usage error (exit 2) before anything is read
from the environment or sent anywhere. No I/O beyond argparse's own output.
"""

from __future__ import annotations

import argparse

BATCH_INPUTS = ("listing", "prefix")
MAX_DRAIN_CONCURRENCY = 64


def _concurrency(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= MAX_DRAIN_CONCURRENCY:
        raise argparse.ArgumentTypeError(f"{text!r}: must be 1 to {MAX_DRAIN_CONCURRENCY}")
    return int(text)


def _poll_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value <= 3600:
        raise argparse.ArgumentTypeError(f"{text!r}: must be a number of seconds, 0 to 3600")
    return value


def add_batch_options(parser: argparse.ArgumentParser) -> None:
    batch = parser.add_argument_group("--engine ci")
    batch.add_argument(
        "--batch-input",
        choices=BATCH_INPUTS,
        default="listing",
        help="listing: list the bucket here, filter, and give CI a manifest of what is left "
        "(default); prefix: one batch per --prefix, CI lists and runs every object under it "
        "(non-media too: each is billed, the drain skips it)",
    )
    batch.add_argument(
        "--manifest",
        metavar="URL",
        help="take the objects from this COS inventory (manifest.json: cos://bucket/key, its "
        "https URL, or a key in --bucket), filtered into a manifest of our own",
    )
    batch.add_argument(
        "--manifest-as-is",
        action="store_true",
        help="give CI the --manifest inventory itself (every row is billed; the drain filters)",
    )
    batch.add_argument(
        "--skip-tagged",
        action="store_true",
        help="leave out objects whose tags already hold a result for their ETag (one GET "
        "?tagging each while planning: a hundredth of a MediaInfo job's price)",
    )
    batch.add_argument(
        "--cancel",
        action="store_true",
        help="cancel the batches of the state file's run, then drain what they finished",
    )
    batch.add_argument(
        "--drain-concurrency",
        type=_concurrency,
        default=8,
        help="objects applied at once while draining (default 8)",
    )
    batch.add_argument(
        "--poll",
        type=_poll_seconds,
        default=5.0,
        help="seconds between drain passes while a batch runs (default 5)",
    )


def check_backfill(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Option combinations argparse cannot express; a usage error (exit 2) for each."""
    prefixes = args.prefix or []
    batch_only = {
        "--manifest": args.manifest, "--manifest-as-is": args.manifest_as_is,
        "--skip-tagged": args.skip_tagged, "--cancel": args.cancel,
        "--batch-input prefix": args.batch_input == "prefix",
    }  # fmt: skip
    if args.engine == "local":
        given = [name for name, value in batch_only.items() if value]
        if given:
            parser.error(f"{', '.join(given)} need --engine ci")
        if len(prefixes) > 1:
            parser.error("the local engine takes one --prefix")
        return
    if (
        args.max_objects is not None
        or getattr(args, "key", None)
        or getattr(args, "keys_from", None)
    ):
        parser.error("--max-objects, --key and --keys-from are for the local engine")
    if args.batch_input == "prefix" and (not prefixes or args.manifest):
        parser.error("--batch-input prefix needs --prefix (and no --manifest)")
    if args.manifest_as_is and not args.manifest:
        parser.error("--manifest-as-is needs --manifest")
    if args.skip_tagged and (args.batch_input == "prefix" or args.manifest_as_is):
        parser.error("--skip-tagged needs a manifest of our own (CI runs every object otherwise)")
    if args.manifest and prefixes:
        parser.error("--manifest and --prefix do not combine")
