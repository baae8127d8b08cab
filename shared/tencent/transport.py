"""Signed HTTP to COS and CI: headers, timeouts, retries with backoff, error translation.

One ``request`` call = up to ``max_attempts`` signed attempts. Retried: connection errors,
timeouts and HTTP 429/500/502/503/504, with exponential backoff and full jitter, never past the
caller's deadline. Every other HTTP error becomes CosError/CiError (NotFound on 404) at once.
A POST /jobs retried after a read timeout may create a second MediaInfo job; that is accepted
(the callback side is idempotent) rather than losing the submission.

Why not urllib3's ``Retry``: it sleeps with ``time.sleep`` (no injected sleep, so tests would
sleep), knows no absolute deadline, and re-sends the *same* prepared request, so the signature
and the token would not be refreshed per attempt; it also cannot parse COS error bodies.

Why the adapter gets the prepared request directly, not ``Session.request(..., auth=signer,
allow_redirects=False)``: ``python -m benchmarks.machinery`` (docs/performance.md "Machinery")
measures +0.16 ms CPU per warm upload event with Session.request (1.26 -> 1.42 ms, +13 %) and
+0.61 ms per callback (+14 %), which takes the upload function's warm CPU from 0.94x to over the
1.0x parity budget of ``make bench``; in the cloud it is ~1 % of an invocation's billed time.
tests/test_transport_fast_path.py pins what this relies on in requests; the client suite also
passes with the Session.request variant (``benchmarks.variants``): reverting is one method.

This module must not log headers, the Authorization value, tokens or request bodies.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping
from typing import Literal

import requests
import urllib3
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict
from tencentcloud.common.credential import Credential

from shared.errors import (
    RETRYABLE_HTTP_STATUSES,
    CiError,
    CiNotFoundError,
    CosError,
    CosNotFoundError,
    RemoteError,
    TransportError,
)
from shared.records import record
from shared.tencent.endpoints import Endpoint, encode_query, sign_path, wire_path
from shared.tencent.signing import DEFAULT_EXPIRE_S, CosRequestSigner
from shared.tencent.xml_answers import parse_error_body

Service = Literal["cos", "ci"]

logger = logging.getLogger(__name__)

USER_AGENT = "cos-media-tagger/0.1"
XML_CONTENT_TYPE = "application/xml"
TOKEN_HEADERS: Mapping[str, str] = {"cos": "x-cos-security-token", "ci": "x-ci-security-token"}
REQUEST_ID_HEADERS: Mapping[str, str] = {"cos": "x-cos-request-id", "ci": "x-ci-request-id"}
# A read timeout cut down to the time left before the deadline never goes below this.
MIN_READ_TIMEOUT_S = 0.5
_RETRYABLE_EXCEPTIONS = (requests.ConnectionError, requests.Timeout)
_NO_BODY_METHODS = frozenset({"GET", "HEAD"})  # requests sends Content-Length: 0 for the others

_shared_session: requests.Session | None = None


def shared_session() -> requests.Session:
    """One keep-alive Session per warm SCF instance, created on first use."""
    global _shared_session  # noqa: PLW0603 -- a lazily built per-process cache is the point
    if _shared_session is None:
        session = requests.Session()
        # trust_env=False: skip the per-request proxy / netrc / CA-bundle environment lookups;
        # the function talks to Tencent endpoints directly and signs every request itself.
        session.trust_env = False
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=16, max_retries=0)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        _shared_session = session
    return _shared_session


def _remote_error(service: Service, response: requests.Response) -> RemoteError:
    status = response.status_code
    parsed = parse_error_body(response.content) if response.content else None
    if parsed is not None and parsed.code:
        code, message = parsed.code, parsed.message
    elif status == 404:
        code, message = "NoSuchResource", "the resource does not exist"  # SDK's name for it
    else:
        code, message = f"HTTP{status}", response.reason or ""
    request_id = (parsed.request_id if parsed else None) or response.headers.get(
        REQUEST_ID_HEADERS[service]
    )
    if service == "cos":
        cos_kind = CosNotFoundError if status == 404 else CosError
        return cos_kind(status, code, message, request_id)
    ci_kind = CiNotFoundError if status == 404 else CiError
    return ci_kind(status, code, message, request_id)


@record
class HttpCall:
    """One logical request, before signing. ``path`` is raw; ``wire_path`` is computed once."""

    service: Service
    method: str
    host: str
    path: str
    params: dict[str, str]
    headers: dict[str, str]
    body: bytes | None

    @property
    def sign_path(self) -> str:
        return sign_path(self.path)

    @property
    def wire_path(self) -> str:
        return wire_path(self.path)


class Transport:
    """Sends signed requests; ``path`` is the raw object key or API path (e.g. ``/jobs``)."""

    def __init__(
        self,
        credentials: Callable[[], Credential],
        *,
        endpoint: Endpoint | None = None,
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
        max_attempts: int = 4,
        base_delay_s: float = 0.2,
        max_delay_s: float = 4.0,
        connect_timeout_s: float = 3.05,
        read_timeout_s: float = 10.0,
        sign_expire_s: int = DEFAULT_EXPIRE_S,
    ) -> None:
        self._credentials = credentials
        self._endpoint = endpoint or Endpoint()
        self._session = session
        self._clock = clock  # wall time: signs requests and measures deadlines
        self._sleep = sleep
        self._jitter = jitter
        self._max_attempts = max(1, max_attempts)
        self._base_delay_s = base_delay_s
        self._max_delay_s = max_delay_s
        self._connect_timeout_s = connect_timeout_s
        self._read_timeout_s = read_timeout_s
        self._sign_expire_s = sign_expire_s

    def request(
        self,
        service: Service,
        method: str,
        host: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        deadline: float | None = None,
    ) -> requests.Response:
        """One logical call; returns a < 400 response or raises RemoteError / TransportError.

        ``host`` is the real virtual host (``shared.tencent.endpoints.cos_host`` / ``ci_host``),
        ``path`` the raw key or API path: it is signed raw and encoded for the wire here, once.
        """
        call = HttpCall(service, method, host, path, dict(params or {}), dict(headers or {}), body)
        for attempt in range(self._max_attempts):
            try:
                response = self._send_once(call, deadline)
            except _RETRYABLE_EXCEPTIONS as exc:
                delay = self._retry_delay(attempt, deadline)
                if delay is None:
                    raise TransportError(f"{method} {host}: {type(exc).__name__}") from exc
                self._log_retry(call, type(exc).__name__, attempt, delay)
            except (requests.RequestException, urllib3.exceptions.HTTPError) as exc:
                # urllib3 errors requests did not wrap, e.g. a Content-Length "1, 2" (InvalidHeader)
                raise TransportError(f"{method} {host}: {type(exc).__name__}") from exc
            else:
                if response.status_code < 400:
                    return response
                error = _remote_error(service, response)
                delay = self._retry_delay(attempt, deadline)
                if response.status_code not in RETRYABLE_HTTP_STATUSES or delay is None:
                    raise error
                self._log_retry(call, f"{error.status} {error.code}", attempt, delay)
            self._sleep(delay)
        raise AssertionError("unreachable: the last attempt always returns or raises")

    def _send_once(self, call: HttpCall, deadline: float | None) -> requests.Response:
        session = self._session or shared_session()
        prepared = self._prepare(call, session)
        # The adapter directly, not Session.request: the request is complete already, so the
        # session's merging of cookies, hooks, auth and settings and requests' URL re-parsing are
        # pure per-call cost (~13 % of a warm invocation's CPU; the module docstring says more).
        response = session.get_adapter(prepared.url or "").send(
            prepared, timeout=(self._connect_timeout_s, self._read_timeout(deadline))
        )
        _ = response.content  # read now, as Session.send does: the connection goes back to the pool
        return response

    def _prepare(self, call: HttpCall, session: requests.Session) -> requests.PreparedRequest:
        """The signed request exactly as Session.request would build it (same headers, body)."""
        credential = self._credentials()  # per attempt: role keys rotate
        defaults = {
            name: value for name, value in session.headers.items() if isinstance(value, str)
        }
        headers: CaseInsensitiveDict[str] = CaseInsensitiveDict(defaults)
        headers.update({"Host": call.host, "User-Agent": USER_AGENT})
        if call.body is not None:
            headers["Content-Type"] = XML_CONTENT_TYPE
            headers["Content-Length"] = str(len(call.body))
        elif call.method not in _NO_BODY_METHODS:
            headers["Content-Length"] = "0"
        if credential.token:
            headers[TOKEN_HEADERS[call.service]] = credential.token
        headers.update(call.headers)
        prepared = requests.PreparedRequest()
        prepared.method = call.method
        prepared.url = self._endpoint.url(call.host, call.wire_path, encode_query(call.params))
        prepared.headers = headers
        prepared.body = call.body
        prepared.hooks = {"response": []}
        signer = CosRequestSigner(
            credential, call.sign_path, call.params, self._clock, self._sign_expire_s
        )
        return signer(prepared)

    def _read_timeout(self, deadline: float | None) -> float:
        if deadline is None:
            return self._read_timeout_s
        left = deadline - self._clock()
        return max(MIN_READ_TIMEOUT_S, min(self._read_timeout_s, left))

    def _retry_delay(self, attempt: int, deadline: float | None) -> float | None:
        """Seconds to sleep before the next attempt, or None when no attempt may follow."""
        if attempt + 1 >= self._max_attempts:
            return None
        cap = min(self._max_delay_s, self._base_delay_s * 2.0**attempt)
        delay = self._jitter() * cap  # full jitter
        if deadline is not None and self._clock() + delay > deadline:
            return None
        return delay

    @staticmethod
    def _log_retry(call: HttpCall, reason: str, attempt: int, delay: float) -> None:
        logger.warning(
            "retrying %s %s on %s after %s (attempt %d, sleeping %.3fs)",
            call.method,
            call.wire_path,
            call.host,
            reason,
            attempt + 1,
            delay,
        )
