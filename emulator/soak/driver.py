"""The soak's driver: what uploads the planned objects and what checks them afterwards.

The driver has its own Transport (10 attempts: the uploader and the checker must not be the weak
link) and writes each object as planned (``store``: the rewrites' earlier writes first, back to
back). ``verdict`` compares an object's tags with what it must carry; ``leaked_secrets`` scans the
functions' log for any secret. ``RetryCounter`` counts the transport's retries by who retried.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import requests
from requests.adapters import HTTPAdapter

from emulator.app import Emulator
from emulator.soak.plan import PlannedObject
from emulator.soak.report import PhaseResult
from emulator.upload_client import upload_object
from shared.contract.callback_token import mint_callback_token, mint_callback_token_v2
from shared.models import ObjectRef
from shared.tencent.cos_client import CosClient
from shared.tencent.credentials import credential_from_environ
from shared.tencent.endpoints import Endpoint, cos_host
from shared.tencent.transport import Transport

BUCKET, REGION, PREFIX = "soak-1250000000", "ap-guangzhou", "media:"
DRIVER_ATTEMPTS = 10  # the uploader and the checker must not be the weak link


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


def store(transport: Transport, item: PlannedObject) -> str:
    """``item``'s writes in order (PUT or multipart above 1 MiB; DELETE for a None in its
    history), back to back; the ETag COS answered for the last one."""
    obj = ObjectRef(BUCKET, REGION, item.key)
    for earlier in item.history:
        if earlier is None:
            transport.request("cos", "DELETE", cos_host(BUCKET, REGION), item.key)
        else:
            upload_object(transport, obj, earlier, item.content_type)
    return upload_object(transport, obj, item.data, item.content_type)


def upload_all(
    transport: Transport,
    objects: list[PlannedObject],
    workers: int,
    after_each: Callable[[int], None] = lambda index: None,
) -> list[str]:
    """Every object stored (``store``); the ETags COS answered, in order. ``after_each(index)``
    runs on the uploader thread once an object is stored (fault re-arming, the burst's pause)."""

    def put(indexed: tuple[int, PlannedObject]) -> str:
        etag = store(transport, indexed[1])
        after_each(indexed[0])
        return etag

    with ThreadPoolExecutor(workers, thread_name_prefix="soak-upload") as pool:
        return list(pool.map(put, enumerate(objects)))


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
