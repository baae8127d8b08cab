"""Helpers for the signing / transport / client tests: vectors, a fake clock, strict HTTP mocks,
and an independent oracle (cos-python-sdk-v5's own CosS3Auth, time frozen) for Authorization.

Test-only: qcloud_cos is imported here as an oracle, never by runtime code.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import requests
import responses
from responses import matchers, registries
from tencentcloud.common.credential import Credential

from shared.tencent.endpoints import Endpoint
from shared.tencent.transport import USER_AGENT, Transport

FIXTURES = Path(__file__).parent / "fixtures"
BUCKET = "examplebucket-1250000000"
REGION = "ap-guangzhou"
COS_HOST = f"{BUCKET}.cos.{REGION}.myqcloud.com"
CI_HOST = f"{BUCKET}.ci.{REGION}.myqcloud.com"
SECRET_ID = "AKIDEXAMPLEq1w2e3r4t5y6u7i8o9p0ASDFGHJ"
SECRET_KEY = "ExampleSecretKey0123456789abcdEF"
TOKEN = "EXAMPLEtmpToken+/=sessiontoken0123456789"
T0 = 1_700_000_060.0  # wall clock at the first attempt (vectors freeze time at start + 60)
DEFAULT_EXPIRE = 900


def load_vectors() -> dict[str, Any]:
    with (FIXTURES / "sign_vectors.json").open(encoding="utf-8") as handle:
        data: dict[str, Any] = json.load(handle)
    return data


def vector(name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(v for v in load_vectors()["vectors"] if v["name"] == name)
    return found


class FakeClock:
    """Wall clock for the transport; ``sleep`` advances it and records the delay."""

    def __init__(self, now: float = T0) -> None:
        self.now = now
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.sleeps.append(seconds)
        self.now += seconds


def make_transport(
    clock: FakeClock | None = None,
    *,
    token: str | None = None,
    endpoint: Endpoint | None = None,
    jitter: float = 1.0,
    credentials: Callable[[], Credential] | None = None,
    **options: Any,
) -> Transport:
    clock = clock or FakeClock()
    credential = Credential(SECRET_ID, SECRET_KEY, token)
    return Transport(
        credentials or (lambda: credential),
        endpoint=endpoint,
        session=requests.Session(),
        clock=clock,
        sleep=clock.sleep,
        jitter=lambda: jitter,
        **options,
    )


@contextmanager
def strict_mock(*, ordered: bool = False) -> Iterator[responses.RequestsMock]:
    """Fail-closed HTTP mock: every registered response must be used, nothing else answers."""
    registry = registries.OrderedRegistry if ordered else registries.FirstMatchRegistry
    mock = responses.RequestsMock(assert_all_requests_are_fired=True, registry=registry)
    mock.start()
    passed = False
    try:
        yield mock
        passed = True
    finally:
        # Unlike RequestsMock.__exit__ this keeps mock.calls for assertions after the block.
        mock.stop(allow_assert=passed)


@contextmanager
def frozen_sdk_clock(now: float = T0) -> Iterator[None]:
    """Freeze the clock cos-python-sdk-v5 signs with (its cos_auth module reads time.time())."""
    from qcloud_cos import cos_auth  # noqa: TID251 -- test-only oracle

    real_time = cos_auth.time
    cos_auth.time = SimpleNamespace(time=lambda: now)
    try:
        yield
    finally:
        cos_auth.time = real_time


def sdk_client(token: str | None = None) -> Any:
    """The official SDK client (test-only oracle), configured like our transport."""
    from qcloud_cos import CosConfig, CosS3Client  # noqa: TID251 -- test-only oracle

    conf = CosConfig(Region=REGION, SecretId=SECRET_ID, SecretKey=SECRET_KEY, Token=token)
    return CosS3Client(conf, retry=0)


def sdk_authorization(
    method: str,
    url: str,
    headers: Mapping[str, str],
    *,
    key: str,
    params: Mapping[str, str],
    body: bytes | None = None,
    now: float = T0,
    expire: int = DEFAULT_EXPIRE,
) -> str:
    """Authorization as cos-python-sdk-v5's CosS3Auth computes it for this request."""
    from qcloud_cos import CosConfig, cos_auth  # noqa: TID251 -- test-only oracle

    prepared = requests.Request(method, url, headers=dict(headers), data=body).prepare()
    auth = cos_auth.CosS3Auth(
        CosConfig(Region=REGION, SecretId=SECRET_ID, SecretKey=SECRET_KEY),
        key=key,
        params=dict(params),
        expire=expire,
    )
    with frozen_sdk_clock(now):
        auth(prepared)
    value: str = prepared.headers["Authorization"]
    return value


