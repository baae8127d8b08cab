"""functions/tag_on_callback: main_handler/handle end to end over a strict HTTP mock.

Every request the handler sends is matched on its query, its full header set (Authorization as the
official SDK computes it) and, for PUT ?tagging, its exact body; assert_all_requests_are_fired.
Expected tag sets are written out by hand from the MediaInfo in the fixtures.
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import responses

from functions.tag_on_callback import index
from tests.callback_helpers import (
    APPLIED,
    BUCKET,
    ETAG,
    EXPECTED_OK_TAGS,
    EXTRA_MEDIA_TAGS,
    JOB_ID,
    KEY,
    REGION,
    SECRET,
    SIZE,
    USER_DATA,
    callback_json,
    token_for,
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
from tests.events import load_context, load_event

COS_HOST = f"{BUCKET}.cos.{REGION}.myqcloud.com"
CI_HOST = f"{BUCKET}.ci.{REGION}.myqcloud.com"
OBJECT_URL = f"https://{COS_HOST}/{KEY}"
JOB_URL = f"https://{CI_HOST}/jobs/{JOB_ID}"
TOKEN = token_for(BUCKET, KEY)
ENV = {
    "MEDIA_TAGGER_CALLBACK_SECRET": SECRET,
    "MEDIA_TAGGER_MAX_ATTEMPTS": "2",
    "TENCENTCLOUD_SECRETID": SECRET_ID,
    "TENCENTCLOUD_SECRETKEY": SECRET_KEY,
    "TENCENTCLOUD_SESSIONTOKEN": SESSION_TOKEN,
}
XML = {"Content-Type": "application/xml"}
VIDEO_XML = (
    "<MediaInfo><Format><Bitrate>335.412000</Bitrate><Duration>61.020000</Duration>"
    "<FormatName>mov,mp4,m4a,3gp,3g2,mj2</FormatName><NumStream>2</NumStream>"
    "<Size>2561690</Size></Format><Stream><Audio><CodecName>aac</CodecName><Index>1</Index>"
    "</Audio><Video><AvgFps>23.976024</AvgFps><CodecName>h264</CodecName><Height>720</Height>"
    "<Index>0</Index><Width>720</Width></Video></Stream></MediaInfo>"
)


# ---------------------------------------------------------------------------------------------
# wire builders (test side, independent of shared.tencent.xml_answers)


def escape(text: str) -> str:
    return html.escape(text, quote=False)


def job_xml(
    *,
    state: str = "Success",
    code: str = "Success",
    key: str = KEY,
    user_data: str = USER_DATA,
    media_info: str = VIDEO_XML,
) -> bytes:
    info = media_info if state == "Success" else ""
    return (
        f"<Response><JobsDetail><Code>{code}</Code><Message/><JobId>{JOB_ID}</JobId>"
        f"<State>{state}</State><Tag>MediaInfo</Tag><Input><BucketId>{BUCKET}</BucketId>"
        f"<Object>{escape(key)}</Object><Region>{REGION}</Region></Input>"
        f"<Operation>{info}<UserData>{escape(user_data)}</UserData></Operation>"
        "</JobsDetail></Response>"
    ).encode()


def tagging_xml(tags: tuple[tuple[str, str], ...]) -> bytes:
    items = "".join(f"<Tag><Key>{escape(k)}</Key><Value>{escape(v)}</Value></Tag>" for k, v in tags)
    return f"<Tagging><TagSet>{items}</TagSet></Tagging>".encode()


def callback_xml(*, key: str = KEY, user_data: str = USER_DATA, media_info: str = VIDEO_XML) -> str:
    return (
        "<Response><EventName>TaskFinish</EventName><JobsDetail><Code>Success</Code>"
        f"<JobId>{JOB_ID}</JobId><State>Success</State><Tag>MediaInfo</Tag>"
        f"<Input><BucketId>{BUCKET}</BucketId><Object>{escape(key)}</Object>"
        f"<Region>{REGION}</Region></Input><Operation>{media_info}"
        f"<UserData>{escape(user_data)}</UserData></Operation></JobsDetail></Response>"
    )


def furl_event(
    body: str | bytes, token: str | None = TOKEN, method: str = "POST"
) -> dict[str, Any]:
    event = load_event("furl_json_callback")
    event["body"] = body.decode() if isinstance(body, bytes) else body
    event["httpMethod"] = method
    event["queryString"] = {} if token is None else {"token": token}
    return event


class Cloud:
    """Registers the exact requests a callback may send."""

    def __init__(self, mock: responses.RequestsMock) -> None:
        self.mock = mock

    def describe(self, body: bytes, status: int = 200) -> None:
        headers = expected_headers(
            "GET",
            JOB_URL,
            CI_HOST,
            key=f"/jobs/{JOB_ID}",
            extra={"x-ci-security-token": SESSION_TOKEN},
        )
        self.mock.add(
            responses.GET, JOB_URL, body=body, status=status, match=match_request(headers=headers)
        )

    def head(self, etag: str = ETAG, size: int = SIZE, status: int = 200) -> None:
        headers = expected_headers(
            "HEAD", OBJECT_URL, COS_HOST, key=KEY, extra={"x-cos-security-token": SESSION_TOKEN}
        )
        self.mock.add(
            responses.HEAD,
            OBJECT_URL,
            status=status,
            headers={"ETag": f'"{etag}"', "Content-Length": str(size)} if status == 200 else {},
            auto_calculate_content_length=False,
            match=match_request(headers=headers),
        )

    def get_tagging(self, tags: tuple[tuple[str, str], ...] = (), status: int = 200) -> None:
        query = {"tagging": ""}
        headers = expected_headers(
            "GET",
            f"{OBJECT_URL}?tagging",
            COS_HOST,
            key=KEY,
            params=query,
            extra={"x-cos-security-token": SESSION_TOKEN},
        )
        body = tagging_xml(tags) if status == 200 else _error("NoSuchKey")
        self.mock.add(
            responses.GET,
            OBJECT_URL,
            body=body,
            status=status,
            match=match_request(query=query, headers=headers),
        )

    def put_tagging(self, tags: tuple[tuple[str, str], ...]) -> None:
        query = {"tagging": ""}
        body = tagging_xml(tags)
        headers = expected_headers(
            "PUT",
            f"{OBJECT_URL}?tagging",
            COS_HOST,
            key=KEY,
            params=query,
            extra={**XML, "x-cos-security-token": SESSION_TOKEN},
            body=body,
        )
        self.mock.add(
            responses.PUT, OBJECT_URL, match=match_request(query=query, headers=headers, body=body)
        )

    def reads(self, job: bytes, tags: tuple[tuple[str, str], ...] = (), etag: str = ETAG) -> None:
        self.describe(job)
        self.head(etag=etag)
        self.get_tagging(tags)


def _error(code: str) -> bytes:
    return (
        f"<Error><Code>{code}</Code><Message>m</Message><RequestId>r</RequestId></Error>".encode()
    )


@pytest.fixture
def cloud() -> Iterator[Cloud]:
    with strict_mock() as mock:
        yield Cloud(mock)


def call(event: Any, env: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    clock = FakeClock()
    session = requests.Session()
    session.trust_env = False
    result = index.handle(
        event,
        load_context(),
        environ=ENV if env is None else env,
        clock=clock,
        sleep=clock.sleep,
        session=session,
    )
    assert result["headers"] == {"Content-Type": "application/json"}
    return result["statusCode"], json.loads(result["body"])


def assert_no_http(cloud: Cloud) -> None:
    assert len(cloud.mock.calls) == 0


# ---------------------------------------------------------------------------------------------
# the happy paths: JSON, XML, base64


def test_json_callback_from_a_function_url(cloud: Cloud) -> None:
    cloud.reads(job_xml(), tags=(("owner", "alice"),))
    cloud.put_tagging((("owner", "alice"), *EXPECTED_OK_TAGS))
    event = load_event("furl_json_callback")
    body = json.loads(event["body"])
    body["JobsDetail"]["Operation"]["UserData"] = USER_DATA
    event["body"] = json.dumps(body)
    event["queryString"] = {"token": TOKEN}
    status, summary = call(event)
    assert status == 200
    assert summary == {
        "outcome": "tagged",
        "reason": "ok",
        "job_id": JOB_ID,
        "key": KEY,
        "tags_written": 7,
        "dropped": [],
    }


def test_xml_callback(cloud: Cloud) -> None:
    cloud.reads(job_xml())
    cloud.put_tagging(EXPECTED_OK_TAGS)
    status, summary = call(furl_event(callback_xml()))
    assert (status, summary["outcome"]) == (200, "tagged")


def test_base64_api_gateway_event(cloud: Cloud) -> None:
    """The sample's body UserData is not ours; GET /jobs (trusted) has it, and wins."""
    cloud.reads(job_xml())
    cloud.put_tagging(EXPECTED_OK_TAGS)
    event = load_event("apigw_base64")
    event["queryString"] = {"token": TOKEN}
    assert base64.b64decode(event["body"]).startswith(b"<Response>")
    status, summary = call(event)
    assert (status, summary["outcome"]) == (200, "tagged")


