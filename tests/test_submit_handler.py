"""The upload function end to end over a strict HTTP mock: the exact requests it sends.

Drives ``functions.submit_on_upload.index.handle`` (what ``main_handler`` calls, with the clock,
sleep, environ and Session injected) with the sample events. Authorization is compared with the
official SDK's signature (test-only oracle); XML bodies byte for byte; keys on the wire as the
SDK encodes them; the tokens computed here independently of shared.contract.callback_token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import responses

from functions.submit_on_upload import index
from shared.errors import ConfigError
from shared.upload.event_run import TransientSubmitError
from tests.client_helpers import (
    SECRET_ID,
    SECRET_KEY,
    T0,
    TOKEN,
    FakeClock,
    expected_headers,
    match_request,
    strict_mock,
)
from tests.events import BUCKET, REGION, cos_event, cos_record, load_context, load_event
from tests.upload_helpers import CALLBACK_BASE, CALLBACK_SECRET, isolated_project_loggers

COS_HOST = f"{BUCKET}.cos.ap-guangzhou.myqcloud.com"
CI_HOST = f"{BUCKET}.ci.ap-guangzhou.myqcloud.com"
JOBS_URL = f"https://{CI_HOST}/jobs"
DEMO_KEY = "videos/2024/11/demo.mp4"
DEMO_ETAG = "eb6cf523ae4d528e72f2d11f3a91cd40"
ENVIRON = {
    "TENCENTCLOUD_SECRETID": SECRET_ID,
    "TENCENTCLOUD_SECRETKEY": SECRET_KEY,
    "TENCENTCLOUD_SESSIONTOKEN": TOKEN,
    "MEDIA_TAGGER_CALLBACK_URL": CALLBACK_BASE,
    "MEDIA_TAGGER_CALLBACK_SECRET": CALLBACK_SECRET,
    "MEDIA_TAGGER_IDEMPOTENCY_CHECK": "true",  # the exact-request tests include the check
    "MEDIA_TAGGER_UPLOAD_CONCURRENCY": "1",  # records in order, so the mocks can be ordered
}
SCF_API = "https://scf.tencentcloudapi.com/"


def expect_hand_on(mock: responses.RequestsMock, keys: list[str], generation: int = 1) -> None:
    """SCF Invoke (async) of this function with a hand-on event carrying exactly ``keys``."""

    def matcher(request: requests.PreparedRequest) -> tuple[bool, str]:
        params = json.loads(request.body or b"{}")
        event = json.loads(params.get("ClientContext", "{}"))
        body = event.get("MediaTaggerHandOn", {})
        found = [item["key"] for item in body.get("objects", [])]
        expected = {
            "FunctionName": "media-submit",
            "Namespace": "default",
            "Qualifier": "$LATEST",
            "InvocationType": "Event",
        }
        ok = (
            request.headers.get("X-TC-Action") == "Invoke"
            and all(params.get(name) == value for name, value in expected.items())
            and found == keys
            and body.get("generation") == generation
        )
        return ok, "" if ok else f"not the expected hand-on: {params!r:.300}"

    answer = {"Response": {"Result": {"FunctionRequestId": "r-1"}, "RequestId": "q-1"}}
    mock.add(responses.POST, SCF_API, json=answer, match=[matcher])


NO_TAGS = b"<Tagging><TagSet></TagSet></Tagging>"


@pytest.fixture(autouse=True)
def _restore_loggers() -> Iterator[None]:
    with isolated_project_loggers():
        yield


def escape(text: str) -> str:
    """XML character data escaping, written out (the three characters that need it)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def token_for(key: str) -> str:
    """The v2 path token of the contract, written out: region, bucket and key are bound."""
    message = b"media-tagger/v2\n" + f"{REGION}\n{BUCKET}\n{key}".encode()
    digest = hmac.new(CALLBACK_SECRET.encode(), message, hashlib.sha256).digest()
    return "v2." + base64.urlsafe_b64encode(digest).decode().rstrip("=")


def job_body(key: str, etag: str, size: int, *, level: int = 0, fmt: str = "JSON") -> bytes:
    """The POST /jobs body as cos-ci-api.md section 2.2 lays it out."""
    return (
        "<Request><Tag>MediaInfo</Tag>"
        f"<Input><Object>{escape(key)}</Object></Input>"
        f"<Operation><UserData>mt1;e={etag};s={size}</UserData><JobLevel>{level}</JobLevel>"
        "</Operation>"
        f"<CallBack>{CALLBACK_BASE}{token_for(key)}</CallBack>"
        f"<CallBackFormat>{fmt}</CallBackFormat></Request>"
    ).encode()


