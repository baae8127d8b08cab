"""The emulator's SCF API 3.0 endpoint: ``Invoke`` of a known function, asynchronously.

The functions reach SCF's API (scf.tencentcloudapi.com) through tencentcloud-sdk-python-common's
``CommonClient``; with ``MEDIA_TAGGER_ENDPOINT_URL`` set, that request comes here: ``POST /`` with
``X-TC-Action``, ``X-TC-Version: 2018-04-16`` and a TC3 signature (``emulator.scf.tc3``). Only
``Invoke`` with ``InvocationType=Event`` is served (what the upload function's hand-on sends): its
``ClientContext`` (a JSON object, at most 128 KB as SCF documents for async events) is handed to
the function's async invoker. Answers are API 3.0 JSON (HTTP 200, ``Response.Error`` on refusal,
``Content-Type: application/json`` exactly, as the SDK requires). Invocations are recorded.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from emulator.scf import tc3
from emulator.wire import ApiRequest, Reply

API_VERSION = "2018-04-16"
MAX_ASYNC_EVENT_BYTES = 128 * 1024
MAX_BODY_BYTES = 1024 * 1024
AsyncEntry = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class ApiCredentials:
    secret_id: str
    secret_key: str
    token: str | None = None


class ApiError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def _answer(payload: Mapping[str, Any]) -> Reply:
    body = json.dumps({"Response": {**payload, "RequestId": str(uuid.uuid4())}}).encode()
    return Reply(200, [("Content-Type", "application/json")], body)


class ScfApi:
    """Serves ``Invoke``; functions are registered by name (``register``)."""

    def __init__(
        self, credentials: ApiCredentials, *, clock: Callable[[], float] = time.time
    ) -> None:
        self._credentials = credentials
        self._clock = clock
        self._functions: dict[tuple[str, str], AsyncEntry] = {}
        self._lock = threading.Lock()
        self.invocations: list[dict[str, Any]] = []  # the params of every accepted Invoke

    def register(self, name: str, entry: AsyncEntry, namespace: str = "default") -> None:
        self._functions[(namespace, name)] = entry

    def handle(self, request: ApiRequest) -> Reply:
        request.service = "scf"
        try:
            body = request.body.read_all(MAX_BODY_BYTES)
            self._authenticate(request, body)
            return self._dispatch(request, body)
        except ApiError as exc:
            return _answer({"Error": {"Code": exc.code, "Message": exc.message}})

    def _authenticate(self, request: ApiRequest, body: bytes) -> None:
        if request.method != "POST":
            raise ApiError("UnsupportedProtocol", "only POST is supported here")
        if request.headers.get("content-type", "") != "application/json":
            raise ApiError("InvalidParameter", "Content-Type must be application/json")
        creds = self._credentials
        failure = tc3.verify(
            request.headers,
            body,
            secret_id=creds.secret_id,
            secret_key=creds.secret_key,
            token=creds.token,
            now=self._clock(),
        )
        if failure is not None:
            raise ApiError(*failure)

    def _dispatch(self, request: ApiRequest, body: bytes) -> Reply:
        action = request.headers.get("x-tc-action", "")
        if request.headers.get("x-tc-version") != API_VERSION:
            raise ApiError("InvalidParameterValue", f"unsupported X-TC-Version for {action}")
        if action != "Invoke":
            raise ApiError("InvalidAction", f"the emulator serves Invoke only, not {action[:40]}")
        try:
            params = json.loads(body)
        except ValueError as exc:
            raise ApiError("InvalidParameter", "body is not JSON") from exc
        if not isinstance(params, dict):
            raise ApiError("InvalidParameter", "body is not a JSON object")
        return self._invoke(params)

    def _invoke(self, params: dict[str, Any]) -> Reply:
        name, namespace = params.get("FunctionName"), params.get("Namespace") or "default"
        entry = self._functions.get((str(namespace), str(name)))
        if entry is None:
            raise ApiError("ResourceNotFound.Function", f"function {name!r} not found")
        if params.get("InvocationType") != "Event":
            raise ApiError("InvalidParameterValue", "the emulator serves InvocationType=Event")
        context = params.get("ClientContext")
        if not isinstance(context, str):
            raise ApiError("InvalidParameterValue.ClientContext", "ClientContext is missing")
        if len(context.encode("utf-8")) > MAX_ASYNC_EVENT_BYTES:
            raise ApiError("InvalidParameter.RequestTooLarge", "async events are at most 128 KB")
        try:
            event = json.loads(context)
        except ValueError as exc:
            raise ApiError("InvalidParameterValue.ClientContext", "not JSON") from exc
        if not isinstance(event, dict):
            raise ApiError("InvalidParameterValue.ClientContext", "not a JSON object")
        with self._lock:
            self.invocations.append(params)
        entry(event)
        return _answer({"Result": {"FunctionRequestId": str(uuid.uuid4()), "RetMsg": ""}})