def sent_headers(
    host: str,
    *,
    extra: Mapping[str, str] | None = None,
    content_length: int | None = None,
) -> dict[str, str]:
    """Every header our transport puts on the wire, except Authorization."""
    headers = {
        "Host": host,
        "User-Agent": USER_AGENT,
        "Accept-Encoding": requests.utils.default_headers()["Accept-Encoding"],
        "Accept": "*/*",
        "Connection": "keep-alive",
    }
    headers.update(extra or {})
    if content_length is not None:
        headers["Content-Length"] = str(content_length)
    return headers


def expected_headers(
    method: str,
    url: str,
    host: str,
    *,
    key: str,
    params: Mapping[str, str] | None = None,
    extra: Mapping[str, str] | None = None,
    body: bytes | None = None,
    now: float = T0,
) -> dict[str, str]:
    """Strict header set for a request, Authorization computed by the SDK oracle."""
    length = len(body) if body is not None else (0 if method in ("PUT", "POST", "DELETE") else None)
    headers = sent_headers(host, extra=extra, content_length=length)
    unsigned_by_sdk = {k: v for k, v in headers.items() if k != "Content-Length"}
    headers["Authorization"] = sdk_authorization(
        method, url, unsigned_by_sdk, key=key, params=params or {}, body=body, now=now
    )
    return headers


def match_request(
    *,
    query: Mapping[str, str] | None = None,
    headers: Mapping[str, str],
    body: bytes | None = None,
) -> list[Any]:
    found = [
        matchers.query_param_matcher(dict(query or {}), strict_match=True),
        matchers.header_matcher(dict(headers), strict_match=True),
    ]
    if body is not None:
        found.append(exact_body_matcher(body))
    return found


def exact_body_matcher(expected: bytes) -> Any:
    """Byte-for-byte body equality (responses' body_matcher decodes and compares text)."""

    def match(request: requests.PreparedRequest) -> tuple[bool, str]:
        raw = request.body.encode("utf-8") if isinstance(request.body, str) else request.body
        if raw == expected:
            return True, ""
        return False, f"body {raw!r} != {expected!r}"

    return match


JOB_ID = "j229ed9e2f60c11ec8525e36307395bf9"


def jobs_detail_xml(
    job_id: str = JOB_ID, state: str = "Submitted", obj: str = "input/demo.mp4"
) -> str:
    """One <JobsDetail> of a MediaInfo job as CI describes it (cos-ci-api.md section 2.2)."""
    return (
        f"<JobsDetail><Code>Success</Code><Message/><JobId>{job_id}</JobId><State>{state}</State>"
        "<CreationTime>2022-06-27T15:23:10+0800</CreationTime><StartTime>-</StartTime>"
        "<EndTime>-</EndTime><QueueId>p2242ab62c7c94486915508540933a2c6</QueueId>"
        f"<Tag>MediaInfo</Tag><Input><BucketId>{BUCKET}</BucketId><Object>{obj}</Object>"
        f"<Region>{REGION}</Region></Input>"
        "<Operation><UserData>req-42</UserData><JobLevel>0</JobLevel></Operation></JobsDetail>"
    )


def jobs_response(*parts: str) -> bytes:
    """A <Response> around JobsDetail / NonExistJobIds / NextToken parts."""
    return ("<Response>" + "".join(parts) + "</Response>").encode()


# cos-ci-api.md section 1.4: key -> request-line path (raw key in the signature).
KEY_WIRE_PATHS = [
    ("videos/my clip 01.mp4", "/videos/my%20clip%2001.mp4"),
    ("in/a+b%20c 100%.mp4", "/in/a%2Bb%2520c%20100%25.mp4"),
    ("视频/测试 文件.mp4", "/%E8%A7%86%E9%A2%91/%E6%B5%8B%E8%AF%95%20%E6%96%87%E4%BB%B6.mp4"),
    ("odd/name#1?x=y.mp4", "/odd/name%231%3Fx%3Dy.mp4"),
    ("/a/b/c/d/e/f/g/deep.file.mov", "/a/b/c/d/e/f/g/deep.file.mov"),
    ("dir/./x/../y.mp4", "/dir/.%2Fx/..%2Fy.mp4"),
    ("../escape.mp4", "/..%2Fescape.mp4"),
    ("a//b.mp4", "/a//b.mp4"),
    # one leading '/' is dropped, as the SDK does; the next goes as %2F (requests would drop it)
    ("//double/lead.txt", "/%2Fdouble/lead.txt"),
]