def submitted_xml(job_id: str, key: str) -> bytes:
    return (
        "<Response><JobsDetail><Code>Success</Code><Message/>"
        f"<JobId>{job_id}</JobId><State>Submitted</State>"
        "<CreationTime>2024-11-25T10:02:11+0800</CreationTime><StartTime>-</StartTime>"
        "<EndTime>-</EndTime><Tag>MediaInfo</Tag>"
        f"<Input><BucketId>{BUCKET}</BucketId><Object>{escape(key)}</Object>"
        "<Region>ap-guangzhou</Region></Input>"
        "<Operation><JobLevel>0</JobLevel></Operation></JobsDetail></Response>"
    ).encode()


def expect_tagging_get(
    mock: responses.RequestsMock, key: str, wire: str, body: bytes = NO_TAGS
) -> None:
    url = f"https://{COS_HOST}{wire}"
    headers = expected_headers(
        "GET",
        url,
        COS_HOST,
        key=key,
        params={"tagging": ""},
        extra={"x-cos-security-token": TOKEN},
    )
    mock.add(
        responses.GET,
        url,
        body=body,
        match=match_request(query={"tagging": ""}, headers=headers),
    )


def expect_job_post(
    mock: responses.RequestsMock, body: bytes, job_id: str, key: str, status: int = 200
) -> None:
    extra = {"Content-Type": "application/xml", "x-ci-security-token": TOKEN}
    headers = expected_headers("POST", JOBS_URL, CI_HOST, key="/jobs", extra=extra, body=body)
    reply = submitted_xml(job_id, key) if status == 200 else b""
    mock.add(
        responses.POST,
        JOBS_URL,
        status=status,
        body=reply,
        match=match_request(headers=headers, body=body),
    )


def run(
    event: Any,
    context: Any = None,
    *,
    environ: dict[str, str] | None = None,
    clock: FakeClock | None = None,
) -> dict[str, Any]:
    clock = clock or FakeClock(T0)
    return index.handle(
        event,
        load_context() if context is None else context,
        environ=ENVIRON if environ is None else environ,
        clock=clock,
        sleep=clock.sleep,
        session=requests.Session(),
    )


@pytest.mark.parametrize(
    ("event_name", "key", "wire", "etag", "size"),
    [
        ("cos_put", DEMO_KEY, "/videos/2024/11/demo.mp4", DEMO_ETAG, 2561690),
        (
            "cos_key_space",
            "videos/my holiday clip (final).mp4",
            "/videos/my%20holiday%20clip%20%28final%29.mp4",
            "1b2c3d4e5f60718293a4b5c6d7e8f901",
            1048576,
        ),
        (
            "cos_key_plus_percent",
            "videos/a+b=c 100% done%2B.mp4",
            "/videos/a%2Bb%3Dc%20100%25%20done%252B.mp4",
            "2c3d4e5f60718293a4b5c6d7e8f90a12",
            2097152,
        ),
        (
            "cos_unicode_key",
            "视频/2024 夏天/我的 旅行 video (1).mp4",
            # the cosObject.url of the sample: the same percent-encoding
            "/%E8%A7%86%E9%A2%91/2024%20%E5%A4%8F%E5%A4%A9/"
            "%E6%88%91%E7%9A%84%20%E6%97%85%E8%A1%8C%20video%20%281%29.mp4",
            "5f2b9e1c7a3d4b6e8f0a1c2d3e4f5a6b",
            7340032,
        ),
        (
            "cos_upper_mov",
            "videos/IMG_0042.MOV",
            "/videos/IMG_0042.MOV",
            "3d4e5f60718293a4b5c6d7e8f90a1b23-5",
            73400320,
        ),
    ],
)
def test_sample_event_sends_the_exact_requests(
    event_name: str, key: str, wire: str, etag: str, size: int
) -> None:
    job_id = "j" + hashlib.md5(key.encode()).hexdigest()
    with strict_mock(ordered=True) as mock:
        expect_tagging_get(mock, key, wire)
        expect_job_post(mock, job_body(key, etag, size), job_id, key)
        summary = run(load_event(event_name))
    assert summary["submitted"] == [{"key": key, "job_id": job_id}]
    assert summary["skipped"] == summary["failed"] == summary["handed_on"] == []
    assert mock.calls[0].request.url == f"https://{COS_HOST}{wire}?tagging="
    assert mock.calls[1].request.url == JOBS_URL


