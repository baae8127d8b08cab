"""From one parsed request to one reply: route by Host, inject faults, verify the signature, answer.

``<bucket>.cos.<region>.myqcloud.com`` goes to COS, ``<bucket>.ci.<region>.myqcloud.com`` to CI;
``/jobs``, ``/inventorytriggerjob`` and queue paths on a COS host also go to CI
(cos-python-sdk-v5 in IP/Port mode sends CI calls with the COS host name). Other hosts reach the
admin endpoints under ``/_emulator/`` or get an error. A path that is not UTF-8 is refused
before the signature check, an object key that breaks COS's key rules (``emulator.keys``) after
it. Every COS/CI reply gets the service's request-id and Server headers, the configured latency
and any injected delay. This module does no socket I/O.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from emulator.auth import EmulatorCredentials, SignedRequest, verify_request
from emulator.faults import FAULT_CODES, Faults
from emulator.keys import KeyRules, uri_problem
from emulator.wire import ApiRequest, Reply, ServiceError, new_request_id
from emulator.xmlreply import XML_CONTENT_TYPE, ci_error, cos_error

LOG = logging.getLogger(__name__)
_BUCKET_HOST = re.compile(
    r"^(?P<bucket>[a-z0-9](?:[a-z0-9-]*[a-z0-9])?-[0-9]+)\.(?P<service>cos|ci)\."
    r"(?P<region>[a-z0-9-]+)\.(?:myqcloud\.com|tencentcos\.cn)$"
)
ADMIN_PREFIX = "/_emulator/"
# On a COS host only these queue paths are CI's (GET /queue, PUT /queue/<queue id>), so an object
# such as "queue/clip.mp4" stays a COS object; every /jobs path is CI's, as before.
_CI_QUEUE_PATH = re.compile(r"/queue(?:/p[0-9a-f]{32})?")
_FAULT_MESSAGES = {
    429: "Please reduce your request rate.",
    500: "We encountered an internal error. Please try again.",
    503: "Service is unavailable. Please try again.",
}


@dataclass(frozen=True)
class Route:
    kind: str  # "cos", "ci", "admin" or "unknown"
    bucket: str = ""
    region: str = ""
    host_service: str = ""  # the service named by the host ("cos" for /jobs on a COS host)


def classify(host_header: str, path: str) -> Route:
    host = host_header.strip().lower()
    host = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    match = _BUCKET_HOST.match(host)
    if match is None:
        return Route("admin" if path.startswith(ADMIN_PREFIX) else "unknown")
    service = match["service"]
    if service == "cos" and (
        path == "/jobs"
        or path.startswith(("/jobs/", "/inventorytriggerjob/"))
        or path == "/inventorytriggerjob"
        or _CI_QUEUE_PATH.fullmatch(path)
    ):
        service = "ci"
    return Route(service, match["bucket"], match["region"], match["service"])


class Router:
    """Answers COS and CI requests; ``answer_admin`` is injected by the server."""

    def __init__(
        self,
        *,
        credentials: EmulatorCredentials,
        faults: Faults,
        cos: Callable[[ApiRequest], Reply],
        ci: Callable[[ApiRequest], Reply],
        admin: Callable[[ApiRequest], Reply],
        scf: Callable[[ApiRequest], Reply] | None = None,
        clock: Callable[[], float] = time.time,
        latency_s: float = 0.0,
        sleep: Callable[[float], None] = time.sleep,
        key_rules: KeyRules | None = None,
    ) -> None:
        self._credentials = credentials
        self._key_rules = key_rules or KeyRules()
        self._faults = faults
        self._apis = {"cos": cos, "ci": ci}
        self._admin = admin
        self._scf = scf
        self._clock = clock
        self._latency_s = latency_s
        self._sleep = sleep

    def answer(self, request: ApiRequest, route: Route) -> Reply:
        if route.kind == "unknown" and "x-tc-action" in request.headers and self._scf:
            return self._scf(request)  # Tencent Cloud API 3.0 (the functions' SCF Invoke)
        if route.kind == "admin":
            return self._admin(request)
        if route.kind == "unknown":
            return self._unknown_host(request)
        request.service, request.bucket, request.region = route.kind, route.bucket, route.region
        stalled = self._faults.stall_for(route.kind)
        if stalled > 0:
            self._sleep(stalled)
            return self.error_reply(
                request, ServiceError(503, FAULT_CODES[503], _FAULT_MESSAGES[503])
            )
        reply = self._answer_api(request)
        self._add_service_headers(request, reply)
        pause = self._latency_s + self._faults.response_delay(route.kind)
        if pause > 0:
            self._sleep(pause)
        return reply

    def _answer_api(self, request: ApiRequest) -> Reply:
        refusal = self._refusal(request)
        if refusal is not None:
            return self.error_reply(request, refusal)
        try:
            return self._apis[request.service](request)
        except ServiceError as exc:
            return self.error_reply(request, exc)
        except Exception:
            LOG.exception("%s %s failed", request.method, request.service)
            return self.error_reply(
                request, ServiceError(500, "InternalError", _FAULT_MESSAGES[500])
            )

    def _refusal(self, request: ApiRequest) -> ServiceError | None:
        """Why the request is refused before its API sees it: an injected fault, a path that is
        not UTF-8, a bad signature or token, or (after those) an object key COS refuses."""
        injected = self._faults.take_failure(request.service)
        if injected is not None:
            LOG.info("injected %s into %s %s", injected, request.method, request.service)
            return ServiceError(injected, FAULT_CODES[injected], _FAULT_MESSAGES[injected])
        bad_uri = uri_problem(request.path)
        if bad_uri is not None:
            return bad_uri
        signed = SignedRequest(request.method, request.path, request.query, request.headers)
        failure = verify_request(self._credentials, signed, self._clock(), service=request.service)
        if failure is not None:
            status, code = failure.status_and_code(request.service)
            LOG.info("refused %s %s: %s", request.method, request.service, code)
            return ServiceError(status, code, failure.message)
        if request.service == "cos" and request.key:
            return self._key_rules.problem(request.key)
        return None

    def error_reply(self, request: ApiRequest, error: ServiceError) -> Reply:
        trace_id = new_request_id()
        if request.service == "ci":
            body = ci_error(error.code, error.message, request.request_id, trace_id)
            headers = [("Content-Type", XML_CONTENT_TYPE), ("x-ci-trace-id", trace_id)]
        else:
            resource = f"{request.bucket}.cos.{request.region}.myqcloud.com{request.raw_path}"
            body = cos_error(error.code, error.message, resource, request.request_id, trace_id)
            headers = [("Content-Type", XML_CONTENT_TYPE)]
        if request.method == "HEAD":
            # HEAD errors carry no body (the SDK relies on it)
            return Reply(error.status, list(error.headers))
        return Reply(error.status, headers + list(error.headers), body)

    def _unknown_host(self, request: ApiRequest) -> Reply:
        host = request.headers.get("host", "")
        if ".ci." in host:
            request.service = "ci"
            error = ServiceError(400, "InvalidHost", f"{host!r} is not a CI bucket host")
        else:
            request.service = "cos"
            error = ServiceError(404, "NoSuchBucket", f"{host!r} is not a COS bucket host")
        reply = self.error_reply(request, error)
        self._add_service_headers(request, reply)
        return reply

    @staticmethod
    def _add_service_headers(request: ApiRequest, reply: Reply) -> None:
        if request.service == "ci":
            reply.headers += [("x-ci-request-id", request.request_id), ("Server", "tencent-ci")]
        else:
            reply.headers += [("x-cos-request-id", request.request_id), ("Server", "tencent-cos")]
