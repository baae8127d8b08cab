"""What the SCF entry points share: reading SCF's context, the retry deadline, one invocation's
clients, the secrets a decision log scrubs, and settings loaded with their failure logged.

``functions/*/index.py`` call these and stay glue. SCF passes the context as a dict; anything else,
or a missing or malformed value, reads as "not given". Clients are built per invocation from the
settings and a credential source, never at import time (role keys rotate; the transport module
keeps the only warm-instance Session). This module must not read ``os.environ`` itself, keep
state between invocations, or log anything but the one config-error decision.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from shared.decision_log import DecisionLog, configure_logging
from shared.errors import ConfigError
from shared.tencent.ci_client import CiClient
from shared.tencent.cos_client import CosClient
from shared.tencent.credentials import (
    SECRET_KEY_VARIABLE,
    SESSION_TOKEN_VARIABLE,
    credential_from_environ,
)
from shared.tencent.endpoints import Endpoint
from shared.tencent.transport import Transport

if TYPE_CHECKING:  # annotations only: nothing below is built at import time
    from typing import Protocol, TypeVar

    import requests
    from tencentcloud.common.credential import Credential

    class FunctionSettings(Protocol):
        """What every function's settings carry for the transport and the log."""

        @property
        def endpoint_url(self) -> str | None: ...

        @property
        def max_attempts(self) -> int: ...

        @property
        def log_level(self) -> str: ...

    _Settings = TypeVar("_Settings", bound=FunctionSettings)

# The asynchronous functions (upload, reconcile) stop retrying max(1.5 s, 10 %) before the limit.
ASYNC_MARGIN_S = 1.5
ASYNC_MARGIN_FRACTION = 0.1


def context_request_id(context: object) -> str | None:
    """SCF's request id, or None."""
    value = context.get("request_id") if isinstance(context, Mapping) else None
    return value if isinstance(value, str) else None


def context_time_limit_ms(context: object) -> object:
    """SCF's ``time_limit_in_ms`` as given (``invocation_deadline`` checks it)."""
    return context.get("time_limit_in_ms") if isinstance(context, Mapping) else None


def invocation_deadline(
    started: float,
    time_limit_ms: object,
    *,
    margin_s: float = ASYNC_MARGIN_S,
    margin_fraction: float = ASYNC_MARGIN_FRACTION,
) -> float | None:
    """When retrying must stop: the limit minus max(``margin_s``, ``margin_fraction`` of it),
    never more than half of it. None when the limit is not a positive number."""
    if not isinstance(time_limit_ms, (int, float)) or isinstance(time_limit_ms, bool):
        return None
    if time_limit_ms <= 0:
        return None
    limit_s = time_limit_ms / 1000
    margin = min(limit_s / 2, max(margin_s, limit_s * margin_fraction))
    return started + limit_s - margin


def platform_secrets(environ: Mapping[str, str]) -> tuple[str | None, str | None]:
    """The role's secret key and session token: a ``DecisionLog`` scrubs them from every line."""
    return environ.get(SECRET_KEY_VARIABLE), environ.get(SESSION_TOKEN_VARIABLE)


def environ_credentials(environ: Mapping[str, str]) -> Callable[[], Credential]:
    """A credential source that reads ``environ`` on every request (role keys rotate)."""

    def credentials() -> Credential:
        return credential_from_environ(environ)

    return credentials


def remote_clients(
    settings: FunctionSettings,
    credentials: Callable[[], Credential],
    *,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
    session: requests.Session | None = None,
    queue_id: str | None = None,
) -> tuple[CosClient, CiClient]:
    """(store, jobs): the COS and CI clients of one invocation, sharing one ``Transport``;
    ``queue_id`` is MEDIA_TAGGER_QUEUE_ID for the functions that submit or list jobs."""
    transport = Transport(
        credentials,
        endpoint=Endpoint(settings.endpoint_url),
        session=session,
        clock=clock,
        sleep=sleep,
        max_attempts=settings.max_attempts,
    )
    return CosClient(transport), CiClient(transport, queue_id=queue_id)


def load_function_settings(
    load: Callable[[Mapping[str, str]], _Settings],
    environ: Mapping[str, str],
    log: DecisionLog,
) -> _Settings:
    """``load(environ)`` plus a credential check, then logging at the settings' level. A
    ConfigError is logged as one config-error decision and raised again (the run fails)."""
    try:
        settings = load(environ)
        credential_from_environ(environ)  # fail fast, before any work, when the role is missing
    except ConfigError as exc:
        configure_logging()
        log.decision("config-error", reason=str(exc), level=logging.ERROR)
        raise
    configure_logging(settings.log_level)
    return settings


def environ_or_process(environ: Mapping[str, str] | None) -> Mapping[str, str]:
    """``environ``, or the process environment when None (the operator tools' default)."""
    return os.environ if environ is None else environ


def environ_transport(
    environ: Mapping[str, str],
    endpoint_url: str | None,
    max_attempts: int,
    session: requests.Session | None,
) -> Transport:
    """One transport for a run, reading ``environ``'s role keys per request."""
    credential_from_environ(environ)  # fail fast (ConfigError naming the variable)
    return Transport(
        environ_credentials(environ),  # read per request: role keys rotate
        endpoint=Endpoint(endpoint_url),
        session=session,
        max_attempts=max_attempts,
    )


def run_log(fn: str, environ: Mapping[str, str], *secrets: str | None) -> DecisionLog:
    """A decision log for one run: request_id is a fresh run id; known secrets are scrubbed."""
    known = (*platform_secrets(environ), *secrets)
    return DecisionLog(fn, f"{fn}-{uuid.uuid4().hex[:12]}", secrets=known)