def test_xml_special_characters_in_the_key_are_escaped_in_the_body() -> None:
    key = "videos/Tom & Jerry <1>.mp4"
    body = job_body(key, DEMO_ETAG, 2561690)
    assert b"<Object>videos/Tom &amp; Jerry &lt;1&gt;.mp4</Object>" in body
    with strict_mock(ordered=True) as mock:
        expect_tagging_get(mock, key, "/videos/Tom%20%26%20Jerry%20%3C1%3E.mp4")
        expect_job_post(mock, body, "j1", key)
        run(cos_event(cos_record(key)))


def test_settings_reach_the_body() -> None:
    environ = {
        **ENVIRON,
        "MEDIA_TAGGER_JOB_LEVEL": "1",
        "MEDIA_TAGGER_CALLBACK_FORMAT": "XML",
        "MEDIA_TAGGER_IDEMPOTENCY_CHECK": "false",
    }
    with strict_mock() as mock:
        body = job_body(DEMO_KEY, DEMO_ETAG, 2561690, level=1, fmt="XML")
        expect_job_post(mock, body, "j1", DEMO_KEY)
        summary = run(load_event("cos_put"), environ=environ)
    assert summary["submitted"] == [{"key": DEMO_KEY, "job_id": "j1"}]
    assert len(mock.calls) == 1  # no GET ?tagging with the check off


def test_multipart_event_submits_both_records() -> None:
    big, pod = "videos/2024/11/big-lecture.mov", "audio/2024/11/podcast-ep12.m4a"
    with strict_mock(ordered=True) as mock:
        expect_tagging_get(mock, big, "/" + big)
        expect_job_post(
            mock, job_body(big, "9d3e4c6f1a2b3c4d5e6f708192a3b4c5", 1610612736), "j1", big
        )
        expect_tagging_get(mock, pod, "/" + pod)
        expect_job_post(
            mock, job_body(pod, "0a1b2c3d4e5f60718293a4b5c6d7e8f9", 48234112), "j2", pod
        )
        summary = run(load_event("cos_multipart"))
    assert summary["submitted"] == [{"key": big, "job_id": "j1"}, {"key": pod, "job_id": "j2"}]


def test_duplicate_event_for_a_tagged_etag_submits_nothing() -> None:
    tagged = (
        "<Tagging><TagSet><Tag><Key>team</Key><Value>a</Value></Tag>"
        "<Tag><Key>media:status</Key><Value>ok</Value></Tag>"
        f"<Tag><Key>media:etag</Key><Value>{DEMO_ETAG}</Value></Tag></TagSet></Tagging>"
    ).encode()
    with strict_mock() as mock:
        expect_tagging_get(mock, DEMO_KEY, "/" + DEMO_KEY, body=tagged)
        summary = run(load_event("cos_put"))
    assert summary == {
        "submitted": [],
        "skipped": [{"key": DEMO_KEY, "reason": "already-tagged"}],
        "failed": [],
        "handed_on": [],
        "unsubmitted": [],
    }
    assert len(mock.calls) == 1


def test_object_without_any_tag_set_is_submitted() -> None:
    no_tag_set = b"<Error><Code>NoSuchTagSet</Code><Message>none</Message></Error>"
    with strict_mock(ordered=True) as mock:
        mock.add(responses.GET, f"https://{COS_HOST}/{DEMO_KEY}", status=404, body=no_tag_set)
        expect_job_post(mock, job_body(DEMO_KEY, DEMO_ETAG, 2561690), "j1", DEMO_KEY)
        summary = run(load_event("cos_put"))
    assert summary["submitted"] == [{"key": DEMO_KEY, "job_id": "j1"}]


@pytest.mark.parametrize("event_name", ["cos_folder_marker", "cos_empty_object", "cos_non_media"])
def test_filtered_events_send_nothing(event_name: str) -> None:
    with strict_mock() as mock:
        summary = run(load_event(event_name))
    assert len(summary["skipped"]) == 1
    assert summary["submitted"] == summary["failed"] == []
    assert len(mock.calls) == 0


