"""The one error tree of the project.

Every failure that crosses a module boundary is one of these; library exceptions (requests,
defusedxml, json) are translated at the client or codec boundary with ``raise ... from exc``.
Each class carries the HTTP status a function-URL reply should use, so handlers map errors to
responses by reading ``exc.http_status`` instead of an if-ladder.

    MediaTaggerError                      500
    ├── ConfigError(variable)             500  bad or missing environment setting
    ├── EventError                        400  platform event or callback input we cannot use
    │   ├── MalformedBodyError            400  body is not valid JSON / XML / base64
    │   │   └── XmlSecurityError          400  DTD, entity or external reference refused
    │   ├── UnauthorizedError             401  callback token missing
    │   ├── ForbiddenError                403  callback token wrong / not for this object
    │   ├── MethodNotAllowedError         405
    │   └── PayloadTooLargeError          413
    ├── RemoteError(service, status, ...) 502  COS or CI answered with an error
    │   ├── CosError
    │   │   └── CosNotFoundError          (404, with or without an error body)
    │   └── CiError
    │       └── CiNotFoundError
    ├── TransportError                    503  connection failure / timeout after retries
    └── DocumentWriteError                503  the result document could not be written

This module must not import anything from the project or from third-party libraries.
"""

from __future__ import annotations

RETRYABLE_HTTP_STATUSES = frozenset({429, 500, 502, 503, 504})


class MediaTaggerError(Exception):
    """Base class: every error raised on purpose by this project."""

    http_status = 500
    retryable = False


class ConfigError(MediaTaggerError):
    """An environment variable is missing, blank or has a value we cannot use."""

    def __init__(self, variable: str, problem: str) -> None:
        super().__init__(f"{variable}: {problem}")
        self.variable = variable
        self.problem = problem


class EventError(MediaTaggerError):
    """The platform event or the callback request cannot be used (client's fault)."""

    http_status = 400


class MalformedBodyError(EventError):
    """The body is not well-formed JSON, XML or base64."""


class XmlSecurityError(MalformedBodyError):
    """XML with a DTD, entity declaration or external reference: refused before expansion."""


class UnauthorizedError(EventError):
    http_status = 401


class ForbiddenError(EventError):
    http_status = 403


class MethodNotAllowedError(EventError):
    http_status = 405


class PayloadTooLargeError(EventError):
    http_status = 413


class RemoteError(MediaTaggerError):
    """COS or CI answered with an HTTP error. ``code`` is the service's error code."""

    http_status = 502
    service = "remote"

    def __init__(
        self,
        status: int,
        code: str,
        message: str = "",
        request_id: str | None = None,
    ) -> None:
        super().__init__(f"{self.service} {status} {code}: {message}".rstrip(": "))
        self.status = status
        self.code = code
        self.message = message
        self.request_id = request_id

    @property
    def retryable(self) -> bool:  # type: ignore[override]
        return self.status in RETRYABLE_HTTP_STATUSES

    @property
    def permanent(self) -> bool:
        """True for 4xx other than 429: retrying the same request cannot succeed."""
        return 400 <= self.status < 500 and self.status != 429


class CosError(RemoteError):
    service = "cos"


class CosNotFoundError(CosError):
    """404 from COS (HEAD answers 404 without a body; the SDK calls it NoSuchResource)."""


class CiError(RemoteError):
    service = "ci"


class CiNotFoundError(CiError):
    pass


class TransportError(MediaTaggerError):
    """No usable HTTP answer: DNS, connect, TLS, read timeout, reset; after retries."""

    http_status = 503
    retryable = True


class DocumentWriteError(MediaTaggerError):
    """The result document could not be read or written (COS error or no answer): the tags are
    not written either, so a later attempt (reconcile) writes both."""

    http_status = 503
    retryable = True
