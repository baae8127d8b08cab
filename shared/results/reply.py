"""The callback's answer: HTTP status, the JSON summary CI receives, and its one decision log line.

Outcomes: ``tagged`` (PUT sent), ``unchanged`` (the object already carries exactly this result; a
replay costs no write), ``skipped`` (deliberately not written: unknown-job, not-media-info,
not-finished, unknown-provenance, object-gone, stale, tag-limit), ``ignored`` (not a MediaInfo
TaskFinish), ``rejected`` (4xx: the caller's fault) and ``error`` (5xx: ours or upstream; 503
when retrying later can help). Replies to the caller never carry upstream error text, tokens
or secrets.
"""

from __future__ import annotations

import logging
from typing import Any

from shared.decision_log import DecisionLog
from shared.errors import (
    ConfigError,
    DocumentWriteError,
    EventError,
    ForbiddenError,
    MalformedBodyError,
    MediaTaggerError,
    MethodNotAllowedError,
    PayloadTooLargeError,
    RemoteError,
    TransportError,
    UnauthorizedError,
    XmlSecurityError,
)
from shared.records import record

RETRY_LATER_STATUS = 503
# Most specific class first is not needed: the reason is looked up along the exception's MRO.
_ERROR_REASONS: dict[type[MediaTaggerError], str] = {
    XmlSecurityError: "xml-refused",
    MalformedBodyError: "malformed-body",
    UnauthorizedError: "unauthorized",
    ForbiddenError: "forbidden",
    MethodNotAllowedError: "method-not-allowed",
    PayloadTooLargeError: "too-large",
    EventError: "bad-request",
    ConfigError: "configuration",
    RemoteError: "upstream-error",
    TransportError: "upstream-unavailable",
    DocumentWriteError: "result-document",
    MediaTaggerError: "internal",
}
_CLIENT_SAFE = (EventError,)  # only these messages are echoed back to the caller


@record
class CallbackReply:
    status: int
    outcome: str
    reason: str
    job_id: str | None = None
    key: str | None = None
    tags_written: int = 0
    dropped: tuple[str, ...] = ()
    detail: str | None = None
    public_detail: bool = True

    def summary(self) -> dict[str, Any]:
        """The JSON body of the reply."""
        body: dict[str, Any] = {
            "outcome": self.outcome,
            "reason": self.reason,
            "job_id": self.job_id,
            "key": self.key,
            "tags_written": self.tags_written,
            "dropped": list(self.dropped),
        }
        if self.detail and self.public_detail:
            body["detail"] = self.detail
        return body

    def log_to(self, log: DecisionLog, *, bucket: str | None, ms: int | None, **extra: Any) -> None:
        """One decision line; ``extra`` adds fields (e.g. which token and secret verified)."""
        level = logging.ERROR if self.status >= 500 else logging.INFO
        if 400 <= self.status < 500:
            level = logging.WARNING
        log.decision(
            self.outcome,
            bucket=bucket,
            key=self.key,
            job_id=self.job_id,
            reason=self.reason,
            ms=ms,
            level=level,
            status=self.status,
            detail=self.detail,
            tags_written=self.tags_written,
            dropped=list(self.dropped),
            **extra,
        )


def skipped(
    reason: str,
    detail: str,
    job_id: str | None = None,
    key: str | None = None,
    *,
    dropped: tuple[str, ...] = (),
) -> CallbackReply:
    """A deliberate 200 without a write; ``reason`` is a short code, ``detail`` says more."""
    return CallbackReply(200, "skipped", reason, job_id, key, 0, dropped, detail)


def ignored(detail: str) -> CallbackReply:
    """200 for a notice that is not about a finished MediaInfo job: nothing to do."""
    return CallbackReply(200, "ignored", "not-media-info-task", detail=detail)


def unchanged(
    status_value: str, job_id: str, key: str, *, dropped: tuple[str, ...] = ()
) -> CallbackReply:
    """200 without a write: the object already carries exactly this result (a replay)."""
    return CallbackReply(200, "unchanged", status_value, job_id, key, 0, dropped)


def error_reason(exc: MediaTaggerError) -> str:
    return next(_ERROR_REASONS[kind] for kind in type(exc).__mro__ if kind in _ERROR_REASONS)


def error_reply(
    exc: MediaTaggerError, *, job_id: str | None = None, key: str | None = None
) -> CallbackReply:
    """4xx for the caller's mistakes, 503 for transient trouble (try again), else the class's."""
    status = RETRY_LATER_STATUS if exc.retryable else exc.http_status
    outcome = "rejected" if status < 500 else "error"
    return CallbackReply(
        status,
        outcome,
        error_reason(exc),
        job_id,
        key,
        detail=str(exc)[:300],
        public_detail=isinstance(exc, _CLIENT_SAFE),
    )
