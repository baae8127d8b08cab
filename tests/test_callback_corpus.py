"""The callback function's adversarial corpus (tests/corpus/callback/*.json), run by one test.

A case file is ``{"description", "event", "expect": {"status", "outcome"?, "reason"?, "writes"?},
"cloud"?, "env"?}``. ``cloud`` says what COS and CI answer when the case gets that far (no
``cloud``: the case must send no request at all); ``env`` overrides settings. Placeholders keep
real tokens and big bodies out of the repository: ``{{TOKEN_FOR:<bucket>/<key>}}`` is the v1
(query) token minted here from the test secret, ``{{TOKEN_V2_FOR:<region>/<bucket>/<key>}}`` the
v2 (path) one, ``{{REPEAT:<n>:<text>:END}}`` is ``<text>`` n times. Every case runs as deployed:
SCF sets TENCENTCLOUD_REGION to the function's region.

Every case runs through ``functions.tag_on_callback.index.handle`` over a strict ``responses``
mock (query, full header set with the SDK oracle's Authorization, exact PUT body) and must:
answer the expected status (and outcome/reason); raise nothing; send PUT ?tagging only when the
case expects a write, and then exactly the object's foreign tags plus the tags GET /jobs vouched
for (written out by hand in tests.callback_helpers); leave no secret in the logs or the reply;
and log exactly one decision line. See tests/corpus/callback/README.md.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import requests
import responses

from functions.tag_on_callback import index
from tests.callback_helpers import (
    APPLIED,
    BUCKET,
    ETAG,
    EXPECTED_OK_TAGS,
    JOB_ID,
    KEY,
    REGION,
    SECRET,
    SIZE,
    USER_DATA,
    token_for,
    token_v2_for,
)
from tests.client_helpers import (
    SECRET_ID,
    SECRET_KEY,
    FakeClock,
    expected_headers,
    match_request,
    strict_mock,
)
from tests.client_helpers import TOKEN as SESSION_TOKEN
from tests.events import load_context

CORPUS = Path(__file__).parent / "corpus" / "callback"
CASES = sorted(CORPUS.glob("*.json"))
ENV = {
    "MEDIA_TAGGER_CALLBACK_SECRET": SECRET,
    "MEDIA_TAGGER_MAX_ATTEMPTS": "2",
    "TENCENTCLOUD_SECRETID": SECRET_ID,
    "TENCENTCLOUD_SECRETKEY": SECRET_KEY,
    "TENCENTCLOUD_SESSIONTOKEN": SESSION_TOKEN,
    "TENCENTCLOUD_REGION": REGION,  # SCF sets it: the region the function is deployed in
}
VIDEO_XML = (  # the MediaInfo GET /jobs vouches for; its tags are EXPECTED_OK_TAGS
    "<MediaInfo><Format><Bitrate>335.412000</Bitrate><Duration>61.020000</Duration>"
    "<FormatName>mov,mp4,m4a,3gp,3g2,mj2</FormatName><NumStream>2</NumStream>"
    "<Size>2561690</Size></Format><Stream><Audio><CodecName>aac</CodecName><Index>1</Index>"
    "</Audio><Video><AvgFps>23.976024</AvgFps><CodecName>h264</CodecName><Height>720</Height>"
    "<Index>0</Index><Width>720</Width></Video></Stream></MediaInfo>"
)
_PLACEHOLDER = re.compile(
    r"\{\{TOKEN_FOR:([^/{}]+)/(.*?)\}\}|\{\{REPEAT:(\d+):(.*?):END\}\}"
    r"|\{\{TOKEN_V2_FOR:([^/{}]+)/([^/{}]+)/(.*?)\}\}",
    re.S,
)
Tags = tuple[tuple[str, str], ...]


def resolve(value: Any, tokens: list[str]) -> Any:
    """The event with every placeholder replaced; minted tokens are collected in ``tokens``."""
    if isinstance(value, dict):
        return {resolve(k, tokens): resolve(v, tokens) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(item, tokens) for item in value]
    if not isinstance(value, str):
        return value

    def replace(match: re.Match[str]) -> str:
        if match.group(1) is not None:
            tokens.append(token_for(match.group(1), match.group(2)))
            return tokens[-1]
        if match.group(5) is not None:
            tokens.append(token_v2_for(match.group(5), match.group(6), match.group(7)))
            return tokens[-1]
        return match.group(4) * int(match.group(3))

    return _PLACEHOLDER.sub(replace, value)


def escape(text: str) -> str:
    return html.escape(text, quote=False)


def tagging_xml(tags: Tags) -> bytes:
    items = "".join(f"<Tag><Key>{escape(k)}</Key><Value>{escape(v)}</Value></Tag>" for k, v in tags)
    return f"<Tagging><TagSet>{items}</TagSet></Tagging>".encode()


def vouched_tags(job: dict[str, Any]) -> Tags:
    """What GET /jobs vouches for, written out by hand (never computed by the code under test)."""
    if job.get("tag", "MediaInfo") != "MediaInfo":
        return ()  # not a MediaInfo job: it vouches for nothing we write
    if job["answer"] == "success":
        return EXPECTED_OK_TAGS
    if job["answer"] == "failed":
        return (("media:status", f"failed:{job['code']}"), ("media:etag", APPLIED))
    return ()


def job_answer(job: dict[str, Any], target: dict[str, str]) -> tuple[int, bytes]:
    answer = job["answer"]
    if answer == "unknown":
        return (
            200,
            f"<Response><NonExistJobIds>{target['job_id']}</NonExistJobIds></Response>".encode(),
        )
    if answer == "raw":
        return 200, job["raw"].encode()
    if answer == "status":
        default = "<Error><Code>ServiceUnavailable</Code><Message>m</Message></Error>"
        return job["status"], job.get("body", default).encode()
    state = {"success": "Success", "failed": "Failed", "running": "Running"}[answer]
    info = VIDEO_XML if state == "Success" and job.get("media_info", True) else ""
    return 200, (
        f"<Response><JobsDetail><Code>{job.get('code', 'Success')}</Code><Message/>"
        f"<JobId>{target['job_id']}</JobId><State>{state}</State>"
        f"<Tag>{job.get('tag', 'MediaInfo')}</Tag>"
        f"<Input><BucketId>{job.get('bucket', target['bucket'])}</BucketId>"
        f"<Object>{escape(job.get('key', target['key']))}</Object><Region>{REGION}</Region>"
        f"</Input><Operation>{info}<UserData>{escape(job.get('user_data', USER_DATA))}</UserData>"
        "</Operation></JobsDetail></Response>"
    ).encode()


class Cloud:
    """Registers the exact requests one case may send (three reads, and a PUT when expected)."""

    def __init__(self, mock: responses.RequestsMock, cloud: dict[str, Any]) -> None:
        self.mock = mock
        self.spec = cloud
        self.target = {"bucket": BUCKET, "key": KEY, "job_id": JOB_ID, **cloud.get("object", {})}
        self.cos_host = f"{self.target['bucket']}.cos.{REGION}.myqcloud.com"
        self.ci_host = f"{self.target['bucket']}.ci.{REGION}.myqcloud.com"
        self.object_url = f"https://{self.cos_host}/{quote(self.target['key'].encode(), '/-_.~')}"
        self.vouched = vouched_tags(cloud["job"])
        tags = cloud.get("tags", [])
        self.gone = tags == {"status": 404}
        self.raw_tags: bytes | None = None
        self.existing: Tags = ()
        if tags == "vouched":
            self.existing = self.vouched
        elif isinstance(tags, dict) and "raw" in tags:
            self.raw_tags = tags["raw"].encode()
        elif not self.gone:
            self.existing = tuple((k, v) for k, v in tags)

    def _signed(self, method: str, url: str, host: str, key: str, **more: Any) -> dict[str, str]:
        token = "x-ci-security-token" if host == self.ci_host else "x-cos-security-token"
        extra = {**more.pop("extra", {}), token: SESSION_TOKEN}
        return expected_headers(method, url, host, key=key, extra=extra, **more)

    def describe(self) -> None:
        path = f"/jobs/{self.target['job_id']}"
        url = f"https://{self.ci_host}{path}"
        status, body = job_answer(self.spec["job"], self.target)
        headers = self._signed("GET", url, self.ci_host, path)
        match = match_request(headers=headers)
        self.mock.add(responses.GET, url, body=body, status=status, match=match)

    def head(self) -> None:
        head = self.spec.get("head", {})
        status = head.get("status", 200)
        length = head.get("content_length", str(SIZE))
        reply = {"ETag": f'"{head.get("etag", ETAG)}"', "Content-Length": length}
        headers = self._signed("HEAD", self.object_url, self.cos_host, self.target["key"])
        self.mock.add(
            responses.HEAD, self.object_url, status=status, headers=reply if status == 200 else {},
            auto_calculate_content_length=False, match=match_request(headers=headers),
        )  # fmt: skip

    def get_tagging(self) -> None:
        query, url = {"tagging": ""}, f"{self.object_url}?tagging"
        headers = self._signed("GET", url, self.cos_host, self.target["key"], params=query)
        body = b"<Error><Code>NoSuchKey</Code></Error>" if self.gone else tagging_xml(self.existing)
        body = body if self.raw_tags is None else self.raw_tags
        self.mock.add(
            responses.GET, self.object_url, body=body, status=404 if self.gone else 200,
            match=match_request(query=query, headers=headers),
        )  # fmt: skip

    def put_tagging(self) -> bytes:
        """Allow the one write a case may cause: foreign tags kept, then what GET /jobs vouched."""
        assert self.vouched, "a case may only expect a write of tags GET /jobs vouched for"
        foreign = tuple(tag for tag in self.existing if not tag[0].startswith("media:"))
        query, body = {"tagging": ""}, tagging_xml(foreign + self.vouched)
        headers = self._signed(
            "PUT", f"{self.object_url}?tagging", self.cos_host, self.target["key"], params=query,
            body=body, extra={"Content-Type": "application/xml"},
        )  # fmt: skip
        match = match_request(query=query, headers=headers, body=body)
        self.mock.add(responses.PUT, self.object_url, match=match)
        return body


def run_case(
    case: dict[str, Any], mock: responses.RequestsMock, tokens: list[str]
) -> tuple[dict[str, Any], bytes | None]:
    """The handler's reply and the one PUT body the case allows (None: no write allowed)."""
    event = resolve(case["event"], tokens)
    allowed_put = None
    if "cloud" in case:
        cloud = Cloud(mock, case["cloud"])
        cloud.describe()
        cloud.head()
        cloud.get_tagging()
        if case["expect"].get("writes"):
            allowed_put = cloud.put_tagging()
    clock = FakeClock()
    session = requests.Session()
    session.trust_env = False
    result = index.handle(  # raising here is a crash: the test fails with the exception
        event, load_context(), environ={**ENV, **case.get("env", {})},
        clock=clock, sleep=clock.sleep, session=session,
    )  # fmt: skip
    return result, allowed_put


