"""Tencent Cloud API 3.0 calls (SCF 2018-04-16, CAM 2019-01-16) through the official SDK.

``ScfClient``/``CamClient`` (tencentcloud-sdk-python-scf/-cam) build, sign (TC3-HMAC-SHA256) and
send every request; their request models check our parameters first: a name the SDK's model does
not know is refused before anything is sent (the SDK itself would only warn and drop it). Answers
are the ``Response`` object as a dict. Two SDK behaviours are handled here:

* the SDK raises on an error answer only when its Content-Type is exactly ``application/json``;
  any answer whose ``Response`` carries ``Error`` is turned into ``CloudApiError`` here too;
* ``RequestLimitExceeded`` (throttling, e.g. CAM's ~3 QPS on AttachRolePolicy) is retried with
  exponential backoff through the injected ``sleep``; network errors are retried for reads only.

The SDK's debug log prints request bodies (function environments hold the callback secret), so
``CloudApi`` raises that logger to WARNING. Nothing here logs a parameter value.
"""

from __future__ import annotations

import json
import logging
import time
import warnings
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from tencentcloud.cam.v20190116 import cam_client
from tencentcloud.cam.v20190116 import models as cam_models
from tencentcloud.common.credential import Credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.scf.v20180416 import models as scf_models
from tencentcloud.scf.v20180416 import scf_client

from deploy.cloud.credentials import DeployCredentials
from deploy.cloud.errors import CloudApiError, SetupError

logger = logging.getLogger(__name__)

SDK_LOGGER = "tencentcloud_sdk_common"
_MODELS: Mapping[str, Any] = {"scf": scf_models, "cam": cam_models}
THROTTLING_CODES = ("RequestLimitExceeded",)
NETWORK_CODES = ("ClientNetworkError", "ServerNetworkError")
READ_ACTION_PREFIXES = ("Get", "List", "Describe")
REQUEST_TIMEOUT_S = 60


class SdkClient(Protocol):
    """The one method of the SDK's AbstractClient this tool uses."""

    def call_json(self, action: str, params: dict[str, Any]) -> dict[str, Any]: ...


ClientFactory = Callable[[str, DeployCredentials, str], SdkClient]


def sdk_client(service: str, credentials: DeployCredentials, region: str) -> SdkClient:
    """The SDK's product client for ``service`` ("scf" in ``region``; "cam" is global)."""
    credential = Credential(credentials.secret_id, credentials.secret_key, credentials.token)
    profile = ClientProfile(httpProfile=HttpProfile(reqTimeout=REQUEST_TIMEOUT_S), language="en-US")
    if service == "scf":
        client: SdkClient = scf_client.ScfClient(credential, region, profile)
    elif service == "cam":
        client = cam_client.CamClient(credential, "", profile)
    else:
        raise SetupError(f"unknown API service {service!r}")
    return client


def check_parameters(service: str, action: str, params: Mapping[str, Any]) -> None:
    """Refuse an action or a parameter name (at any depth) that the SDK's model does not know."""
    request_class = getattr(_MODELS[service], f"{action}Request", None)
    if request_class is None:
        raise SetupError(f"{service} has no action {action} in the installed SDK")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        request_class().from_json_string(json.dumps(params))
    unknown = [str(warning.message) for warning in caught if "useless" in str(warning.message)]
    if unknown:
        raise SetupError(f"{service} {action}: parameters not in the SDK model: {unknown}")


class CloudApi:
    """One deploying identity's API calls; clients are built on first use."""

    def __init__(
        self,
        credentials: DeployCredentials,
        region: str,
        *,
        client_factory: ClientFactory = sdk_client,
        sleep: Callable[[float], None] = time.sleep,
        max_attempts: int = 6,
        base_delay_s: float = 1.0,
        max_delay_s: float = 16.0,
    ) -> None:
        self._credentials = credentials
        self._region = region
        self._client_factory = client_factory
        self._sleep = sleep
        self._max_attempts = max(1, max_attempts)
        self._base_delay_s = base_delay_s
        self._max_delay_s = max_delay_s
        self._clients: dict[str, SdkClient] = {}
        logging.getLogger(SDK_LOGGER).setLevel(logging.WARNING)

    def _client(self, service: str) -> SdkClient:
        if service not in self._clients:
            self._clients[service] = self._client_factory(service, self._credentials, self._region)
        return self._clients[service]

    def call(self, service: str, action: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """The ``Response`` of one action; CloudApiError after the retries allowed."""
        check_parameters(service, action, params)
        for attempt in range(self._max_attempts):
            outcome = self._attempt(service, action, params)
            if isinstance(outcome, dict):
                return outcome
            if attempt + 1 >= self._max_attempts or not self._retryable(outcome, action):
                raise outcome
            delay = min(self._max_delay_s, self._base_delay_s * 2.0**attempt)
            logger.warning("%s %s: %s, retrying in %.1f s", service, action, outcome.code, delay)
            self._sleep(delay)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _attempt(
        self, service: str, action: str, params: Mapping[str, Any]
    ) -> dict[str, Any] | CloudApiError:
        try:
            answer = self._client(service).call_json(action, dict(params))
        except TencentCloudSDKException as exc:
            code = str(exc.code or "ClientError")
            return CloudApiError(service, action, code, _text(exc.message), exc.requestId)
        body = answer.get("Response") if isinstance(answer, dict) else None
        if not isinstance(body, dict):
            return CloudApiError(service, action, "MalformedResponse", "no Response object")
        error = body.get("Error")
        if isinstance(error, dict):  # the SDK lets these through unless Content-Type is exact
            code = str(error.get("Code") or "UnknownError")
            return CloudApiError(
                service, action, code, _text(error.get("Message")), body.get("RequestId")
            )
        return body

    @staticmethod
    def _retryable(error: CloudApiError, action: str) -> bool:
        if error.is_code(*THROTTLING_CODES):
            return True
        return error.is_code(*NETWORK_CODES) and action.startswith(READ_ACTION_PREFIXES)


def _text(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")[:500]
    return str(value or "")[:500]
