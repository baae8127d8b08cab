"""Command line of the emulator: ``python -m emulator serve|demo|soak``.

``serve`` runs COS + CI + both functions in the foreground on loopback and prints how to point
cos-python-sdk-v5 and coscli at it; ``demo`` uploads one file and prints its tags (emulator.demo);
``soak`` runs many parallel uploads with and without faults and checks every object
(emulator.soak.run). Bad options exit with status 2 and argparse's message; runtime failures exit 1
with a one-line reason. This module parses arguments and prints; the work is elsewhere.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import re
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, TextIO

from emulator.serve_options import add_fidelity_options, emulator_options

if TYPE_CHECKING:
    from emulator.auth import EmulatorCredentials

DEFAULT_DATA_DIR = ".emulator-data"
DEMO_REGION = "ap-guangzhou"
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
    demo = commands.add_parser("demo", help="upload a media file and print the tags it gets")
    demo.add_argument(
        "file", nargs="?", type=Path, metavar="FILE", help="media file (default: ffmpeg sample)"
    )
    demo.add_argument("--format", choices=("JSON", "XML"), default="JSON", help="callback format")
    demo.add_argument("--timeout", type=positive_seconds, default=60.0, help="seconds (60)")
    from emulator.soak.cli import add_soak_parser  # noqa: PLC0415 -- it imports this module

    add_soak_parser(commands)
    return parser


def serve_banner(
    endpoint_url: str,
    callback_url: str,
    credentials: EmulatorCredentials,
    bucket: str,
    region: str,
    *,
    buckets: Sequence[str] = (),
) -> str:
    """How to use the running emulator: endpoints, credentials, SDK and coscli settings."""
    host, _, port = endpoint_url.split("//", 1)[1].rstrip("/").rpartition(":")
    secret_id, secret_key, token = (
        credentials.secret_id,
        credentials.secret_key,
        credentials.token,
    )
    sdk_token = [f"        Token={token!r},"] if token else []
    yaml_token = [f"        sessiontoken: {token}"] if token else []
    lines = [
        f"COS + CI endpoint:  {endpoint_url}  (Host: <bucket>.cos|ci.<region>.myqcloud.com)",
        f"Callback (fn URL):  {callback_url}",
        f"SecretId:           {secret_id}",
        f"SecretKey:          {secret_key}",
        f"SessionToken:       {token or '(none: permanent keys)'}",
        f"Buckets:            {', '.join(buckets or [bucket])}  (PUT Bucket creates others)",
        "",
        "cos-python-sdk-v5 (IP/Port connect here and keep the real host name in Host):",
        "    from qcloud_cos import CosConfig, CosS3Client",
        "    config = CosConfig(",
        f"        Region={region!r}, Scheme='http', IP={host!r}, Port={port},",
        f"        SecretId={secret_id!r}, SecretKey={secret_key!r},",
        *sdk_token,
        "    )",
        "    client = CosS3Client(config)",
        f"    client.put_object(Bucket={bucket!r}, Key='demo/clip.mp4', Body=b'...')",
        "",
        "coscli (it has no IP option: use the emulator as its HTTP proxy):",
        "    cat > emulator.cos.yaml <<'EOF'",
        "    cos:",
        "      base:",
        f"        secretid: {secret_id}",
        f"        secretkey: {secret_key}",
        *yaml_token,
        "        protocol: http",
        "      buckets:",
        f"      - name: {bucket}",
        "        alias: demo",
        f"        region: {region}",
        f"        endpoint: cos.{region}.myqcloud.com",
        "    EOF",
        f"    HTTP_PROXY={endpoint_url} coscli -c emulator.cos.yaml cp clip.mp4 cos://demo/demo/",
        "",
        "Presigned URLs (get_presigned_url of an SDK without IP/Port) name the real host:",
        f"    requests.put(url, data=..., proxies={{'http': '{endpoint_url}'}})",
        "",
        "Press Ctrl-C to stop.",
    ]
    return "\n".join(lines) + "\n"


def run_serve(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from emulator.app import Emulator  # noqa: PLC0415 -- keeps --help free of server imports

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    buckets = args.buckets or [DEMO_BUCKET]
    try:
        emulator = Emulator(
            args.data_dir,
            buckets=buckets,
            host=args.host,
            cos_ci_port=args.cos_port,
            function_url_port=args.function_url_port,
            latency_s=args.latency_ms / 1000,
            callback_format=args.callback_format,
            retries=args.retries,
            **emulator_options(args),
        ).start()
    except OSError as exc:
        err.write(f"cannot listen on {args.host}: {exc.strerror or exc}\n")
        return 1
    except (RuntimeError, ValueError) as exc:  # e.g. ffprobe missing, non-loopback host
        err.write(f"cannot start the emulator: {exc}\n")
        return 1
    try:
        with stop_signals() as stop:  # installed before the banner: a quick Ctrl-C is caught
            out.write(
                serve_banner(
                    emulator.endpoint_url,
                    emulator.callback_url,
                    emulator.credentials,
                    buckets[0],
                    DEMO_REGION,
                    buckets=buckets,
                )
            )
            out.flush()
            while not stop.wait(0.5):
                pass
    finally:
        emulator.stop()
    out.write("stopped\n")
    return 0


@contextlib.contextmanager
def stop_signals() -> Iterator[threading.Event]:
    """An Event set by SIGINT or SIGTERM; the previous handlers come back on exit."""
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def run_demo_command(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from emulator.demo import run_demo  # noqa: PLC0415 -- keeps --help free of server imports

    logging.basicConfig(level=logging.WARNING, format="%(name)s %(message)s")
    return run_demo(
        args.file, callback_format=args.format, timeout_s=args.timeout, out=out, err=err
    )


def main(
    argv: Sequence[str] | None = None, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    args = build_parser().parse_args(argv)
    out = out or sys.stdout
    err = err or sys.stderr
    if args.command == "serve":
        return run_serve(args, out, err)
    if args.command == "soak":
        from emulator.soak.cli import run_soak_command  # noqa: PLC0415

        return run_soak_command(args, out, err)
    return run_demo_command(args, out, err)
