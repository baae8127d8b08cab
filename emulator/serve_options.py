"""``serve`` options for the readings of the docs (``emulator.fidelity``) and the CI media queue.

Kept apart from ``emulator.cli`` so the command line stays small; this module only declares
arguments and turns them into ``Emulator`` keyword arguments. docs/emulator.md explains each.
"""

from __future__ import annotations

import argparse
from typing import Any

from emulator.ci.callback_shapes import CALLBACK_SHAPES, STANDARD
from emulator.ci.queue import DEFAULT_MAX_CONCURRENT, DEFAULT_MAX_SIZE, MAX_CONCURRENT_LIMIT
from emulator.ci.submit_rules import MISSING_OBJECT_MODES, REFUSE_MISSING
from emulator.cos.tagging import TAG_CHARSET_API, TAG_CHARSETS
from emulator.fidelity import Fidelity


def _whole_number(low: int, high: int) -> Any:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be {low}..{high}, not {value}")
        return value

    return parse


def add_fidelity_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("readings of the COS/CI docs and the CI media queue")
    group.add_argument("--callback-shape", choices=tuple(CALLBACK_SHAPES), default=STANDARD)
    group.add_argument("--tag-charset", choices=TAG_CHARSETS, default=TAG_CHARSET_API)
    group.add_argument("--missing-object", choices=MISSING_OBJECT_MODES, default=REFUSE_MISSING)
    group.add_argument(
        "--allow-leading-slash-keys", action="store_true", help="accept keys starting with '/'"
    )
    group.add_argument(
        "--queue-capacity",
        type=_whole_number(1, 10**9),
        default=DEFAULT_MAX_SIZE,
        help=f"waiting jobs before 403 QueueSaturated (default {DEFAULT_MAX_SIZE})",
    )
    group.add_argument(
        "--queue-concurrency",
        type=_whole_number(1, MAX_CONCURRENT_LIMIT),
        default=DEFAULT_MAX_CONCURRENT,
        help=f"jobs running at once (default {DEFAULT_MAX_CONCURRENT})",
    )


def emulator_options(args: argparse.Namespace) -> dict[str, Any]:
    """The ``Emulator`` keyword arguments the options above stand for."""
    return {
        "fidelity": Fidelity(
            tag_charset=args.tag_charset,
            leading_slash_keys=args.allow_leading_slash_keys,
            missing_object=args.missing_object,
            callback_shape=args.callback_shape,
        ),
        "queue_max_size": args.queue_capacity,
        "queue_max_concurrent": args.queue_concurrency,
    }
