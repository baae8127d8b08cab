"""The fake Tencent Cloud the deploy tool talks to in tests, served through ``responses``.

The official SDK builds and signs every API 3.0 request for real; ``responses`` hands it to
``FakeCloud``, which checks the request as the platform would (POST /, Content-Type exactly
application/json, X-TC-Action/-Version/-Region, a TC3 Authorization for the right service, the
parameters each action accepts), dispatches to ``FakeScf``/``FakeCam`` and answers with exactly
``application/json``. CI's /mediabucket XML calls are checked for a COS-style signature.
Every call is logged as (service, action, params) for the tests' exact call lists; anything a
real platform would refuse is a violation (the ``cloud`` fixture fails the test on one).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import responses

from tests.deploy_fake_cam import FakeCam
from tests.deploy_fake_scf import REGION, FakeApiError, FakeScf

SECRET_ID = "AKIDdeploytest0123456789"
SECRET_KEY = "deploy-test-secret-key-0123456789abcdef"
SCF_URL = "https://scf.tencentcloudapi.com/"
CAM_URL = "https://cam.tencentcloudapi.com/"
CI_LIST_URL = f"https://ci.{REGION}.myqcloud.com/mediabucket"
VERSIONS = {"scf": "2018-04-16", "cam": "2019-01-16"}
READ_PREFIXES = ("Get", "List", "GET ")


class FakeCloud:
    """State and call log of the fake SCF, CAM and CI."""

    def __init__(self, bucket: str = "media-uploads-1250000000") -> None:
        self.bucket = bucket
        self.scf = FakeScf()
        self.cam = FakeCam()
        self.media_buckets: set[str] = set()
        self.media_enable_error: str | None = None
        self.calls: list[tuple[str, str, dict[str, Any]]] = []
        self.violations: list[str] = []
        self.failures: dict[str, list[str]] = {}

    # --- what tests look at -------------------------------------------------------------------
    def actions(self) -> list[str]:
        return [action for _, action, _ in self.calls]

    def writes(self) -> list[str]:
        return [action for action in self.actions() if not action.startswith(READ_PREFIXES)]

    def params(self, action: str) -> list[dict[str, Any]]:
        return [params for _, name, params in self.calls if name == action]

    def fail_next(self, action: str, code: str, times: int = 1) -> None:
        self.failures.setdefault(action, []).extend([code] * times)

    def reset_log(self) -> None:
        self.calls.clear()

    # --- wiring -------------------------------------------------------------------------------
    def install(self, mock: responses.RequestsMock) -> None:
        for url, service in ((SCF_URL, "scf"), (CAM_URL, "cam")):
            mock.add_callback(
                responses.POST, url, callback=self._api(service), content_type="application/json"
            )
        mock.add_callback(
            responses.GET, CI_LIST_URL, callback=self._ci_list, content_type="application/xml"
        )
        enable_url = f"https://{self.bucket}.ci.{REGION}.myqcloud.com/mediabucket"
        mock.add_callback(
            responses.POST, enable_url, callback=self._ci_enable, content_type="application/xml"
        )

    def _violation(self, text: str) -> tuple[int, dict[str, str], str]:
        self.violations.append(text)
        return _error("FakeViolation", text)

    def _check_headers(self, service: str, request: Any) -> str | None:
        headers = request.headers
        expected_region = REGION if service == "scf" else None
        problems = [
            headers.get("Content-Type") != "application/json" and "Content-Type",
            headers.get("X-TC-Version") != VERSIONS[service] and "X-TC-Version",
            headers.get("X-TC-Region") != expected_region and "X-TC-Region",
            not str(headers.get("Authorization", "")).startswith(
                f"TC3-HMAC-SHA256 Credential={SECRET_ID}/"
            )
            and "Authorization",
            f"/{service}/tc3_request" not in str(headers.get("Authorization")) and "scope",
        ]
        found = [problem for problem in problems if problem]
        return ", ".join(found) if found else None

    def _api(self, service: str) -> Any:
        handler = self.scf if service == "scf" else self.cam

        def callback(request: Any) -> tuple[int, dict[str, str], str]:
            action = str(request.headers.get("X-TC-Action"))
            params = json.loads(request.body or b"{}")
            self.calls.append((service, action, params))
            bad_headers = self._check_headers(service, request)
            if bad_headers:
                return self._violation(f"{action}: bad {bad_headers}")
            accepted, required = handler.PARAMETERS.get(action, (None, set()))
            if accepted is None:
                return self._violation(f"{service} action {action} is not faked")
            unknown, missing = set(params) - accepted, required - set(params)
            if unknown or missing:
                return self._violation(
                    f"{action}: unknown {sorted(unknown)} missing {sorted(missing)}"
                )
            if self.failures.get(action):
                return _error(self.failures[action].pop(0), "injected")
            try:
                body = getattr(handler, action)(params)
            except FakeApiError as exc:
                return _error(exc.code, exc.message)
            return 200, {}, json.dumps({"Response": {**body, "RequestId": "req-fake"}})

        return callback

    def _check_ci(self, request: Any, action: str) -> str | None:
        self.calls.append(("ci", action, dict(parse_qsl(urlsplit(request.url).query))))
        if not str(request.headers.get("Authorization", "")).startswith(
            f"q-sign-algorithm=sha1&q-ak={SECRET_ID}&"
        ):
            self.violations.append(f"{action}: not COS-signed")
            return "unsigned"
        return None

    def _ci_list(self, request: Any) -> tuple[int, dict[str, str], str]:
        if self._check_ci(request, "GET /mediabucket"):
            return 403, {}, "<Error><Code>AccessDenied</Code></Error>"
        items = "".join(
            f"<MediaBucketList><BucketId>{name}</BucketId><Name>{name}</Name>"
            f"<Region>{REGION}</Region></MediaBucketList>"
            for name in sorted(self.media_buckets)
        )
        count = f"<TotalCount>{len(self.media_buckets)}</TotalCount>"
        body = f"<Response><RequestId>r</RequestId>{count}{items}</Response>"
        return 200, {}, body

    def _ci_enable(self, request: Any) -> tuple[int, dict[str, str], str]:
        if self._check_ci(request, "POST /mediabucket"):
            return 403, {}, "<Error><Code>AccessDenied</Code></Error>"
        if self.media_enable_error:
            code = self.media_enable_error
            return 400, {}, f"<Error><Code>{code}</Code><Message>bind it first</Message></Error>"
        self.media_buckets.add(self.bucket)
        body = f"<Response><MediaBucket><Name>{self.bucket}</Name></MediaBucket></Response>"
        return 200, {}, body


def _error(code: str, message: str) -> tuple[int, dict[str, str], str]:
    body = {"Response": {"Error": {"Code": code, "Message": message}, "RequestId": "req-fake"}}
    return 200, {}, json.dumps(body)


def served_cloud() -> Iterator[FakeCloud]:
    """For a fixture: a FakeCloud behind ``responses`` (every other URL is refused), and after
    the test, no request the platform would have refused."""
    cloud = FakeCloud()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        cloud.install(mock)
        yield cloud
    assert cloud.violations == []
