"""SCF entry point of the callback function (function URL trigger, invoked synchronously).

Glue only: event -> ``HttpRequest`` -> settings and credentials -> clients -> ``CallbackService``
-> ``{statusCode, headers, body}``. Errors become replies through ``exc.http_status`` (see
``shared.results.reply``), never through an if-ladder here. Nothing is built at import time; a
warm instance reuses only the transport's Session and the read thread pool. Imports are absolute
``shared.*`` so this file also works from the zip root. Tokens and secrets never reach the log.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Executor
from typing import Any

import requests

from shared.callback.http_event import parse_http_event
from shared.callback.service import CallbackService
from shared.contract.callback_token import TOKEN_PARAMETER, path_token
from shared.decision_log import DecisionLog, configure_logging
from shared.errors import ConfigError, MediaTaggerError
from shared.results.documents import result_documents
from shared.results.reply import CallbackReply, error_reply
from shared.scf.invocation import (
    context_request_id,
    context_time_limit_ms,
    invocation_deadline,
    platform_secrets,
    remote_clients,
)
from shared.settings.functions import load_callback_settings
from shared.tencent.credentials import credential_from_environ

FUNCTION_NAME = "tag_on_callback"
JSON_HEADERS = {"Content-Type": "application/json"}
# Retries stop this long before the platform's time limit, so the reply is always sent.
DEADLINE_MARGIN_S = 1.0


def http_response(reply: CallbackReply) -> dict[str, Any]:
    """The function-URL / integrated-response reply."""
    return {
        "isBase64Encoded": False,
        "statusCode": reply.status,
        "headers": dict(JSON_HEADERS),
        "body": json.dumps(reply.summary(), ensure_ascii=False, separators=(",", ":")),
    }


def _early_reply(
    exc: MediaTaggerError, log: DecisionLog, started: float, clock: Callable[[], float]
) -> dict[str, Any]:
    """A reply for what fails before the service runs (settings, event, credentials)."""
    reply = error_reply(exc)
    reply.log_to(log, bucket=None, ms=round((clock() - started) * 1000))
    return http_response(reply)


def handle(
    event: Any,
    context: Any,
    *,
    environ: Mapping[str, str] | None = None,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
    session: requests.Session | None = None,
    executor: Executor | None = None,
) -> dict[str, Any]:
    """One invocation with its collaborators injectable (tests pass them)."""
    started = clock()
    env = os.environ if environ is None else environ
    log = DecisionLog(FUNCTION_NAME, context_request_id(context), secrets=platform_secrets(env))
    try:
        settings = load_callback_settings(env)
    except ConfigError as exc:
        configure_logging()
        return _early_reply(exc, log, started, clock)
    configure_logging(settings.log_level)
    for secret in settings.verifying_secrets:  # current and previous: never in a log line
        log.add_secret(secret)
    try:
        request = parse_http_event(event, max_body_bytes=settings.max_callback_bytes)
        log.add_secret(request.query.get(TOKEN_PARAMETER))
        log.add_secret(path_token(request.path))
        credential = credential_from_environ(env)
    except MediaTaggerError as exc:
        return _early_reply(exc, log, started, clock)
    store, jobs = remote_clients(
        settings,
        lambda: credential,  # read from the environment once per invocation
        clock=clock,
        sleep=sleep,
        session=session,
    )
    deadline = invocation_deadline(
        started, context_time_limit_ms(context), margin_s=DEADLINE_MARGIN_S, margin_fraction=0.0
    )
    documents = result_documents(settings.result_document, store, clock=clock)
    service = CallbackService(
        settings,
        store,
        jobs,
        log,
        clock=clock,
        deadline=deadline,
        executor=executor,
        documents=documents,
    )
    return http_response(service.handle(request))


def main_handler(event: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
    """SCF handler ``index.main_handler``."""
    try:
        return handle(event, context)
    except Exception as exc:  # a bug: answer 500 without echoing anything from the request
        log = DecisionLog(FUNCTION_NAME, context_request_id(context))
        log.decision("error", reason="internal", detail=type(exc).__name__, level=logging.ERROR)
        return http_response(CallbackReply(500, "error", "internal"))
