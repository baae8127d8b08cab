"""How fast ``backfill --engine ci`` drains a batch on the emulator, and what bounds it.

``python -m benchmarks.batch_drain [--objects 10000] [--concurrency 1,8,16] [--latency-ms 0]``
(not part of ``make test`` or ``make bench``). It puts N copies of a small mp4 in an emulator
running in this process (probe cache on: one ffprobe for all), has CI's batch engine run a Prefix
batch over them, then, per concurrency, clears the tags and the batch record and times a drain
run as ``python -m shared backfill --engine ci`` in a subprocess (its own interpreter: the
client's CPU is not the emulator's), from its first to its last tagged object. It prints objects
per second, requests per object (the emulator's counters), CPU per object on each side
(``getrusage``) and the listing alone (GET /jobs pages of 100, in-process): the figures that show
which resource is the bound. Figures from it belong in docs/performance.md with the command.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from emulator import EmulatorCredentials, EmulatorServer
from shared.ops.batch_api import run_batch_backfill
from shared.ops.batch_backfill import BatchOptions
from shared.ops.batch_state import BatchPlan
from shared.scf.invocation import environ_transport
from shared.tencent.ci_batches import CiBatchClient

BUCKET, REGION, PREFIX = "bench-1250000000", "ap-guangzhou", "media/"
ROOT = Path(__file__).resolve().parent.parent


def make_clip(directory: Path) -> bytes:
    target = directory / "clip.mp4"
    command = ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=160x120:rate=25"]
    command += ["-f", "lavfi", "-i", "sine=frequency=440", "-t", "1", "-c:v", "libx264"]
    command += ["-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(target)]
    subprocess.run(command, check=True, timeout=60)
    return target.read_bytes()


def environ_for(server: EmulatorServer) -> dict[str, str]:
    credentials = EmulatorCredentials.default()
    token = {"TENCENTCLOUD_SESSIONTOKEN": credentials.token} if credentials.token else {}
    return {
        **token,
        "TENCENTCLOUD_SECRETID": credentials.secret_id,
        "TENCENTCLOUD_SECRETKEY": credentials.secret_key,
        "MEDIA_TAGGER_ENDPOINT_URL": server.endpoint_url,
        "MEDIA_TAGGER_CALLBACK_URL": "http://127.0.0.1:9/unused",  # nothing is resubmitted
        "MEDIA_TAGGER_CALLBACK_SECRET": "bench-secret-0123456789abcdef0123",
    }


def run_batch(server: EmulatorServer, environ: dict[str, str], state: Path) -> str:
    plan = BatchPlan(BUCKET, REGION, "prefix", prefixes=(PREFIX,))
    result = run_batch_backfill(
        plan, state_file=state, options=BatchOptions(wait=False), environ=environ
    )
    ((batch_id, _),) = result.state.batches
    while server.batch.batches.get(batch_id).state != "Success":  # type: ignore[union-attr]
        time.sleep(0.05)
    return batch_id


def reset(server: EmulatorServer, batch_id: str, keys: Sequence[str], state: Path) -> None:
    """No tags, an empty drain cursor and a state file not complete: the next drain starts from
    nothing (the batch and its per-object jobs stay as CI left them)."""
    for key in keys:
        server.store.put_tags(BUCKET, key, ())
    record_key = f".media-tagger/batches/{batch_id}.json"
    record = json.loads(server.store.read_bytes(BUCKET, record_key) or b"{}")
    record.update(cursor={"watermark_s": None, "seen": {}}, counts={}, drained=False)
    body = json.dumps(record).encode()
    server.store.put_object(BUCKET, record_key, [body], content_type="application/json", meta={})
    saved = json.loads(state.read_text(encoding="utf-8"))
    state.write_text(json.dumps({**saved, "complete": False}), encoding="utf-8")


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed_drain(
    server: EmulatorServer, environ: dict[str, str], state: Path, concurrency: int
) -> dict[str, Any]:
    command = [sys.executable, "-m", "shared", "backfill", "--engine", "ci", "--bucket", BUCKET]
    command += ["--region", REGION, "--batch-input", "prefix", "--prefix", PREFIX]
    command += ["--state-file", str(state), "--drain-concurrency", str(concurrency), "--poll", "1"]
    env = {**os.environ, **environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
    before_ops = dict(server.stats()["operations"])
    cpu_child, cpu_self = children_cpu(), time.process_time()
    started = time.monotonic()
    first = last = None
    tagged = 0
    with subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    ) as child:
        assert child.stdout is not None
        for line in child.stdout:
            if line.startswith("{") and json.loads(line).get("outcome") == "tagged":
                now = time.monotonic()
                first = first or now
                last, tagged = now, tagged + 1
    after_ops = server.stats()["operations"]
    requests = sum(after_ops.values()) - sum(before_ops.values())
    span = (last or started) - (first or started)
    return {
        "concurrency": concurrency,
        "objects": tagged,
        "objects_per_s": tagged / span if span else 0.0,
        "wall_s": time.monotonic() - started,
        "requests_per_object": requests / max(tagged, 1),
        "client_cpu_ms": (children_cpu() - cpu_child) * 1000 / max(tagged, 1),
        "emulator_cpu_ms": (time.process_time() - cpu_self) * 1000 / max(tagged, 1),
    }


def listing_rate(environ: dict[str, str], batch_id: str) -> dict[str, float]:
    client = CiBatchClient(
        environ_transport(environ, environ["MEDIA_TAGGER_ENDPOINT_URL"], 4, None)
    )
    started, pages, jobs, token = time.monotonic(), 0, 0, None
    while True:
        page = client.list_batch_jobs(BUCKET, REGION, batch_id, next_token=token)
        pages, jobs = pages + 1, jobs + len(page.jobs)
        if not page.next_token:
            break
        token = page.next_token
    seconds = time.monotonic() - started
    return {"pages": pages, "jobs": jobs, "jobs_per_s": jobs / seconds, "seconds": seconds}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.batch_drain")
    parser.add_argument("--objects", type=int, default=10_000)
    parser.add_argument("--concurrency", default="1,8,16")
    parser.add_argument("--latency-ms", type=int, default=0)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="batch-bench-") as scratch:
        work = Path(scratch)
        clip = make_clip(work)
        server = EmulatorServer(
            data_dir=work / "data", credentials=EmulatorCredentials.default(), buckets=[BUCKET],
            job_runner_delay_s=0.0005, probe_cache=True, queue_max_concurrent=32,
            latency_s=args.latency_ms / 1000,
        ).start()  # fmt: skip
        try:
            keys = [f"{PREFIX}{i:06d}.mp4" for i in range(args.objects)]
            for key in keys:
                server.store.put_object(BUCKET, key, [clip], content_type="video/mp4", meta={})
            environ, state = environ_for(server), work / "state.json"
            started = time.monotonic()
            batch_id = run_batch(server, environ, state)
            print(json.dumps({"batch_s": round(time.monotonic() - started, 2)}))
            print(json.dumps(listing_rate(environ, batch_id)))
            for concurrency in (int(n) for n in args.concurrency.split(",")):
                reset(server, batch_id, keys, state)
                print(json.dumps(timed_drain(server, environ, state, concurrency)), flush=True)
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