def assert_requests(case: dict[str, Any], calls: Any, allowed_put: bytes | None) -> None:
    unmatched = [call.request.url for call in calls if isinstance(call.response, Exception)]
    assert unmatched == [], "requests the case did not allow"
    if "cloud" not in case:
        assert len(calls) == 0, "this case must be refused before any request"
    job = case.get("cloud", {}).get("job", {})
    if job.get("answer") == "status":
        assert len([c for c in calls if "/jobs/" in (c.request.url or "")]) == job["times"]
    puts = [call.request.body for call in calls if call.request.method == "PUT"]
    assert puts == ([] if allowed_put is None else [allowed_put]), "a write GET /jobs did not vouch"


def assert_no_secret(text: str, tokens: list[str], calls: Any) -> None:
    sent_authorizations = [call.request.headers.get("Authorization") for call in calls]
    for secret in (SECRET, SECRET_KEY, SESSION_TOKEN, *tokens, *filter(None, sent_authorizations)):
        assert secret not in text, "a secret reached the logs or the reply"
    assert "q-signature" not in text


@pytest.mark.parametrize("path", CASES, ids=[path.stem for path in CASES])
def test_corpus_case(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    case = json.loads(path.read_text(encoding="utf-8"))
    expect = case["expect"]
    tokens = [token_for(BUCKET, KEY)]
    with strict_mock() as mock:
        result, allowed_put = run_case(case, mock, tokens)
    summary = json.loads(result["body"])
    got = (result["statusCode"], summary["outcome"], summary["reason"])
    assert got == (
        expect["status"],
        expect.get("outcome", got[1]),
        expect.get("reason", got[2]),
    ), case["description"]
    assert_requests(case, mock.calls, allowed_put)
    captured = capsys.readouterr()
    logs = captured.out + captured.err
    assert_no_secret(logs + result["body"], tokens, mock.calls)
    decisions = [json.loads(line) for line in logs.splitlines() if line.startswith('{"fn"')]
    assert [(d["status"], d["outcome"]) for d in decisions] == [got[:2]], "one decision line"


def test_the_corpus_is_large_and_covers_every_status() -> None:
    expected = [json.loads(path.read_text(encoding="utf-8"))["expect"] for path in CASES]
    assert len(CASES) >= 30
    assert {e["status"] for e in expected} >= {200, 400, 401, 403, 405, 413, 502, 503}
    assert sum(1 for e in expected if e.get("writes")) >= 5
