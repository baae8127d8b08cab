"""Command line of the emulator: ``python -m emulator serve|demo|soak``.

``serve`` runs COS + CI + the upload and callback functions on loopback and prints, first on
stdout, the export lines a shell can eval (emulator.serve); ``put`` uploads a file to it;
``inventory`` has it write a COS inventory of a bucket (emulator.inventory_command);
``demo`` uploads one file and prints its tags (emulator.demo);
``soak`` runs many parallel uploads with and without faults and checks every object
(emulator.soak.run). Bad options exit with status 2 and argparse's message; runtime failures exit 1
with a one-line reason. This module parses arguments and prints; the work is elsewhere.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from emulator.serve_options import add_fidelity_options

DEFAULT_DATA_DIR = ".emulator-data"
DEMO_BUCKET = "demo-1250000000"
BUCKET_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?-[0-9]+$")


def port_number(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port must be 0..65535 (0 = any free port), not {port}")
    return port


def non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, not {value}")
    return value


def positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, not {text}")
    return value


def bucket_name(text: str) -> str:
    if not BUCKET_NAME.match(text):
        raise argparse.ArgumentTypeError(
            f"not a COS bucket name (<name>-<appid>, lower case): {text!r}"
        )
    return text


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m emulator",
        description="Local COS + Cloud Infinite + SCF emulator for cos-media-tagger.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = commands.add_parser("serve", help="run the emulator in the foreground")
    serve.add_argument("--host", default="127.0.0.1", help="listen address (default 127.0.0.1)")
    serve.add_argument("--cos-port", type=port_number, default=9000, help="COS/CI port (9000)")
    serve.add_argument(
        "--function-url-port", type=port_number, default=9001, help="callback URL port (9001)"
    )
    serve.add_argument("--data-dir", type=Path, default=Path(DEFAULT_DATA_DIR), help="storage")
    serve.add_argument(
        "--latency-ms", type=non_negative_int, default=0, help="delay every COS/CI answer"
    )
    serve.add_argument("--callback-format", choices=("JSON", "XML"), default="JSON")
    serve.add_argument(
        "--retries", type=non_negative_int, default=2, help="SCF async retries (default 2)"
    )
    add_fidelity_options(serve)
    serve.add_argument(
        "--bucket",
        dest="buckets",
        action="append",
        type=bucket_name,
        metavar="NAME-APPID",
        help=f"a bucket that exists from the start; repeatable (default {DEMO_BUCKET}); "
        "others are created with PUT Bucket",
    )
    serve.add_argument(
        "--free-ports", action="store_true", help="listen on any free ports (the exports say which)"
    )
    serve.add_argument(
        "--no-upload-trigger",
        action="store_true",
        help="uploads fire no upload function: objects as if put before deployment (backfill)",
    )
    serve.add_argument(
        "--detach",
        action="store_true",
        help="run in the background: print the export lines once it listens, then return "
        "(logs: <data-dir>/emulator.log; stop: kill $MEDIA_TAGGER_EMULATOR_PID)",
    )
    put = commands.add_parser("put", help="upload a local file to the running emulator")
    put.add_argument("file", type=Path, metavar="FILE", help="local file")
    put.add_argument("key", metavar="KEY", help="object key, e.g. 'videos/my clip.mp4'")
    inventory = commands.add_parser(
        "inventory", help="have the running emulator write a COS inventory of a bucket"
    )
    inventory.add_argument("--bucket", type=bucket_name, help="default: the exported bucket")
    inventory.add_argument("--destination", type=bucket_name, help="default: the bucket itself")
    inventory.add_argument("--prefix", default="", help="only objects under it")
    inventory.add_argument("--id", dest="inventory_id", default="inventory01", help="config id")
    demo = commands.add_parser("demo", help="upload a media file and print the tags it gets")
    demo.add_argument(
        "file", nargs="?", type=Path, metavar="FILE", help="media file (default: ffmpeg sample)"
    )
    demo.add_argument("--format", choices=("JSON", "XML"), default="JSON", help="callback format")
    demo.add_argument("--timeout", type=positive_seconds, default=60.0, help="seconds (60)")
    from emulator.soak.cli import add_soak_parser  # noqa: PLC0415 -- it imports this module

    add_soak_parser(commands)
    return parser


def run_demo_command(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from emulator.demo import run_demo  # noqa: PLC0415 -- keeps --help free of server imports

    logging.basicConfig(level=logging.WARNING, format="%(name)s %(message)s")
    return run_demo(
        args.file, callback_format=args.format, timeout_s=args.timeout, out=out, err=err
    )


def main(
    argv: Sequence[str] | None = None, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    raw = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(raw)
    out = out or sys.stdout
    err = err or sys.stderr
    if args.command == "serve":
        from emulator.serve import run_serve  # noqa: PLC0415 -- keeps --help free of the server

        return run_serve(args, raw, out, err)
    if args.command == "put":
        from emulator.serve import run_put  # noqa: PLC0415

        return run_put(args.file, args.key, os.environ, out, err)
    if args.command == "inventory":
        from emulator.inventory_command import run_inventory  # noqa: PLC0415

        names = ("bucket", "destination", "prefix", "inventory_id")
        return run_inventory({name: getattr(args, name) for name in names}, os.environ, out, err)
    if args.command == "soak":
        from emulator.soak.cli import run_soak_command  # noqa: PLC0415

        return run_soak_command(args, out, err)
    return run_demo_command(args, out, err)