def test_403_from_ci_is_permanent_logged_and_not_raised(
    capsys: pytest.CaptureFixture[str],
) -> None:
    denied = b"<Error><Code>AccessDenied</Code><Message>denied</Message></Error>"
    with strict_mock(ordered=True) as mock:
        expect_tagging_get(mock, DEMO_KEY, "/" + DEMO_KEY)
        mock.add(responses.POST, JOBS_URL, status=403, body=denied)
        summary = run(load_event("cos_put"))
    assert summary["failed"] == [{"key": DEMO_KEY, "code": "AccessDenied", "permanent": True}]
    assert len(mock.calls) == 2  # not retried
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    failed = next(line for line in lines if line.get("outcome") == "failed")
    assert (failed["key"], failed["code"], failed["permanent"]) == (DEMO_KEY, "AccessDenied", True)


def test_503_that_outlives_retries_raises_after_every_record() -> None:
    big, pod = "videos/2024/11/big-lecture.mov", "audio/2024/11/podcast-ep12.m4a"
    busy = b"<Error><Code>ServiceUnavailable</Code><Message>busy</Message></Error>"
    clock = FakeClock(T0)
    with strict_mock(ordered=True) as mock:
        mock.add(responses.GET, f"https://{COS_HOST}/{big}", body=NO_TAGS)
        for _ in range(4):  # MEDIA_TAGGER_MAX_ATTEMPTS default
            mock.add(responses.POST, JOBS_URL, status=503, body=busy)
        mock.add(responses.GET, f"https://{COS_HOST}/{pod}", body=NO_TAGS)
        mock.add(responses.POST, JOBS_URL, body=submitted_xml("j2", pod))
        expect_hand_on(mock, [big])
        summary = run(load_event("cos_multipart"), clock=clock)
    assert summary["submitted"] == [{"key": pod, "job_id": "j2"}]
    assert summary["handed_on"] == [{"key": big, "generation": 1}]
    assert summary["failed"] == []
    assert len(clock.sleeps) == 3  # the transport's backoff; the hand-on is immediate


def test_without_a_working_hand_on_scf_retries_the_event() -> None:
    big = "videos/2024/11/big-lecture.mov"
    busy = b"<Error><Code>ServiceUnavailable</Code><Message>busy</Message></Error>"
    error = {"Code": "AuthFailure.UnauthorizedOperation", "Message": "no scf:InvokeFunction"}
    refused = {"Response": {"Error": error, "RequestId": "q"}}
    environ = {**ENVIRON, "MEDIA_TAGGER_MAX_ATTEMPTS": "1", "MEDIA_TAGGER_IDEMPOTENCY_CHECK": "0"}
    with strict_mock(ordered=True) as mock:
        mock.add(responses.POST, JOBS_URL, status=503, body=busy)
        mock.add(
            responses.POST, JOBS_URL, body=submitted_xml("j2", "audio/2024/11/podcast-ep12.m4a")
        )
        mock.add(responses.POST, SCF_API, json=refused)
        with pytest.raises(
            TransientSubmitError,
            match=r"1 record\(s\) not submitted, SCF will retry: 'videos/2024/11/big-lecture\.mov'",
        ) as caught:
            run(load_event("cos_multipart"), environ=environ)
    assert caught.value.failed_keys == (big,)
    assert caught.value.summary["failed"] == [
        {"key": big, "code": "ServiceUnavailable", "permanent": False}
    ]


def _slow_ci(clock: FakeClock, seconds: float) -> Any:
    def reply(request: requests.PreparedRequest) -> tuple[int, dict[str, str], bytes]:
        clock.now += seconds  # the answer takes this long to arrive
        return 503, {}, b"<Error><Code>ServiceUnavailable</Code><Message>m</Message></Error>"

    return reply


@pytest.mark.parametrize(("limit_ms", "posts"), [(3000, 2), (60_000, 4)])
def test_the_deadline_from_the_context_stops_retrying(limit_ms: int, posts: int) -> None:
    clock = FakeClock(T0)
    context = load_context(time_limit_in_ms=limit_ms)
    environ = {**ENVIRON, "MEDIA_TAGGER_IDEMPOTENCY_CHECK": "false"}
    with strict_mock() as mock:
        mock.add_callback(responses.POST, JOBS_URL, callback=_slow_ci(clock, 1.0))
        expect_hand_on(mock, [DEMO_KEY])
        summary = run(load_event("cos_put"), context, environ=environ, clock=clock)
    assert summary["handed_on"] == [{"key": DEMO_KEY, "generation": 1}]
    # 3 s limit: deadline T0+1.5; the first answer arrives at T0+1, the second at ~T0+2,
    # after which no retry may start. 60 s: all four attempts fit.
    assert len([call for call in mock.calls if call.request.url == JOBS_URL]) == posts


