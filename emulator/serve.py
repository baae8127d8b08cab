"""``python -m emulator serve``: the emulator in the foreground, or detached, for shell use.

stdout carries only what a shell can ``eval``: one ``export NAME=value`` line per setting a
client needs (credentials, endpoint, callback URL and secret, bucket, region, the server's pid),
then ``# ready``; logs and the human banner (SDK and coscli settings) go to stderr. So
``eval "$(python -m emulator serve --detach ...)"`` starts it in the background and sets this
shell up for ``python -m shared backfill|reconcile`` and ``python -m emulator put``. The callback
secret is MEDIA_TAGGER_CALLBACK_SECRET when the environment has one, else made up and exported.
``put`` uploads a file with a signed PUT from those exported settings. Loopback only.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import shlex
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

from emulator.app import Emulator
from emulator.auth import EmulatorCredentials
from emulator.cli import DEMO_BUCKET
from emulator.serve_options import emulator_options

DEMO_REGION = "ap-guangzhou"
BUCKET_VARIABLE = "MEDIA_TAGGER_EMULATOR_BUCKET"
REGION_VARIABLE = "MEDIA_TAGGER_EMULATOR_REGION"
PID_VARIABLE = "MEDIA_TAGGER_EMULATOR_PID"
READY_LINE = "# ready"
LOG_FILE = "emulator.log"


def export_lines(environ: Mapping[str, str], pid: int, bucket: str = DEMO_BUCKET) -> list[str]:
    """``export NAME=value`` (shell-quoted) for every setting a client of the emulator needs."""
    settings = {
        **environ,
        BUCKET_VARIABLE: bucket,
        REGION_VARIABLE: DEMO_REGION,
        PID_VARIABLE: str(pid),
    }
    return [f"export {name}={shlex.quote(value)}" for name, value in settings.items()]


def upload_function_not_deployed(event: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
    """--no-upload-trigger: COS events reach no function, as before deployment."""
    return {"submitted": [], "skipped": [], "failed": [], "note": "upload function not deployed"}


def _emulator(args: argparse.Namespace, environ: Mapping[str, str]) -> Emulator:
    free = bool(args.free_ports)
    options: dict[str, Any] = {}
    if args.no_upload_trigger:
        options["upload_handler"] = upload_function_not_deployed
    return Emulator(
        args.data_dir,
        buckets=args.buckets or [DEMO_BUCKET],
        host=args.host,
        cos_ci_port=0 if free else args.cos_port,
        function_url_port=0 if free else args.function_url_port,
        latency_s=args.latency_ms / 1000,
        callback_format=args.callback_format,
        retries=args.retries,
        callback_secret=environ.get("MEDIA_TAGGER_CALLBACK_SECRET") or None,
        **emulator_options(args),
        **options,
    )


def run_serve(args: argparse.Namespace, raw_argv: Sequence[str], out: TextIO, err: TextIO) -> int:
    """Foreground (until SIGINT/SIGTERM) or, with --detach, a background server."""
    if args.detach:
        return detach(raw_argv, args.data_dir, out, err)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s", stream=err)
    try:
        emulator = _emulator(args, os.environ).start()
    except OSError as exc:
        err.write(f"cannot listen on {args.host}: {exc.strerror or exc}\n")
        return 1
    except (RuntimeError, ValueError) as exc:  # e.g. ffprobe missing, non-loopback host
        err.write(f"cannot start the emulator: {exc}\n")
        return 1
    try:
        with stop_signals() as stop:  # installed before the exports: a quick Ctrl-C is caught
            buckets = args.buckets or [DEMO_BUCKET]
            lines = export_lines(emulator.function_environ(), os.getpid(), buckets[0])
            out.write("\n".join([*lines, READY_LINE]) + "\n")
            out.flush()
            if out is sys.__stdout__:  # the functions' JSON lines must not follow the exports
                os.dup2(2, 1)
            err.write(
                serve_banner(
                    emulator.endpoint_url,
                    emulator.callback_url,
                    emulator.credentials,
                    buckets[0],
                    DEMO_REGION,
                    buckets=buckets,
                )
            )
            err.flush()
            while not stop.wait(0.5):
                pass
    finally:
        emulator.stop()
    err.write("stopped\n")
    return 0


def detach(raw_argv: Sequence[str], data_dir: Path, out: TextIO, err: TextIO) -> int:
    """Start ``serve`` (without --detach) in its own session; relay its exports once ready."""
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir / LOG_FILE
    argv = [sys.executable, "-m", "emulator", *(a for a in raw_argv if a != "--detach")]
    with log_path.open("ab") as log:
        child = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL,
            start_new_session=True, text=True,
        )  # fmt: skip
    assert child.stdout is not None
    lines: list[str] = []
    for line in child.stdout:
        if line.rstrip("\n") == READY_LINE:
            out.write("".join(lines))
            out.flush()
            return 0
        lines.append(line)
    child.wait()
    tail = log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-5:]
    err.write(f"the emulator did not start (exit {child.returncode}); {log_path}:\n")
    err.writelines(f"  {line}\n" for line in tail)
    return 1


def run_put(file: Path, key: str, environ: Mapping[str, str], out: TextIO, err: TextIO) -> int:
    """Upload ``file`` as ``key`` with the exported settings (a signed PUT, like any client)."""
    from emulator.demo import DemoError, upload_to  # noqa: PLC0415 -- needs the shared client

    try:
        obj = upload_to(environ, file, key)
    except (DemoError, OSError) as exc:
        err.write(f"put failed: {exc}\n")
        return 1
    out.write(f"cos://{obj.bucket}/{obj.key}: {file.stat().st_size:,} bytes\n")
    return 0


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
