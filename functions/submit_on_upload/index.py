"""SCF entry point of the upload function (COS trigger, invoked asynchronously).

Glue only: read the environment and the context, build the clients, run
``shared.upload_service`` and return its summary. Nothing is built at import time (role
credentials rotate; a warm instance reuses only the transport module's cached Session).
Imports are absolute ``shared.*`` so this file also works from the zip root. A raised exception
marks the invocation failed, which is how SCF's async retry is asked for.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Mapping
from typing import Any

import requests
from tencentcloud.common.credential import Credential

from shared.ci import CiClient
from shared.config import UploadSettings, load_upload_settings
from shared.cos import CosClient
from shared.credentials import SECRET_KEY_VARIABLE, SESSION_TOKEN_VARIABLE, credential_from_environ
from shared.decision_log import DecisionLog, configure_logging
from shared.endpoints import Endpoint
from shared.errors import ConfigError
from shared.transport import Transport
from shared.upload_service import FUNCTION_NAME, UploadService, invocation_deadline


def _request_id(context: object) -> str | None:
    value = context.get("request_id") if isinstance(context, Mapping) else None
    return value if isinstance(value, str) else None


def _time_limit_ms(context: object) -> object:
    return context.get("time_limit_in_ms") if isinstance(context, Mapping) else None


def _load_settings(env: Mapping[str, str], log: DecisionLog) -> UploadSettings:
    try:
        settings = load_upload_settings(env)
        credential_from_environ(env)  # fail fast, before any record, when the role is missing
    except ConfigError as exc:
        configure_logging()
        log.decision("config-error", reason=str(exc), level=logging.ERROR)
        raise
    configure_logging(settings.log_level)
    return settings


def _build_service(
    settings: UploadSettings,
    env: Mapping[str, str],
    log: DecisionLog,
    *,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
    session: requests.Session | None,
) -> UploadService:
    def credentials() -> Credential:
        return credential_from_environ(env)  # per attempt: role keys rotate

    transport = Transport(
        credentials,
        endpoint=Endpoint(settings.endpoint_url),
        session=session,
        clock=clock,
        sleep=sleep,
        max_attempts=settings.max_attempts,
    )
    return UploadService(settings, CosClient(transport), CiClient(transport), log, clock=clock)


def handle(
    event: Any,
    context: Any,
    *,
    environ: Mapping[str, str] | None = None,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
    session: requests.Session | None = None,
) -> dict[str, Any]:
    """One invocation with its collaborators injectable (tests pass all of them)."""
    started = clock()
    env = os.environ if environ is None else environ
    request_id = _request_id(context)
    settings = _load_settings(env, DecisionLog(FUNCTION_NAME, request_id))
    secrets = (env.get(SECRET_KEY_VARIABLE), env.get(SESSION_TOKEN_VARIABLE))
    log = DecisionLog(FUNCTION_NAME, request_id, secrets=(*secrets, settings.callback_secret))
    service = _build_service(settings, env, log, clock=clock, sleep=sleep, session=session)
    deadline = invocation_deadline(started, _time_limit_ms(context))
    return service.submit_for_event(event, deadline=deadline)


def main_handler(event: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
    """SCF handler ``index.main_handler``."""
    return handle(event, context)
