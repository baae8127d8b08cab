"""``python -m emulator soak``: many parallel uploads through the whole pipeline, with and without
faults, then an outcome check of every object (nothing lost, nothing wrong).

Phase "clean": N uploads in parallel (emulator.soak.plan: mixed media, non-media, filtered,
hostile keys, multipart-sized media sent in parts as cos-python-sdk-v5's upload_file would).
Phase "faults": the same on a fresh emulator with a share of COS and CI requests answering
503/429 and callbacks dropped or duplicated, then ``reconcile`` (shared.ops.api) until
a pass meets no transient error. Every object's tags are then compared with what it must carry.
The functions' JSON log lines go to a file that is scanned for secrets. Prints a summary and
returns non-zero when anything was lost, wrong or leaked. It never talks to the cloud.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TextIO

import requests
from requests.adapters import HTTPAdapter

from emulator.app import Emulator
from emulator.soak.plan import PlannedObject, make_multipart_sample, make_samples, plan_objects
from emulator.soak.report import PhaseResult, SoakOptions, report
from emulator.upload_client import upload_object
from shared.contract.callback_token import mint_callback_token, mint_callback_token_v2
from shared.decision_log import configure_logging
from shared.models import ObjectRef
from shared.tencent.cos_client import CosClient
from shared.tencent.credentials import credential_from_environ
from shared.tencent.endpoints import Endpoint
from shared.tencent.transport import Transport

BUCKET, REGION, PREFIX = "soak-1250000000", "ap-guangzhou", "media:"
DRIVER_ATTEMPTS = 10  # the uploader and the checker must not be the weak link
RECONCILE_PASSES = 3


class RetryCounter(logging.Handler):
    """Counts shared.tencent.transport's "retrying ..." warnings by who retried (thread name)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.counts: Counter[str] = Counter()  # emit() runs under the handler's own lock

    def emit(self, record: logging.LogRecord) -> None:
        if not record.getMessage().startswith("retrying"):
            return
        name = record.threadName or ""
        who = "soak driver" if name.startswith("soak-") else "functions"
        who = "reconcile" if name == "MainThread" else who
        self.counts[who] += 1


def driver_transport(emulator: Emulator, workers: int) -> Transport:
    environ = emulator.function_environ()
    session = requests.Session()
    session.trust_env = False
    session.mount("http://", HTTPAdapter(pool_maxsize=workers, max_retries=0))
    return Transport(
        lambda: credential_from_environ(environ),
        endpoint=Endpoint(emulator.endpoint_url),
        session=session,
        max_attempts=DRIVER_ATTEMPTS,
    )


_APPLIED = re.compile(r"(?P<etag>[0-9a-f]{32}(?:-[0-9]+)?)/[0-9]{8}T[0-9]{6}Z/j[0-9a-f]{32}")


def upload_all(transport: Transport, objects: list[PlannedObject], workers: int) -> list[str]:
    """Every object stored (PUT, or multipart above 1 MiB); the ETags COS answered, in order."""

    def put(item: PlannedObject) -> str:
        obj = ObjectRef(BUCKET, REGION, item.key)
        return upload_object(transport, obj, item.data, item.content_type)

    with ThreadPoolExecutor(workers, thread_name_prefix="soak-upload") as pool:
        return list(pool.map(put, objects))


def verdict(item: PlannedObject, tags: dict[str, str], uploaded_etag: str) -> str:
    """correct / lost / wrong; the etag tag must name the job it came from (<etag>/<time>/<id>)."""
    ours = {k[len(PREFIX) :]: v for k, v in tags.items() if k.startswith(PREFIX)}
    applied = _APPLIED.fullmatch(ours.get("etag", ""))
    if applied is not None:
        ours["etag"] = applied["etag"]
    elif "etag" in ours:
        return "wrong"
    expected = item.expected_with(uploaded_etag)
    multipart_form = re.fullmatch(f"[0-9a-f]{{32}}-{item.parts}", uploaded_etag)
    if item.parts and multipart_form is None:
        return "wrong"  # a multipart object must carry COS's "<hex>-<parts>" ETag
    if ours == expected and len(ours) == len(tags):
        return "correct"
    return "lost" if expected and "status" not in ours else "wrong"


def check_outcomes(
    transport: Transport, objects: list[PlannedObject], etags: list[str], result: PhaseResult
) -> None:
    cos = CosClient(transport)

    def read(item: PlannedObject) -> dict[str, str]:
        return dict(cos.get_object_tagging(ObjectRef(BUCKET, REGION, item.key)))

    with ThreadPoolExecutor(8, thread_name_prefix="soak-check") as pool:
        for item, etag, tags in zip(objects, etags, pool.map(read, objects)):
            found = verdict(item, tags, etag)
            result.verdicts[found] += 1
            if found != "correct" and len(result.problems) < 10:
                result.problems.append(
                    f"{found}: {item.key[:80]!r} has {tags}, expected {item.expected_with(etag)}"
                )


