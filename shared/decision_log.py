"""One JSON line per decision on the ``media_tagger`` logger, with a redaction guard.

Fields: fn, request_id, bucket, key, job_id, outcome, reason, ms (+ extra). Before a line is
written every value passes ``redact``: fields named like a secret, signatures, Authorization
strings, ``token=``/``sign=`` query values, and any registered secret value are replaced, so
tokens, signatures, keys and credentials never reach the log even if a caller passes them by
mistake. ``configure_logging`` routes ``media_tagger`` and the project's ``shared.*`` loggers to
stdout as JSON lines (SCF ships stdout to CLS). This module must not do any other I/O.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable, Mapping
from typing import Any

LOGGER_NAME = "media_tagger"
PROJECT_LOGGERS = (LOGGER_NAME, "shared")
REDACTED = "[redacted]"
DECISION_FIELDS = ("fn", "request_id", "bucket", "key", "job_id", "outcome", "reason", "ms")

_SECRET_NAME = re.compile(
    r"(?i)authorization|token|secret|signature|password|credential|(?:^|_)sign$"
)
_SIGNATURE_TEXT = re.compile(r"(?i)q-sign-algorithm|q-signature|q-ak=")
_SECRET_QUERY = re.compile(r"(?i)\b((?:[\w.-]*token|sign|signature|secret\w*)=)[^&\s\"']+")
_SECRET_ID = re.compile(r"AKID[A-Za-z0-9]{8,}")
_MIN_SECRET_LENGTH = 6  # shorter "secrets" would redact ordinary words
# json.dumps(ensure_ascii=False) leaves these raw, yet str.splitlines() and many log shippers
# break lines at them: a hostile object key could split one decision into several lines.
_LINE_BREAKS_JSON_KEEPS = str.maketrans(
    {"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"}
)


def redact(value: Any, secrets: Iterable[str] = (), name: str = "") -> Any:
    """``value`` with anything secret-looking replaced (recursing into dicts and lists)."""
    if name and _SECRET_NAME.search(name):
        return REDACTED
    if isinstance(value, Mapping):
        return {str(k): redact(v, secrets, str(k)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact(item, secrets) for item in value]
    if not isinstance(value, str):
        return value
    if _SIGNATURE_TEXT.search(value):
        return REDACTED
    text = _SECRET_ID.sub(REDACTED, _SECRET_QUERY.sub(rf"\1{REDACTED}", value))
    for secret in secrets:
        if len(secret) >= _MIN_SECRET_LENGTH and secret in text:
            text = text.replace(secret, REDACTED)
    return text


def one_json_line(fields: Mapping[str, Any]) -> str:
    """Compact JSON that stays one line for every line splitter (escapes U+0085/2028/2029)."""
    text = json.dumps(fields, ensure_ascii=False, separators=(",", ":"), default=str)
    return text.translate(_LINE_BREAKS_JSON_KEEPS)


def url_without_query(url: str) -> str:
    """What may be logged of a URL: no query (callback tokens live there), no fragment."""
    return url.split("?", 1)[0].split("#", 1)[0]


class JsonLineFormatter(logging.Formatter):
    """Decision records are already JSON; anything else becomes {"level","logger","message"}."""

    def format(self, record: logging.LogRecord) -> str:
        if getattr(record, "decision", False):
            return record.getMessage()
        fields: dict[str, Any] = {
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        if record.exc_info and record.exc_info[0] is not None:
            fields["exception"] = record.exc_info[0].__name__  # no traceback text: may echo values
        return one_json_line(fields)


class _StdoutHandler(logging.Handler):
    """Writes to the *current* sys.stdout (looked up per record, so captured output works)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stdout.write(self.format(record) + "\n")
            sys.stdout.flush()
        except Exception:  # a log line must never break an invocation
            self.handleError(record)


def configure_logging(level: str = "INFO") -> logging.Logger:
    """Idempotent: one JSON-lines stdout handler on the project loggers, at ``level``."""
    for name in PROJECT_LOGGERS:
        project_logger = logging.getLogger(name)
        project_logger.setLevel(level)
        if not any(isinstance(h, _StdoutHandler) for h in project_logger.handlers):
            handler = _StdoutHandler()
            handler.setFormatter(JsonLineFormatter())
            project_logger.addHandler(handler)
        project_logger.propagate = False  # the runtime's root handler would print it twice
    return logging.getLogger(LOGGER_NAME)


class DecisionLog:
    """Per-invocation decision logger: fixed ``fn`` and ``request_id``, known secrets scrubbed."""

    def __init__(
        self,
        fn: str,
        request_id: str | None,
        *,
        secrets: Iterable[str | None] = (),
        logger: logging.Logger | None = None,
    ) -> None:
        self._fn = fn
        self._request_id = request_id
        self._secrets = tuple(s for s in secrets if s)
        self._logger = logger or logging.getLogger(LOGGER_NAME)

    def add_secret(self, secret: str | None) -> None:
        """Scrub one more value (e.g. a token minted during this invocation)."""
        if secret:
            self._secrets = (*self._secrets, secret)

    def decision(
        self,
        outcome: str,
        /,
        *,
        bucket: str | None = None,
        key: str | None = None,
        job_id: str | None = None,
        reason: str | None = None,
        ms: int | None = None,
        level: int = logging.INFO,
        **extra: Any,
    ) -> dict[str, Any]:
        """Emit one line; returns the (redacted) fields that were written."""
        fields: dict[str, Any] = {
            "fn": self._fn,
            "request_id": self._request_id,
            "bucket": bucket,
            "key": key,
            "job_id": job_id,
            "outcome": outcome,
            "reason": reason,
            "ms": ms,
        }
        for name, value in extra.items():
            if name not in fields:
                fields[name] = value
        safe = {name: redact(value, self._secrets, name) for name, value in fields.items()}
        line = one_json_line(safe)
        self._logger.log(level, line, extra={"decision": True})
        return safe