def test_one_broken_record_does_not_stop_the_others() -> None:
    first, third = "videos/first.mp4", "audio/third.m4a"
    with strict_mock(ordered=True) as mock:
        expect_tagging_get(mock, first, "/" + first)
        expect_job_post(
            mock, job_body(first, "60718293a4b5c6d7e8f90a1b2c3d4e56", 1000), "j1", first
        )
        expect_tagging_get(mock, third, "/" + third)
        expect_job_post(
            mock, job_body(third, "718293a4b5c6d7e8f90a1b2c3d4e5f67", 3000), "j3", third
        )
        summary = run(load_event("cos_several_records_one_broken"))
    assert summary["submitted"] == [{"key": first, "job_id": "j1"}, {"key": third, "job_id": "j3"}]
    assert summary["skipped"][0]["reason"].startswith("unreadable-record:")


def test_config_error_is_raised_before_any_request(capsys: pytest.CaptureFixture[str]) -> None:
    environ = {**ENVIRON, "MEDIA_TAGGER_JOB_LEVEL": "7"}
    with (
        strict_mock() as mock,
        pytest.raises(
            ConfigError, match="MEDIA_TAGGER_JOB_LEVEL: must be a whole number from 0 to 2"
        ) as caught,
    ):
        run(load_event("cos_put"), environ=environ)
    assert caught.value.variable == "MEDIA_TAGGER_JOB_LEVEL"
    assert len(mock.calls) == 0
    line = json.loads(capsys.readouterr().out.splitlines()[0])
    assert line["outcome"] == "config-error"
    assert "MEDIA_TAGGER_JOB_LEVEL" in line["reason"]


def test_missing_role_credentials_are_a_config_error() -> None:
    environ = {k: v for k, v in ENVIRON.items() if k != "TENCENTCLOUD_SECRETKEY"}
    with (
        strict_mock(),
        pytest.raises(ConfigError, match="TENCENTCLOUD_SECRETKEY: missing or blank") as caught,
    ):
        run(load_event("cos_put"), environ=environ)
    assert caught.value.variable == "TENCENTCLOUD_SECRETKEY"


def test_no_secret_reaches_any_log_output(
    capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    environ = {**ENVIRON, "MEDIA_TAGGER_LOG_LEVEL": "DEBUG"}
    event = load_event("cos_multipart")
    big, pod = "videos/2024/11/big-lecture.mov", "audio/2024/11/podcast-ep12.m4a"
    busy = b"<Error><Code>ServiceUnavailable</Code><Message>busy</Message></Error>"
    with strict_mock(ordered=True) as mock:
        mock.add(responses.GET, f"https://{COS_HOST}/{big}", body=NO_TAGS)
        mock.add(responses.POST, JOBS_URL, status=503, body=busy)  # a retry gets logged
        mock.add(responses.POST, JOBS_URL, body=submitted_xml("j1", big))
        mock.add(responses.GET, f"https://{COS_HOST}/{pod}", body=NO_TAGS)
        mock.add(
            responses.POST,
            JOBS_URL,
            status=403,
            body=b"<Error><Code>AccessDenied</Code><Message>denied</Message></Error>",
        )
        run(event, environ=environ)
    captured = capfd.readouterr()
    output = captured.out + captured.err + caplog.text
    assert '"outcome":"submitted"' in output  # the capture did see the decision lines
    assert "retrying POST" in output  # ... and the transport's retry line
    authorization = event["Records"][0]["event"]["requestParameters"]["requestHeaders"]
    forbidden = [
        SECRET_KEY,
        TOKEN,
        CALLBACK_SECRET,
        token_for(big),
        token_for(pod),
        authorization["Authorization"],
        "q-signature",
        *(call.request.headers["Authorization"] for call in mock.calls),
    ]
    for value in forbidden:
        assert value not in output


def test_main_handler_uses_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in ENVIRON.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("MEDIA_TAGGER_EXTENSIONS", "pdf")  # nothing in cos_put qualifies
    with strict_mock() as mock:
        summary = index.main_handler(load_event("cos_put"), load_context())
    assert summary["skipped"] == [{"key": DEMO_KEY, "reason": "extension-not-allowed:mp4"}]
    assert len(mock.calls) == 0
