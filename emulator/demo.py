"""`python -m emulator demo`: upload one media file to the local emulator and show its tags.

Starts an in-process ``Emulator`` (COS + CI + both functions) with the demo bucket, uploads FILE
(or a 2 s 320x240 H.264/AAC sample made with ffmpeg) through the project's own ``shared``
transport the way cos-python-sdk-v5's upload_file would (one PUT up to 1 MiB, multipart above:
emulator.upload_client), polls GET ?tagging until the status tag appears, and prints the tags
with the time taken. A file the upload function skips (not a media extension, say) fails at once
with the filter's reason; on timeout it explains what it saw: the CI job's last state and any
handler failure. It never talks to the cloud and never uses cos-python-sdk-v5.
"""

from __future__ import annotations

import mimetypes
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Protocol, TextIO

from emulator.app import Emulator
from emulator.scf.invoker import Invocation
from emulator.upload_client import upload_object
from shared.errors import MediaTaggerError
from shared.models import ObjectRef, TagSet
from shared.tencent.ci_client import CiClient
from shared.tencent.cos_client import CosClient
from shared.tencent.credentials import credential_from_environ
from shared.tencent.endpoints import Endpoint
from shared.tencent.transport import Transport

DEMO_BUCKET = "demo-1250000000"
DEMO_REGION = "ap-guangzhou"
DEMO_PREFIX = "demo/"
DEFAULT_TAG_PREFIX = "media:"
POLL_INTERVAL_S = 0.2
SAMPLE_COMMAND = (
    "-hide_banner -loglevel error -y "
    "-f lavfi -i testsrc=size=320x240:rate=25:duration=2 "
    "-f lavfi -i sine=frequency=440:sample_rate=44100:duration=2 "
    "-c:v libx264 -pix_fmt yuv420p -c:a aac -shortest -movflags +faststart"
)


class TagReader(Protocol):
    def get_object_tagging(self, obj: ObjectRef, *, deadline: float | None = None) -> TagSet: ...


class DemoError(Exception):
    """Why the demo could not finish (printed as is; never contains credentials)."""


@dataclass(frozen=True)
class DemoResult:
    key: str
    tags: TagSet
    elapsed_s: float


def make_sample_video(directory: Path, run: Callable[..., object] = subprocess.run) -> Path:
    """A 2 s 320x240 H.264 + AAC mp4 from ffmpeg's test sources."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise DemoError(
            "ffmpeg is not installed: install it (Debian/Ubuntu: apt-get install ffmpeg; "
            "macOS: brew install ffmpeg) or pass a media FILE"
        )
    target = directory / "sample.mp4"
    try:
        run([ffmpeg, *SAMPLE_COMMAND.split(), str(target)], check=True, capture_output=True)
    except subprocess.CalledProcessError as exc:
        stderr = exc.stderr.decode("utf-8", "replace") if exc.stderr else ""
        raise DemoError(f"ffmpeg could not make the sample video: {stderr.strip()}") from exc
    return target


def status_tag_key() -> str:
    return os.environ.get("MEDIA_TAGGER_TAG_PREFIX", DEFAULT_TAG_PREFIX) + "status"


def upload(transport: Transport, obj: ObjectRef, path: Path) -> str:
    """PUT (up to 1 MiB) or multipart upload of ``path``; the object's ETag."""
    content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return upload_object(transport, obj, path, content_type)


def upload_to(environ: Mapping[str, str], path: Path, key: str) -> ObjectRef:
    """``python -m emulator put``: PUT ``path`` as ``key``, signed with the exported settings."""
    endpoint = environ.get("MEDIA_TAGGER_ENDPOINT_URL")
    if not endpoint:
        raise DemoError("MEDIA_TAGGER_ENDPOINT_URL is not set: eval the exports of `serve` first")
    bucket = environ.get("MEDIA_TAGGER_EMULATOR_BUCKET") or DEMO_BUCKET
    obj = ObjectRef(bucket, environ.get("MEDIA_TAGGER_EMULATOR_REGION") or DEMO_REGION, key)
    transport = Transport(lambda: credential_from_environ(environ), endpoint=Endpoint(endpoint))
    try:
        upload(transport, obj, path)
    except MediaTaggerError as exc:
        raise DemoError(str(exc)) from exc
    return obj


def wait_for_tags(
    cos: TagReader,
    obj: ObjectRef,
    timeout_s: float,
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    gave_up: Callable[[], str | None] = lambda: None,
) -> TagSet | None:
    """The object's tags once the status tag is there; None when ``timeout_s`` passes first.

    ``gave_up`` is asked after every poll: a reason from it (the upload function skipped the
    object, say) ends the wait at once with DemoError, since no tag will ever come.
    """
    deadline = clock() + timeout_s
    wanted = status_tag_key()
    while True:
        tags = cos.get_object_tagging(obj)
        if any(key == wanted for key, _ in tags):
            return tags
        reason = gave_up()
        if reason is not None:
            raise DemoError(reason)
        if clock() >= deadline:
            return None
        sleep(POLL_INTERVAL_S)


