"""The deploy tool's errors: one small tree, each message saying what is wrong and what to do.

    DeployError                  anything that stops a command (exit status 1)
    ├── SetupError               missing/invalid credentials, target, serverless.yml or zip
    ├── CloudApiError            a Tencent Cloud API 3.0 answer with an error code
    ├── DriftError               something exists and differs; changing it needs a flag
    ├── WaitTimeoutError         a function did not reach Active within the bounded wait
    ├── FunctionFailedError      a function ended in CreateFailed / UpdateFailed / ...
    ├── MediaProcessingError     Cloud Infinite media processing is off and cannot be enabled
    └── RotationError            a secret rotation step that is not allowed yet (or at all)

Messages never contain a secret value: they name variables and resources only.
"""

from __future__ import annotations


class DeployError(Exception):
    """A deploy command cannot go on; ``str(exc)`` is the message for the operator."""


class SetupError(DeployError):
    """Credentials, the target bucket/region, serverless.yml or a built zip is missing or bad."""


class CloudApiError(DeployError):
    """An API 3.0 call answered an error (``code`` is Tencent's error code)."""

    def __init__(
        self, service: str, action: str, code: str, message: str, request_id: str | None = None
    ) -> None:
        suffix = f" (request id {request_id})" if request_id else ""
        super().__init__(f"{service} {action}: {code}: {message}{suffix}")
        self.service = service
        self.action = action
        self.code = code
        self.message = message
        self.request_id = request_id

    def is_code(self, *codes: str) -> bool:
        """Whether the code is one of ``codes`` or a sub-code of one (``A.B`` for ``A``)."""
        return any(self.code == code or self.code.startswith(code + ".") for code in codes)


class DriftError(DeployError):
    """A resource exists and differs from what serverless.yml / cam-policy.json describe."""


class WaitTimeoutError(DeployError):
    """A function stayed in a transitional state past the bounded wait."""


class FunctionFailedError(DeployError):
    """SCF reports a failed state for a function (with its reasons)."""


class MediaProcessingError(DeployError):
    """Media processing is not enabled on the bucket and the tool cannot (or may not) enable it."""


class RotationError(DeployError):
    """A rotate-secret step refused: too early, nothing to finish, or nothing deployed."""