def reconcile_until_clean(emulator: Emulator, since: float, result: PhaseResult) -> None:
    from shared.reconcile.runner import run_reconcile  # noqa: PLC0415 -- issue 5's API, loaded on use

    for _ in range(RECONCILE_PASSES):
        summary = run_reconcile(
            BUCKET, REGION, since=since - 60, until=time.time() + 60,
            environ=emulator.function_environ(),
        )  # fmt: skip
        result.reconcile.append(summary.as_dict())
        if not summary.errors and not summary.incomplete:
            return


def absorbed_duplicates(emulator: Emulator) -> int:
    """Callback deliveries answered "unchanged": a repeat that cost no write."""
    count = 0
    for call in emulator.function_url.invocations:
        with contextlib.suppress(ValueError):
            count += json.loads(call.reply.body).get("outcome") == "unchanged"
    return count


def leaked_secrets(log_text: str, emulator: Emulator, objects: list[PlannedObject]) -> int:
    environ = emulator.function_environ()
    callback_secret = environ["MEDIA_TAGGER_CALLBACK_SECRET"]
    secrets = [callback_secret, environ["TENCENTCLOUD_SECRETKEY"]]
    secrets += [environ.get("TENCENTCLOUD_SESSIONTOKEN", "")]
    secrets += [mint_callback_token(callback_secret, BUCKET, item.key) for item in objects]
    secrets += [  # what new submissions carry in the callback URL's path
        mint_callback_token_v2(callback_secret, REGION, BUCKET, item.key) for item in objects
    ]
    return sum(1 for secret in secrets if secret and secret in log_text)


def run_phase(name: str, objects: list[PlannedObject], options: SoakOptions, scratch: Path,
              counter: RetryCounter) -> PhaseResult:  # fmt: skip
    result = PhaseResult(name, len(objects))
    counter.counts.clear()
    with Emulator(scratch / name, job_runner_delay_s=0.01, buckets=[BUCKET]) as emulator:
        if name == "faults":
            emulator.faults.random_failures(options.failure_rate, (503, 429), seed=options.seed)
            emulator.faults.random_callback_faults(
                options.drop_rate, options.duplicate_rate, seed=options.seed
            )
        transport = driver_transport(emulator, options.workers)
        started, since = time.monotonic(), time.time()
        etags = upload_all(transport, objects, options.workers)
        result.settled = emulator.wait_idle(options.timeout_s)
        result.seconds = time.monotonic() - started
        if name == "faults" and options.reconcile:
            reconcile_until_clean(emulator, since, result)
        result.injected = emulator.faults.summary()
        emulator.faults.random_failures(0.0)
        emulator.faults.random_callback_faults(0.0, 0.0)
        check_outcomes(transport, objects, etags, result)
        result.retries = Counter(counter.counts)
        result.scf_retries = emulator.stats()["upload_failures"]
        result.absorbed = absorbed_duplicates(emulator)
        result.callbacks = emulator.stats()["callbacks"]
        log_text = (scratch / "functions.log").read_text(encoding="utf-8", errors="replace")
        result.leaked = leaked_secrets(log_text, emulator, objects)
    return result


@contextlib.contextmanager
def captured_logs(path: Path, counter: RetryCounter) -> Iterator[None]:
    """Function JSON lines (stdout) and emulator logs into ``path``; retries counted."""
    emulator_log = logging.getLogger("emulator")
    transport_log = logging.getLogger("shared.tencent.transport")
    with path.open("w", encoding="utf-8") as sink, contextlib.redirect_stdout(sink):
        handler = logging.StreamHandler(sink)
        saved = emulator_log.propagate
        emulator_log.addHandler(handler)
        emulator_log.propagate = False
        transport_log.addHandler(counter)
        configure_logging()
        try:
            yield
        finally:
            transport_log.removeHandler(counter)
            emulator_log.removeHandler(handler)
            emulator_log.propagate = saved


def run_soak(options: SoakOptions, out: TextIO) -> tuple[int, list[PhaseResult]]:
    """(exit status, per-phase results): 0 when nothing was lost, wrong or leaked."""
    results = []
    counter = RetryCounter()
    with tempfile.TemporaryDirectory(prefix="cos-soak-") as scratch_dir:
        scratch = Path(scratch_dir)
        samples = make_samples(scratch)
        big = make_multipart_sample(scratch, samples[0])
        with captured_logs(scratch / "functions.log", counter):
            for name in options.phases:
                objects = plan_objects(options.uploads, f"{name}/", samples, options.seed, big)
                results.append(run_phase(name, objects, options, scratch, counter))
    report(results, options, out)
    return (1 if any(r.failed for r in results) else 0), results
