"""CI job-finished callbacks: XML and JSON give equal notices; hostile bodies are typed errors."""

from __future__ import annotations

import base64
import re

import pytest

from shared.callback.notice import MAX_JSON_DEPTH, decode_json_object, parse_callback_body
from shared.errors import MalformedBodyError, XmlSecurityError
from shared.models import CallbackNotice
from tests.codec_fixtures import load_event, load_fixture


def test_xml_and_json_callbacks_give_equal_notices() -> None:
    from_xml = parse_callback_body(load_fixture("ci_callback_mediainfo.xml"))
    from_json = parse_callback_body(load_fixture("ci_callback_mediainfo.json"))
    assert from_xml == from_json
    assert from_xml.event_name == "TaskFinish"
    (job,) = from_xml.jobs
    assert (job.job_id, job.state, job.code, job.message) == (
        "jb976c9e0f86111ec9452c1c27f56a659",
        "Success",
        "Success",
        None,
    )
    assert (job.input.bucket_id, job.input.object, job.input.region) == (
        "test-123456789",
        "input/portrait clip.mp4",
        "ap-chongqing",
    )
    assert job.operation.user_data == "req-42"
    media = job.operation.media_info
    assert media is not None and media.format is not None
    assert (media.format.duration_s, media.format.size_bytes) == (31.533, 24117248)
    assert [(v.width, v.height, v.rotation_deg) for v in media.videos] == [(1920, 1080, 90.0)]
    assert [(a.codec_name, a.sample_rate_hz) for a in media.audios] == [("aac", 44100)]
    assert media.subtitles == ()


def test_sample_function_url_and_api_gateway_events_carry_the_same_notice() -> None:
    furl = parse_callback_body(load_event("furl_json_callback.json")["body"].encode("utf-8"))
    apigw_event = load_event("apigw_base64.json")
    assert apigw_event["isBase64Encoded"] is True
    apigw = parse_callback_body(base64.b64decode(apigw_event["body"]))
    assert furl == apigw
    (job,) = furl.jobs
    assert (job.job_id, job.input.object) == (
        "jb976c9e0f86111ec9452c1c27f56a659",
        "videos/2024/11/demo.mp4",
    )
    assert job.operation.user_data == "src=videos/2024/11/demo.mp4"
    media = job.operation.media_info
    assert media is not None
    assert [(v.width, v.height, v.avg_fps) for v in media.videos] == [(720, 720, 23.976024)]


def test_a_failed_job_list_without_media_info() -> None:
    notice = parse_callback_body(load_fixture("ci_callback_failed_list.json"))
    (job,) = notice.jobs
    assert (job.state, job.code) == ("Failed", "ResourceNotSupported")
    assert job.message == "input file is not a media file"
    assert (job.end_time, job.operation.media_info, job.operation.job_level) == (None, None, 0)
    assert job.is_finished and not job.succeeded


def test_a_jobs_detail_list_in_xml() -> None:
    body = (
        b"<Response><EventName>TaskFinish</EventName>"
        b"<JobsDetail><JobId>j1</JobId><State>Success</State></JobsDetail>"
        b"<JobsDetail><JobId>j2</JobId><State>Failed</State></JobsDetail></Response>"
    )
    assert [(j.job_id, j.state) for j in parse_callback_body(body).jobs] == [
        ("j1", "Success"),
        ("j2", "Failed"),
    ]


@pytest.mark.parametrize(
    "body",
    [
        b'{"EventName": "WorkflowFinish", "WorkflowExecution": {"RunId": "r"}}',
        b"<Response><EventName>WorkflowFinish</EventName><JobsDetail/></Response>",
        b'{"EventName": "TaskFinish", "JobsDetail": null}',
        b'{"EventName": "TaskFinish", "JobsDetail": []}',
    ],
)
def test_a_notice_without_jobs(body: bytes) -> None:
    notice = parse_callback_body(body)
    assert notice.jobs == () and notice.event_name in {"TaskFinish", "WorkflowFinish"}


