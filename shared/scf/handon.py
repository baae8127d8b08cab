"""Hand records on: the running function invokes itself asynchronously (SCF ``Invoke``, Event).

``ports.RecordHandOn`` over SCF's API 3.0 (``scf`` 2018-04-16 ``Invoke`` with
``InvocationType=Event``; the event travels as ``ClientContext``, at most 128 KB; SCF has no delayed
delivery, so the receiver waits for the event's ``notBefore`` itself). Sent with
tencentcloud-sdk-python-common's ``CommonClient`` (TC3 signing, through requests) under the role's
credentials, imported only when a hand-on happens so cold starts do not pay for it. The function's
identity comes from the SCF context (function_name, namespace, function_version) and
TENCENTCLOUD_REGION; the role needs ``scf:InvokeFunction`` on this function
(deploy/cam-policy.json). ``MEDIA_TAGGER_ENDPOINT_URL`` sends the call to the local emulator
instead. Throttling and network errors are retried a few times with a short pause; then
``HandOnError``. Never logs the payload's credentials (it carries none) or the Authorization header.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from shared.errors import MediaTaggerError
from shared.records import record

if TYPE_CHECKING:
    from tencentcloud.common.credential import Credential

SCF_SERVICE = "scf"
SCF_API_VERSION = "2018-04-16"
DEFAULT_QUALIFIER = "$LATEST"
ATTEMPTS = 3
PAUSE_S = 0.3
REQUEST_TIMEOUT_S = 5
# tencentcloud-sdk-python-common's own codes for "try again" (StandardRetryer retries these).
_RETRYABLE_PREFIXES = ("ClientNetworkError", "ServerNetworkError", "RequestLimitExceeded")
_RETRYABLE_CODES = frozenset({"InternalError", "FailedOperation.InvokeFunction"})


class HandOnError(MediaTaggerError):
    """SCF did not accept the self-invocation."""

    http_status = 503
    retryable = True


@record
class FunctionIdentity:
    """Which function to invoke: this one, as SCF's context and environment describe it."""

    name: str
    namespace: str
    qualifier: str
    region: str


def _text(source: Mapping[str, Any], name: str) -> str | None:
    value = source.get(name)
    return value.strip() if isinstance(value, str) and value.strip() else None


def function_identity(context: object, environ: Mapping[str, str]) -> FunctionIdentity | None:
    """This function's identity, or None when the context and environment do not name it."""
    ctx: Mapping[str, Any] = context if isinstance(context, Mapping) else {}
    name = _text(ctx, "function_name") or _text(environ, "SCF_FUNCTIONNAME")
    region = _text(environ, "TENCENTCLOUD_REGION") or _text(ctx, "tencentcloud_region")
    if name is None or region is None:
        return None
    namespace = _text(ctx, "namespace") or _text(environ, "SCF_NAMESPACE") or "default"
    qualifier = _text(ctx, "function_version") or DEFAULT_QUALIFIER
    return FunctionIdentity(name, namespace, qualifier, region)


def _retryable(code: str) -> bool:
    return code.startswith(_RETRYABLE_PREFIXES) or code in _RETRYABLE_CODES


class SelfInvoke:
    """Invokes ``identity`` asynchronously with a hand-on event."""

    def __init__(
        self,
        credentials: Callable[[], Credential],
        identity: FunctionIdentity,
        *,
        endpoint_url: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._credentials = credentials
        self._identity = identity
        self._endpoint_url = endpoint_url
        self._sleep = sleep

    def _client(self) -> Any:
        from tencentcloud.common.common_client import CommonClient  # noqa: PLC0415 -- cold start
        from tencentcloud.common.profile.client_profile import ClientProfile  # noqa: PLC0415
        from tencentcloud.common.profile.http_profile import HttpProfile  # noqa: PLC0415

        http = HttpProfile(reqTimeout=REQUEST_TIMEOUT_S)
        if self._endpoint_url:
            parts = urlsplit(self._endpoint_url)
            http = HttpProfile(
                endpoint=parts.netloc, protocol=parts.scheme, reqTimeout=REQUEST_TIMEOUT_S
            )
        profile = ClientProfile(httpProfile=http)
        credential = self._credentials()
        return CommonClient(
            SCF_SERVICE, SCF_API_VERSION, credential, self._identity.region, profile=profile
        )

    def _params(self, event: Mapping[str, Any]) -> dict[str, str]:
        return {
            "FunctionName": self._identity.name,
            "Namespace": self._identity.namespace,
            "Qualifier": self._identity.qualifier,
            "InvocationType": "Event",
            "ClientContext": json.dumps(event, ensure_ascii=False, separators=(",", ":")),
        }

    def hand_on(self, event: Mapping[str, Any], *, deadline: float | None = None) -> None:
        from tencentcloud.common.exception.tencent_cloud_sdk_exception import (  # noqa: PLC0415
            TencentCloudSDKException,
        )

        params = self._params(event)
        for attempt in range(1, ATTEMPTS + 1):
            try:
                answer = self._client().call_json("Invoke", params)
            except TencentCloudSDKException as exc:
                code = str(exc.get_code() or "Unknown")
                if attempt < ATTEMPTS and _retryable(code):
                    self._sleep(PAUSE_S * attempt)
                    continue
                raise HandOnError(f"SCF Invoke refused: {code}") from exc
            _check_answer(answer)
            return


def _check_answer(answer: Any) -> None:
    """The SDK raises only for an exact JSON content type; check the body's Error too."""
    response = answer.get("Response") if isinstance(answer, Mapping) else None
    if not isinstance(response, Mapping):
        raise HandOnError("SCF Invoke answered without a Response")
    error = response.get("Error")
    if isinstance(error, Mapping):
        raise HandOnError(f"SCF Invoke refused: {str(error.get('Code'))[:80]}")