def upload_verdict(invocations: Sequence[Invocation], key: str) -> str | None:
    """Why no tag will come for ``key``, from the upload function's finished invocations.

    Its summary names every record it skipped (with the filter's reason) or failed permanently;
    a submitted record, or none seen yet, means: keep waiting.
    """
    for invocation in invocations:
        summary = invocation.result if isinstance(invocation.result, Mapping) else {}
        for skipped in summary.get("skipped", ()):
            if skipped.get("key") == key:
                return (
                    f"the upload function skipped {key}: {skipped.get('reason')} "
                    "(MEDIA_TAGGER_EXTENSIONS and the other filters: docs/configuration.md)"
                )
        for failed in summary.get("failed", ()):
            if failed.get("key") == key and failed.get("permanent"):
                return f"the upload function could not submit a job for {key}: {failed.get('code')}"
    return None


def format_tags(result: DemoResult, bucket: str = DEMO_BUCKET) -> str:
    width = max([len("tag")] + [len(key) for key, _ in result.tags])
    lines = [
        f"cos://{bucket}/{result.key}: {len(result.tags)} tags after {result.elapsed_s:.2f} s",
        "",
        f"  {'tag'.ljust(width)}  value",
        f"  {'-' * width}  {'-' * 5}",
    ]
    lines += [f"  {key.ljust(width)}  {value}" for key, value in result.tags]
    return "\n".join(lines)


def diagnose(emulator: Emulator, transport: Transport, obj: ObjectRef) -> list[str]:
    """What went wrong, as far as the emulator can tell: job state and handler failures."""
    lines = []
    try:
        page = CiClient(transport).list_jobs(obj.bucket, obj.region, size=100)
        jobs = [job for job in page.jobs if job.input.object == obj.key]
    except MediaTaggerError as exc:
        lines.append(f"could not list CI jobs: {exc}")
        jobs = []
    if jobs:
        job = jobs[0]
        detail = f" ({job.code}: {job.message})" if job.code not in (None, "", "Success") else ""
        lines.append(f"last CI job {job.job_id}: {job.state}{detail}")
    else:
        lines.append("no CI job was submitted for the object")
    uploads = emulator.upload.invocations
    lines.append(f"upload function invocations: {len(uploads)}")
    lines += [f"  attempt {inv.attempt} raised {inv.error!r}" for inv in uploads if inv.error]
    callbacks = emulator.function_url.invocations
    lines.append(f"callback function invocations: {len(callbacks)}")
    for call in callbacks:
        if call.error is not None or call.reply.status >= 300:
            reason = (
                repr(call.error) if call.error else call.reply.body[:300].decode("utf-8", "replace")
            )
            lines.append(f"  HTTP {call.reply.status}: {reason}")
    return lines


def run_demo(
    file: Path | None,
    *,
    callback_format: str = "JSON",
    timeout_s: float = 60.0,
    out: TextIO,
    err: TextIO,
    make_emulator: Callable[..., Emulator] = Emulator,
) -> int:
    """The demo; returns the process exit status (0 tags printed, 1 failure explained)."""
    with tempfile.TemporaryDirectory(prefix="cos-emu-demo-") as scratch:
        try:
            path = file if file is not None else make_sample_video(Path(scratch))
            if not path.is_file():
                raise DemoError(f"no such file: {path}")
            with make_emulator(
                Path(scratch) / "data", callback_format=callback_format, buckets=[DEMO_BUCKET]
            ) as emulator:
                return _run(emulator, path, timeout_s, out, err)
        except (DemoError, MediaTaggerError, RuntimeError, OSError) as exc:
            # RuntimeError/OSError: the emulator cannot start (ffprobe missing, no socket)
            err.write(f"demo failed: {exc}\n")
            return 1


def _run(emulator: Emulator, path: Path, timeout_s: float, out: TextIO, err: TextIO) -> int:
    environ = emulator.function_environ()
    transport = Transport(
        lambda: credential_from_environ(environ), endpoint=Endpoint(emulator.endpoint_url)
    )
    obj = ObjectRef(DEMO_BUCKET, DEMO_REGION, DEMO_PREFIX + path.name)
    out.write(f"emulator at {emulator.endpoint_url}; uploading {path} as {obj.key} ...\n")
    started = time.monotonic()
    etag = upload(transport, obj, path)
    out.write(f"stored with ETag {etag}\n")
    tags = wait_for_tags(
        CosClient(transport),
        obj,
        timeout_s,
        gave_up=lambda: upload_verdict(emulator.upload.invocations, obj.key),
    )
    if tags is None:
        err.write(f"demo failed: no {status_tag_key()} tag after {timeout_s:g} s\n")
        err.writelines(f"  {line}\n" for line in diagnose(emulator, transport, obj))
        return 1
    out.write(format_tags(DemoResult(obj.key, tags, time.monotonic() - started)) + "\n")
    return 0