def test_sniffing_ignores_leading_whitespace_and_a_byte_order_mark() -> None:
    json_body = b'\xef\xbb\xbf \r\n\t{"EventName": "TaskFinish"}'
    xml_body = b"\xef\xbb\xbf\n  <Response><EventName>TaskFinish</EventName></Response>"
    expected = CallbackNotice(event_name="TaskFinish")
    assert parse_callback_body(json_body) == expected
    assert parse_callback_body(xml_body) == expected


def test_text_bodies_are_accepted_too() -> None:
    body = load_fixture("ci_callback_mediainfo.json").decode("utf-8")
    assert parse_callback_body(body) == parse_callback_body(
        load_fixture("ci_callback_mediainfo.xml")
    )
    with pytest.raises(MalformedBodyError, match="callback body is not valid Unicode"):
        parse_callback_body('{"EventName": "\ud800"}')


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"   ",
        b"EventName=TaskFinish",
        b'["EventName", "TaskFinish"]',
        b'"TaskFinish"',
        b"1",
        b"null",
        "<Response/>".encode("utf-16"),
    ],
)
def test_bodies_that_are_neither_a_json_object_nor_xml(body: bytes) -> None:
    with pytest.raises(
        MalformedBodyError, match="callback body is neither a JSON object nor an XML document"
    ):
        parse_callback_body(body)


@pytest.mark.parametrize(
    "body",
    [
        b'{"JobsDetail": {"JobId": "j1", "State": "Success", "Tag": "MediaInfo"}}',
        b'{"JobsDetail": [{"JobId": "j1", "State": "Success", "Tag": "MediaInfo"}]}',
        b"<Response><JobsDetail><JobId>j1</JobId><State>Success</State><Tag>MediaInfo</Tag>"
        b"</JobsDetail></Response>",
        b'<?xml version="1.0" encoding="utf-8"?>\n<Response><JobsDetail><JobId>j1</JobId>'
        b"<State>Success</State><Tag>MediaInfo</Tag></JobsDetail></Response>",
    ],
    ids=["json-object", "json-list", "xml", "xml-prolog"],
)
def test_a_media_info_job_without_event_name_is_a_finished_job_notice(body: bytes) -> None:
    notice = parse_callback_body(body)
    assert notice.event_name == "TaskFinish"
    assert [(job.job_id, job.tag) for job in notice.jobs] == [("j1", "MediaInfo")]


def test_another_job_kind_without_event_name_is_still_refused() -> None:
    with pytest.raises(MalformedBodyError, match="no EventName"):
        parse_callback_body(
            b'{"JobsDetail": {"JobId": "j", "State": "Success", "Tag": "Transcode"}}'
        )