def test_main_handler_reads_os_environ(cloud: Cloud, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    result = index.main_handler(furl_event(callback_json(), token="w" * 43), load_context())
    assert result["statusCode"] == 403
    assert_no_http(cloud)


# ---------------------------------------------------------------------------------------------
# authentication and bad input: nothing is sent


@pytest.mark.parametrize(
    ("token", "status"),
    [
        (None, 401),
        ("", 401),
        ("REPLACE_WITH_SHARED_SECRET", 403),
        (token_for(BUCKET, KEY, secret="x" * 40), 403),
    ],
)
def test_missing_or_wrong_token(cloud: Cloud, token: str | None, status: int) -> None:
    code, summary = call(furl_event(callback_json(), token=token))
    assert (code, summary["outcome"]) == (status, "rejected")
    assert_no_http(cloud)


def test_url_of_one_object_replayed_for_another(cloud: Cloud) -> None:
    body = callback_json(key="private/other.mp4")
    code, summary = call(furl_event(body, token=token_for(BUCKET, KEY)))
    assert (code, summary["reason"]) == (403, "forbidden")
    assert_no_http(cloud)


def test_oversized_body(cloud: Cloud) -> None:
    body = callback_json(media_info={"Format": {"FormatLongName": "x" * 2048}, "Stream": {}})
    env = {**ENV, "MEDIA_TAGGER_MAX_CALLBACK_BYTES": "2048"}
    code, summary = call(furl_event(body), env)
    assert (code, summary["reason"]) == (413, "too-large")
    assert_no_http(cloud)


@pytest.mark.parametrize(
    "body",
    [
        '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        "<Response><EventName>&xxe;</EventName></Response>",
        '<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'
        "<Response><EventName>&b;</EventName></Response>",
    ],
)
def test_xxe_and_entity_expansion_are_refused(cloud: Cloud, body: str) -> None:
    code, summary = call(furl_event(body))
    assert (code, summary["reason"]) == (400, "xml-refused")
    assert_no_http(cloud)


@pytest.mark.parametrize("body", ["{", "[]", "<Response>", "plain text", ""])
def test_malformed_bodies(cloud: Cloud, body: str) -> None:
    code, summary = call(furl_event(body))
    assert (code, summary["outcome"]) == (400, "rejected")
    assert_no_http(cloud)


def test_get_is_not_allowed(cloud: Cloud) -> None:
    code, _ = call(furl_event("", method="GET"))
    assert code == 405
    assert_no_http(cloud)


def test_bad_configuration_is_500_naming_nothing_secret(cloud: Cloud) -> None:
    env = {**ENV, "MEDIA_TAGGER_CALLBACK_SECRET": "short"}
    code, summary = call(furl_event(callback_json()), env)
    assert (code, summary["reason"]) == (500, "configuration")
    assert "detail" not in summary
    assert_no_http(cloud)


# ---------------------------------------------------------------------------------------------
# the body is a hint; GET /jobs decides


def test_forged_body_claims_are_replaced_by_get_jobs(cloud: Cloud) -> None:
    forged = {
        "Format": {"Duration": "9999", "FormatName": "forged,format"},
        "Stream": {"Video": {"CodecName": "evil(codec)", "Width": "1", "Height": "1"}},
    }
    cloud.reads(job_xml())
    cloud.put_tagging(EXPECTED_OK_TAGS)
    code, summary = call(furl_event(callback_json(media_info=forged)))
    assert (code, summary["outcome"]) == (200, "tagged")


def test_body_for_a_job_of_another_object_writes_nothing(cloud: Cloud) -> None:
    cloud.reads(job_xml(key="someone/else.mp4"))
    code, summary = call(furl_event(callback_json()))
    assert (code, summary["reason"]) == (403, "forbidden")
    assert [c.request.method for c in cloud.mock.calls].count("PUT") == 0


def test_unknown_job_id(cloud: Cloud) -> None:
    cloud.reads(f"<Response><NonExistJobIds>{JOB_ID}</NonExistJobIds></Response>".encode())
    code, summary = call(furl_event(callback_json()))
    assert (code, summary["outcome"], summary["reason"]) == (200, "skipped", "unknown-job")


def test_failed_job_gets_a_failure_status(cloud: Cloud) -> None:
    cloud.reads(job_xml(state="Failed", code="ResourceNotSupported"), tags=(("t", "1"),))
    cloud.put_tagging(
        (("t", "1"), ("media:status", "failed:ResourceNotSupported"), ("media:etag", APPLIED))
    )
    code, summary = call(furl_event(callback_json()))
    assert (code, summary["reason"]) == (200, "failed:ResourceNotSupported")


def test_stale_etag_writes_nothing(cloud: Cloud) -> None:
    cloud.reads(job_xml(), etag="fffffffffffffffffffffffffffffff0")
    code, summary = call(furl_event(callback_json()))
    assert (code, summary["reason"]) == (200, "stale")


def test_deleted_object_writes_nothing(cloud: Cloud) -> None:
    cloud.describe(job_xml())
    cloud.head(status=404)
    cloud.get_tagging(status=404)
    code, summary = call(furl_event(callback_json()))
    assert (code, summary["reason"]) == (200, "object-gone")


# ---------------------------------------------------------------------------------------------
# merging with the object's tags


def test_object_with_nine_user_tags_gets_only_the_status(cloud: Cloud) -> None:
    user = tuple((f"user{i}", f"value {i}") for i in range(9))
    cloud.reads(job_xml(), tags=user)
    cloud.put_tagging((*user, ("media:status", "ok")))
    code, summary = call(furl_event(callback_json()))
    assert code == 200
    assert summary["dropped"] == ["etag", "duration", "resolution", "vcodec", "acodec", "fps"]


def test_object_with_ten_user_tags_is_left_alone(cloud: Cloud) -> None:
    cloud.reads(job_xml(), tags=tuple((f"user{i}", "v") for i in range(10)))
    code, summary = call(furl_event(callback_json()))
    assert (code, summary["reason"]) == (200, "tag-limit")


def test_user_tags_inside_and_outside_our_namespace(cloud: Cloud) -> None:
    existing = (
        ("media:status", "failed:Old"),
        ("项目组", "视频 A+B=C"),
        ("media:duration", "1.000"),
        ("media:custom", "mine"),
        ("Media:status", "other case is foreign"),
    )
    cloud.reads(job_xml(), tags=existing)
    foreign = (("项目组", "视频 A+B=C"), ("Media:status", "other case is foreign"))
    cloud.put_tagging((*foreign, *EXPECTED_OK_TAGS))  # 2 + our 7 fit; our old tags go
    code, summary = call(furl_event(callback_json()))
    assert (code, summary["tags_written"], summary["dropped"]) == (200, 7, [])


def test_every_classic_field_opted_in_meets_the_ten_tag_limit(cloud: Cloud) -> None:
    foreign = (("owner", "alice"), ("media-team", "x"))  # "media-team" is not in "media:"
    cloud.reads(job_xml(), tags=foreign)
    cloud.put_tagging((*foreign, *EXPECTED_OK_TAGS, EXTRA_MEDIA_TAGS[0]))  # 2 + 8 = 10
    fields = "status,etag,duration,resolution,vcodec,acodec,fps,bitrate,container"
    env = {**ENV, "MEDIA_TAGGER_TAG_FIELDS": fields, "MEDIA_TAGGER_MAX_TAGS": "10"}
    code, summary = call(furl_event(callback_json()), env)
    assert (code, summary["tags_written"], summary["dropped"]) == (200, 8, ["container"])


def test_replayed_callback_sends_no_put(cloud: Cloud) -> None:
    cloud.reads(job_xml(), tags=(("owner", "a"), *EXPECTED_OK_TAGS))
    code, summary = call(furl_event(callback_json()))
    assert (code, summary["outcome"]) == (200, "unchanged")


def test_values_with_commas_and_parentheses(cloud: Cloud) -> None:
    odd = VIDEO_XML.replace("<CodecName>h264</CodecName>", "<CodecName>weird,(fmt),x</CodecName>")
    odd = odd.replace("<CodecName>aac</CodecName>", "<CodecName>AAC (LC), v2 &lt;x&gt;</CodecName>")
    cloud.reads(job_xml(media_info=odd))
    tags = dict(EXPECTED_OK_TAGS)
    tags["media:vcodec"] = "weird__fmt__x"
    tags["media:acodec"] = "AAC _LC__ v2 _x_"
    cloud.put_tagging(tuple(tags.items()))
    code, _ = call(furl_event(callback_json()))
    assert code == 200


# ---------------------------------------------------------------------------------------------
# transient failures and logs


def test_transient_ci_failure_after_retries_is_503(cloud: Cloud) -> None:
    cloud.describe(_error("ServiceUnavailable"), status=503)
    cloud.head()
    cloud.get_tagging()
    code, summary = call(furl_event(callback_json()))
    assert (code, summary["outcome"], summary["reason"]) == (503, "error", "upstream-error")
    methods = [c.request.method for c in cloud.mock.calls]
    assert methods.count("PUT") == 0
    assert (
        len([c for c in cloud.mock.calls if "/jobs/" in (c.request.url or "")]) == 2
    )  # MAX_ATTEMPTS


def test_logs_hold_no_token_secret_or_credential(
    cloud: Cloud, capsys: pytest.CaptureFixture[str]
) -> None:
    cloud.reads(job_xml())
    cloud.put_tagging(EXPECTED_OK_TAGS)
    call(furl_event(callback_json()))
    call(furl_event(callback_json(), token=token_for(BUCKET, "x.mp4")))
    call(furl_event(callback_json(), token=TOKEN[:-1]))
    out = capsys.readouterr().out
    decisions = [json.loads(line) for line in out.splitlines() if '"outcome"' in line]
    assert [d["outcome"] for d in decisions] == ["tagged", "rejected", "rejected"]
    assert decisions[0]["key"] == KEY
    for secret in (
        SECRET,
        TOKEN,
        TOKEN[:-1],
        token_for(BUCKET, "x.mp4"),
        SECRET_KEY,
        SESSION_TOKEN,
    ):
        assert secret not in out
    assert "q-signature" not in out
