"""SCF entry point of the upload function (COS trigger, invoked asynchronously).

Glue only: read the environment and the context, build the clients and the self-invocation that
hands unsubmitted records on, run ``shared.upload.event_run`` and return its summary. Nothing is
built at import time (role credentials rotate; a warm instance reuses only the transport module's
cached Session). Imports are absolute ``shared.*`` so this file also works from the zip root. A
raised exception marks the invocation failed, which is how SCF's async retry is asked for.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable, Mapping
from typing import Any

import requests

from shared.decision_log import DecisionLog
from shared.scf.handon import SelfInvoke, function_identity
from shared.scf.invocation import (
    context_request_id,
    context_time_limit_ms,
    environ_credentials,
    invocation_deadline,
    load_function_settings,
    platform_secrets,
    remote_clients,
)
from shared.settings.functions import load_upload_settings
from shared.upload.event_run import EventRun, HandOnPolicy
from shared.upload.service import FUNCTION_NAME, UploadService


def handle(
    event: Any,
    context: Any,
    *,
    environ: Mapping[str, str] | None = None,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
    session: requests.Session | None = None,
    jitter: Callable[[], float] = random.random,
) -> dict[str, Any]:
    """One invocation with its collaborators injectable (tests pass all of them; ``jitter``, in
    [0, 1), spreads the in-place and hand-on pauses of instances that meet a full queue at once)."""
    started = clock()
    env = os.environ if environ is None else environ
    request_id = context_request_id(context)
    settings = load_function_settings(
        load_upload_settings, env, DecisionLog(FUNCTION_NAME, request_id)
    )
    secrets = (*platform_secrets(env), settings.callback_secret)
    log = DecisionLog(FUNCTION_NAME, request_id, secrets=secrets)
    credentials = environ_credentials(env)
    store, jobs = remote_clients(
        settings,
        credentials,
        clock=clock,
        sleep=sleep,
        session=session,
        queue_id=settings.queue_id,
    )
    service = UploadService(settings, store, jobs, log, clock=clock, sleep=sleep, jitter=jitter)
    identity = function_identity(context, env)
    hand_on = None
    if identity is not None:
        hand_on = SelfInvoke(credentials, identity, endpoint_url=settings.endpoint_url, sleep=sleep)
    policy = HandOnPolicy(
        concurrency=settings.concurrency,
        max_age_s=settings.hand_on_max_age_s,
        backoff_first_s=settings.hand_on_backoff_s,
    )
    deadline = invocation_deadline(started, context_time_limit_ms(context))
    run = EventRun(service, hand_on, policy, clock=clock, sleep=sleep, jitter=jitter)
    return run.run(event, deadline=deadline)


def main_handler(event: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
    """SCF handler ``index.main_handler``."""
    return handle(event, context)