NO_EVENT_NAME = "callback has no EventName"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{}", NO_EVENT_NAME),
        (b'{"EventName": ""}', NO_EVENT_NAME),
        (b'{"EventName": 7, "JobsDetail": {"JobId": "j", "State": "Success"}}', NO_EVENT_NAME),
        (b'{"EventName": {"x": "TaskFinish"}}', NO_EVENT_NAME),
        (b'{"JobsDetail": {"JobId": "j", "State": "Success"}}', NO_EVENT_NAME),  # no Tag
        (
            b"<Response><JobsDetail><JobId>j</JobId><State>Success</State></JobsDetail></Response>",
            NO_EVENT_NAME,
        ),
        (b"<Response><EventName/></Response>", NO_EVENT_NAME),
        (
            b"<Notice><EventName>TaskFinish</EventName></Notice>",
            "expected <Response>, got <Notice>",
        ),
        (
            b'{"EventName": "TaskFinish", "JobsDetail": {"State": "Success"}}',
            "JobsDetail without JobId or State",
        ),
        (b'{"EventName": "TaskFinish", "JobsDetail": "j1"}', "JobsDetail is not an object"),
        (
            b'{"EventName": "TaskFinish", "JobsDetail": [{"JobId": "j1"}]}',
            "JobsDetail without JobId or State",
        ),
    ],
)
def test_notices_without_event_name_or_with_broken_jobs_are_refused(
    body: bytes, reason: str
) -> None:
    with pytest.raises(MalformedBodyError, match=re.escape(reason)):
        parse_callback_body(body)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"EventName": "TaskFinish", "EventName": "Other"}', "JSON object has duplicate keys"),
        (
            b'{"EventName": "TaskFinish", "JobsDetail": {"JobId": "a", "JobId": "b", "State": 1}}',
            "JSON object has duplicate keys",
        ),
        (
            b'{"EventName": "TaskFinish", "n": ' + b"9" * 5000 + b"}",  # beyond int limits
            "JSON integer longer than 64 digits",
        ),
        (
            b'{"EventName": "TaskFinish", "n": -' + b"9" * 65 + b"}",
            "JSON integer longer than 64 digits",
        ),
        (b'{"EventName": "TaskFinish", "n": NaN}', "JSON constant NaN is not valid JSON"),
        (b'{"EventName": "TaskFinish", "n": -Infinity}', "JSON constant -Infinity is not valid"),
        (b'{"EventName": "Task\xff\xfeFinish"}', "JSON body is not valid UTF-8"),
        (b'{"EventName": "\xed\xa0\x80"}', "JSON body is not valid UTF-8"),  # a surrogate
        (b'{"EventName": "TaskFinish"} {"again": 1}', "JSON body is not valid: Extra data"),
        (b'{"EventName": "TaskFinish",}', "JSON body is not valid: Expecting property name"),
        (b"{'EventName': 'TaskFinish'}", "JSON body is not valid: Expecting property name"),
        (b'{"EventName": "TaskFinish"', "JSON body is not valid: Expecting ',' delimiter"),
    ],
)
def test_json_attacks_and_junk_are_malformed(body: bytes, reason: str) -> None:
    with pytest.raises(MalformedBodyError, match=re.escape(reason)):
        parse_callback_body(body)


@pytest.mark.parametrize(
    ("depth", "reason"),
    [
        (MAX_JSON_DEPTH + 1, "JSON nested deeper than 64 levels"),  # our own limit
        (5_000, "JSON nested too deeply"),  # refused before the parser recurses that far
        (200_000, "JSON nested too deeply"),
    ],
)
def test_deeply_nested_json_is_malformed_not_a_crash(depth: int, reason: str) -> None:
    body = b'{"EventName": "TaskFinish", "x": ' + b"[" * depth + b"]" * depth + b"}"
    with pytest.raises(MalformedBodyError, match=reason):
        parse_callback_body(body)
    nested_objects = b'{"a":' * depth + b"1" + b"}" * depth
    with pytest.raises(MalformedBodyError, match=reason):
        parse_callback_body(nested_objects)


def test_nesting_up_to_the_limit_is_accepted() -> None:
    inner = MAX_JSON_DEPTH - 1  # the top-level object is level 1
    body = b'{"EventName": "TaskFinish", "x": ' + b"[" * inner + b"]" * inner + b"}"
    assert parse_callback_body(body).event_name == "TaskFinish"


def test_decode_json_object_keeps_numbers_that_fit() -> None:
    value = decode_json_object('{"a": 12, "b": 1.5e3, "c": "' + "9" * 64 + '"}')
    assert value == {"a": 12, "b": 1500.0, "c": "9" * 64}
    assert decode_json_object(b'{"n": ' + b"9" * 64 + b"}") == {"n": int("9" * 64)}


@pytest.mark.parametrize(
    "fixture", ["attack_xxe.xml", "attack_billion_laughs.xml", "attack_external_dtd.xml"]
)
def test_xml_callback_attacks_are_security_errors(fixture: str) -> None:
    with pytest.raises(XmlSecurityError, match="refused XML: DTDForbidden"):
        parse_callback_body(load_fixture(fixture))


def test_api_gateway_json_event_matches_the_base64_xml_event() -> None:
    event = load_event("apigw_json_callback.json")
    notice = parse_callback_body(event["body"].encode())
    xml_notice = parse_callback_body(base64.b64decode(load_event("apigw_base64.json")["body"]))
    assert notice == xml_notice
    assert notice.jobs[0].operation.media_info is not None
