"""shared.tencent.xml_answers: request bodies byte-exact, response parsing, and refusal of hostile
XML.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from qcloud_cos.cos_comm import format_xml  # noqa: TID251 - test-only oracle (the official SDK)

from shared.callback.notice import parse_callback_body
from shared.errors import EventError, MalformedBodyError, XmlSecurityError
from shared.models import BucketPage, JobsPage, ListedObject
from shared.tencent.xml_answers import (
    ErrorBody,
    parse_error_body,
    parse_jobs_response,
    parse_list_bucket,
    parse_tagging,
)
from shared.tencent.xml_parser import MAX_XML_DEPTH, element_to_tree, parse_xml
from shared.tencent.xml_requests import build_media_info_job_request, build_tagging
from tests.codec_fixtures import ATTACK_FIXTURES, load_fixture

SEED_BODY = (
    b"<Request><Tag>MediaInfo</Tag><Input><Object>input/demo.mp4</Object></Input>"
    b"<Operation><UserData>req-42</UserData><JobLevel>0</JobLevel></Operation>"
    b"<CallBack>https://hooks.example.com/ci/callback?t=SECRET</CallBack>"
    b"<CallBackFormat>JSON</CallBackFormat></Request>"
)


def submit_body(**overrides: Any) -> bytes:
    args: dict[str, Any] = {
        "object_key": "input/demo.mp4",
        "user_data": "req-42",
        "job_level": 0,
        "callback_url": "https://hooks.example.com/ci/callback?t=SECRET",
        "callback_format": "JSON",
    }
    args.update(overrides)
    return build_media_info_job_request(**args)


def sdk_body(key: str, user_data: str, level: int, url: str, fmt: str) -> bytes:
    """What cos-python-sdk-v5's ci_create_media_jobs would send, minus its XML prolog."""
    jobs = {
        "Tag": "MediaInfo",
        "Input": {"Object": key},
        "Operation": {"UserData": user_data, "JobLevel": level},
        "CallBack": url,
        "CallBackFormat": fmt,
    }
    body: bytes = format_xml(jobs, "Request")
    return body.split(b"?>\n", 1)[1]


# --- POST /jobs body ------------------------------------------------------------------------


def test_submit_body_for_the_seed_inputs_is_byte_exact() -> None:
    assert submit_body() == SEED_BODY
    # the same document as the handbook sample, once its indentation is removed
    assert submit_body() == re.sub(rb">\s+<", b"><", load_fixture("ci_submit_request.xml").strip())


def test_submit_body_matches_the_official_sdk() -> None:
    args = ("v/a b+c%20 视频.mp4", "src=v/a", 2, "https://h.example.com/cb?t=s&u=1", "XML")
    body = submit_body(
        object_key=args[0],
        user_data=args[1],
        job_level=args[2],
        callback_url=args[3],
        callback_format=args[4],
    )
    assert body == sdk_body(*args)


def test_submit_body_escapes_markup_in_key_and_url() -> None:
    body = submit_body(object_key="a&b<c>d.mp4", callback_url="https://h/cb?t=1&x=<y>")
    assert b"<Object>a&amp;b&lt;c&gt;d.mp4</Object>" in body
    assert b"<CallBack>https://h/cb?t=1&amp;x=&lt;y&gt;</CallBack>" in body
    tree = element_to_tree(parse_xml(body))
    assert tree["Input"]["Object"] == "a&b<c>d.mp4"
    assert tree["CallBack"] == "https://h/cb?t=1&x=<y>"


def test_submit_body_keeps_a_carriage_return_in_a_key_as_a_reference() -> None:
    body = submit_body(object_key="a\rb\n\tc")
    assert b"<Object>a&#13;b\n\tc</Object>" in body
    assert element_to_tree(parse_xml(body))["Input"]["Object"] == "a\rb\n\tc"


@pytest.mark.parametrize("bad", ["a\x00b", "a\x01", "\x0b", "\x1f", "x\ufffe", "x\uffff", "\ud800"])
def test_characters_xml_cannot_carry_are_refused(bad: str) -> None:
    with pytest.raises(EventError, match=r"XML 1\.0"):
        submit_body(object_key=bad)
    with pytest.raises(EventError, match=r"which XML 1\.0 cannot carry"):
        submit_body(callback_url="https://h/" + bad)


USER_DATA_RULE = "UserData must be at most 1024 printable ASCII characters"


@pytest.mark.parametrize(
    ("overrides", "error", "reason"),
    [
        ({"object_key": ""}, EventError, "object key is empty"),
        ({"user_data": "x" * 1025}, EventError, USER_DATA_RULE),
        ({"user_data": "caf\u00e9"}, EventError, USER_DATA_RULE),
        ({"user_data": "line\nbreak"}, EventError, USER_DATA_RULE),
        ({"job_level": 3}, ValueError, "JobLevel must be one of [0, 1, 2], not 3"),
        ({"job_level": True}, ValueError, "JobLevel must be one of [0, 1, 2], not True"),
        ({"callback_format": "json"}, ValueError, "CallBackFormat must be JSON or XML, not 'json'"),
        ({"callback_url": ""}, ValueError, "callback URL is empty"),
    ],
)
def test_submit_body_refuses_bad_arguments(
    overrides: dict[str, Any], error: type[Exception], reason: str
) -> None:
    with pytest.raises(error, match=re.escape(reason)):
        submit_body(**overrides)


def test_user_data_of_exactly_1024_printable_characters_is_accepted() -> None:
    assert b"<UserData>" + b"~" * 1024 + b"</UserData>" in submit_body(user_data="~" * 1024)


xml_text = st.text(
    alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\ufffe\uffff"),
    min_size=1,
).filter(lambda s: not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f]", s))


@settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)  # shared CI box
@given(key=xml_text, url=xml_text)
def test_any_legal_key_and_url_survive_build_then_parse(key: str, url: str) -> None:
    tree = element_to_tree(parse_xml(submit_body(object_key=key, callback_url=url)))
    assert tree["Input"]["Object"] == key
    assert tree["CallBack"] == url


# --- tagging --------------------------------------------------------------------------------


def test_build_tagging_is_exact_and_matches_the_sdk() -> None:
    tags = (("media:codec", "h264"), ("项目 A", "a&b <c>"))
    expected = (
        "<Tagging><TagSet><Tag><Key>media:codec</Key><Value>h264</Value></Tag>"
        "<Tag><Key>项目 A</Key><Value>a&amp;b &lt;c&gt;</Value></Tag></TagSet></Tagging>"
    ).encode()
    assert build_tagging(tags) == expected
    sdk = format_xml({"TagSet": {"Tag": [{"Key": k, "Value": v} for k, v in tags]}}, "Tagging")
    assert expected == sdk.split(b"?>\n", 1)[1]


def test_build_tagging_of_nothing_is_an_empty_tag_set() -> None:
    assert build_tagging(()) == b"<Tagging><TagSet></TagSet></Tagging>"


@settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)  # shared CI box
@given(st.lists(st.tuples(xml_text, xml_text), max_size=10).map(tuple))
def test_tagging_round_trips(tags: tuple[tuple[str, str], ...]) -> None:
    assert parse_tagging(build_tagging(tags)) == tags


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        (
            "cos_tagging.xml",
            (
                ("media:duration", "31.533"),
                ("项目组", "视频 A+B=C"),
                ("owner", "ops@example.com"),
            ),
        ),
        ("cos_tagging_single.xml", (("only", "one"),)),
        ("cos_tagging_empty.xml", ()),
    ],
)
def test_parse_tagging_fixtures(fixture: str, expected: tuple[tuple[str, str], ...]) -> None:
    assert parse_tagging(load_fixture(fixture)) == expected


def test_parse_tagging_keeps_an_empty_value_and_tolerates_no_tag_set() -> None:
    body = b"<Tagging><TagSet><Tag><Key>k</Key><Value/></Tag></TagSet></Tagging>"
    assert parse_tagging(body) == (("k", ""),)
    no_value = b"<Tagging><TagSet><Tag><Key>k</Key></Tag></TagSet></Tagging>"
    assert parse_tagging(no_value) == (("k", ""),)  # no <Value> at all: an empty value
    assert parse_tagging(b"<Tagging/>") == ()


TAG_RULE = "a <Tag> needs a text <Key> and a text <Value>"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"<Tagging><TagSet><Tag><Value>v</Value></Tag></TagSet></Tagging>", TAG_RULE),
        (
            b"<Tagging><TagSet><Tag><Key><b>x</b></Key><Value>v</Value></Tag></TagSet></Tagging>",
            TAG_RULE,
        ),
        (b"<Tagging><TagSet>text</TagSet></Tagging>", "TagSet has text where elements were"),
        (b"<Error><Code>NoSuchTagSet</Code></Error>", "expected <Tagging>, got <Error>"),
    ],
)
def test_parse_tagging_refuses_other_shapes(body: bytes, reason: str) -> None:
    with pytest.raises(MalformedBodyError, match=re.escape(reason)):
        parse_tagging(body)


# --- error bodies ---------------------------------------------------------------------------


def test_parse_cos_error_body() -> None:
    error = parse_error_body(load_fixture("cos_error.xml"))
    assert error == ErrorBody(
        code="NoSuchKey",
        message="The specified key does not exist.",
        request_id="NjQ4MmE1ZjBfOGQyNzE5MV8xZGZmXzE0NGZh",
        resource="media-uploads-1250000000.cos.ap-guangzhou.myqcloud.com/videos/missing.mp4",
        trace_id="OGVmYzZiMmQzYjA2OWNhODk0NTRkMTBiOWVmMDAxODc0OWRkZjk0ZDM1NmI1M2E2MTRlY2MzZDhmNmI5MWI1OQ==",
    )


def test_parse_ci_error_body() -> None:
    error = parse_error_body(load_fixture("ci_error.xml"))
    assert error is not None
    assert (error.code, error.message) == ("SlowDown", "Please reduce your request rate.")
    assert error.request_id == "NjQ4MmE1ZjBfYzZkMjI2NF8xMGE0XzE="
    assert error.resource is None
    assert error.trace_id is not None and error.trace_id.startswith("OGVmYzZi")


def test_parse_error_body_without_fields() -> None:
    assert parse_error_body(b"<Error/>") == ErrorBody("", "", None, None)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"   \n",
        b"<html><body>502 Bad Gateway</body></html>",
        b'{"Error": {"Code": "x"}}',
        b"<Error><Code>unclosed",
        b"\xff\xfe\x00garbage",
        b"<Response><JobsDetail/></Response>",
    ],
)
def test_parse_error_body_answers_none_for_anything_else(body: bytes) -> None:
    assert parse_error_body(body) is None


# --- CI job answers -------------------------------------------------------------------------


def test_parse_submit_response() -> None:
    page = parse_jobs_response(load_fixture("ci_submit_response.xml"))
    assert page.non_exist_job_ids == () and page.next_token is None
    (job,) = page.jobs
    assert (job.job_id, job.state, job.tag) == (
        "j229ed9e2f60c11ec8525e36307395bf9",
        "Submitted",
        "MediaInfo",
    )
    assert (job.code, job.message) == ("Success", None)
    assert job.creation_time == "2022-06-27T15:23:10+0800"
    assert (job.start_time, job.end_time) == (None, None)
    assert job.queue_id == "p2242ab62c7c94486915508540933a2c6"
    assert (job.input.bucket_id, job.input.object, job.input.region) == (
        "test-123456789",
        "input/demo.mp4",
        "ap-chongqing",
    )
    assert (job.operation.user_data, job.operation.job_level) == ("This is my data.", 0)
    assert job.operation.media_info is None
    assert not job.is_finished


def test_parse_describe_with_non_exist_job_ids() -> None:
    page = parse_jobs_response(load_fixture("ci_describe_with_nonexist.xml"))
    (job,) = page.jobs
    assert (job.state, job.code) == ("Failed", "Failed")
    assert job.message == "The input file format is not supported"
    assert job.input.object == "docs/readme & notes <v2>.txt"
    assert job.operation.job_level == 1
    assert page.non_exist_job_ids == (
        "j00000000000000000000000000000001",
        "j00000000000000000000000000000002",
        "j00000000000000000000000000000003",
    )


def test_parse_describe_where_no_job_exists() -> None:
    page = parse_jobs_response(load_fixture("ci_describe_all_unknown.xml"))
    assert page.jobs == ()
    assert page.non_exist_job_ids == (
        "jdeadbeef000000000000000000000001",
        "jdeadbeef000000000000000000000002",
    )


def test_parse_job_list_with_next_token() -> None:
    page = parse_jobs_response(load_fixture("ci_jobs_list.xml"))
    assert [job.job_id for job in page.jobs] == [
        "ja000000000000000000000000000000a",
        "jb000000000000000000000000000000b",
    ]
    first, second = page.jobs
    assert first.operation.media_info is not None
    assert first.operation.media_info.format is not None
    assert first.operation.media_info.format.duration_s == 12.5
    assert first.operation.media_info.videos[0].width == 640
    assert (second.state, second.code, second.end_time, second.queue_id) == (
        "Running",
        None,
        None,
        None,
    )
    assert second.operation.job_level == 2
    assert page.next_token == "Y3Vyc29yLTI="


@pytest.mark.parametrize(("text", "token"), [("  ", None), (" abc= ", "abc="), ("", None)])
def test_next_token_is_stripped_and_blank_means_none(text: str, token: str | None) -> None:
    body = f"<Response><NextToken>{text}</NextToken></Response>".encode()
    assert parse_jobs_response(body).next_token == token


def test_parse_empty_job_list() -> None:
    assert parse_jobs_response(load_fixture("ci_jobs_list_empty.xml")) == JobsPage()


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (
            b"<Response><JobsDetail><State>Success</State></JobsDetail></Response>",
            "JobsDetail without JobId or State",
        ),
        (
            b"<Response><JobsDetail><JobId>j1</JobId><State/></JobsDetail></Response>",
            "JobsDetail without JobId or State",
        ),
        (b"<Response><JobsDetail>text</JobsDetail></Response>", "JobsDetail has text where"),
        (b"<Error><Code>InvalidArgument</Code></Error>", "expected <Response>, got <Error>"),
    ],
)
def test_parse_jobs_response_refuses_what_is_not_a_job(body: bytes, reason: str) -> None:
    with pytest.raises(MalformedBodyError, match=re.escape(reason)):
        parse_jobs_response(body)


# --- GET Bucket -----------------------------------------------------------------------------


def test_parse_list_bucket() -> None:
    page = parse_list_bucket(load_fixture("cos_list_bucket.xml"))
    assert page == BucketPage(
        objects=(
            ListedObject(
                key="videos/a&b.mp4",
                etag="ee8de918d05640145b18f70f4c3aa602",
                size=2561690,
                last_modified="2024-11-25T02:02:11.000Z",
            ),
            ListedObject(
                key="videos/b c.mov",
                etag="1f0a3b5c6d7e8f90a1b2c3d4e5f60718-3",
                size=0,
                last_modified="2024-11-25T02:03:00.000Z",
            ),
        ),
        is_truncated=True,
        next_marker="videos/b c.mov",
        common_prefixes=("videos/2023/", "videos/2024/"),
    )


def test_parse_list_bucket_decodes_url_encoded_keys() -> None:
    page = parse_list_bucket(load_fixture("cos_list_bucket_url.xml"))
    assert [obj.key for obj in page.objects] == ["视频/测试 文件.mp4"]
    assert page.common_prefixes == ("视频/子/",)
    assert page.is_truncated is False


@pytest.mark.parametrize(
    ("text", "truncated"),
    [
        ("true", True),
        ("True", True),  # COS documents lower case; other spellings must not end the listing
        ("TRUE", True),
        (" true\n ", True),  # padded (a pretty-printed answer)
        ("false", False),
        ("False", False),
        ("", False),
        ("yes", False),
    ],
)
def test_is_truncated_is_read_case_and_space_insensitively(text: str, truncated: bool) -> None:
    body = (
        "<ListBucketResult><Name>b</Name><IsTruncated>" + text + "</IsTruncated>"
        "<NextMarker>k</NextMarker></ListBucketResult>"
    ).encode()
    assert parse_list_bucket(body).is_truncated is truncated


def test_parse_empty_list_bucket() -> None:
    assert parse_list_bucket(load_fixture("cos_list_bucket_empty.xml")) == BucketPage(
        objects=(), is_truncated=False
    )


NO_SIZE = "<Contents> 'k' has no valid <Size>"


@pytest.mark.parametrize(
    ("contents", "reason"),
    [
        (b"<Contents><Size>1</Size></Contents>", "a <Contents> entry has no <Key>"),
        (b"<Contents><Key>k</Key></Contents>", NO_SIZE),
        (b"<Contents><Key>k</Key><Size>-1</Size></Contents>", NO_SIZE),
        (b"<Contents><Key>k</Key><Size>1.5</Size></Contents>", NO_SIZE),
        (b"<Contents><Key>k</Key><Size>" + b"9" * 5000 + b"</Size></Contents>", NO_SIZE),
        (b"<Contents><Key>k</Key><Size>\xd9\xa1</Size></Contents>", NO_SIZE),  # Arabic-Indic 1
    ],
)
def test_parse_list_bucket_refuses_entries_without_key_or_size(
    contents: bytes, reason: str
) -> None:
    with pytest.raises(MalformedBodyError, match=re.escape(reason)):
        parse_list_bucket(b"<ListBucketResult>" + contents + b"</ListBucketResult>")


# --- generic tree ---------------------------------------------------------------------------


def test_element_to_tree_groups_repeated_siblings_and_keeps_leaf_text() -> None:
    root = parse_xml(
        '<r xmlns="http://example.com/ns"><a>1</a><b/><a>2</a><c><d> x </d></c><a>3</a></r>'
    )
    assert element_to_tree(root) == {"a": ["1", "2", "3"], "b": "", "c": {"d": " x "}}


def test_parse_xml_accepts_text_and_utf8_bytes_with_prolog() -> None:
    body = '<?xml version="1.0" encoding="utf-8"?><a><b>视频</b></a>'
    assert parse_xml(body).find("b").text == "视频"  # type: ignore[union-attr]
    assert parse_xml(body.encode()).find("b").text == "视频"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "no element found"),
        (b"<a>", "no element found"),
        (b"<a></b>", "mismatched tag"),
        (b"not xml", "syntax error"),
        (b"<a>\xff</a>", "not well-formed \\(invalid token\\)"),
        (b"<a/><b/>", "junk after document element"),
    ],
)
def test_parse_xml_refuses_broken_xml(body: bytes, reason: str) -> None:
    with pytest.raises(MalformedBodyError, match="XML is not well-formed: " + reason) as caught:
        parse_xml(body)
    assert not isinstance(caught.value, XmlSecurityError)


def nested(depth: int) -> bytes:
    return b"<a>" * depth + b"x" + b"</a>" * depth


def test_parse_xml_depth_limit() -> None:
    assert parse_xml(nested(MAX_XML_DEPTH)).tag == "a"
    with pytest.raises(MalformedBodyError, match="deeper"):
        parse_xml(nested(MAX_XML_DEPTH + 1))


# --- hostile XML, for every parser --------------------------------------------------------

PARSERS: dict[str, Callable[[bytes], object]] = {
    "parse_xml": parse_xml,
    "parse_tagging": parse_tagging,
    "parse_jobs_response": parse_jobs_response,
    "parse_list_bucket": parse_list_bucket,
    "parse_callback_body": parse_callback_body,
}


@pytest.mark.parametrize("parser", PARSERS.values(), ids=list(PARSERS))
@pytest.mark.parametrize("fixture", ATTACK_FIXTURES)
def test_every_parser_refuses_dtds_entities_and_external_references(
    parser: Callable[[bytes], object], fixture: str
) -> None:
    with pytest.raises(XmlSecurityError, match="refused XML: DTDForbidden"):
        parser(load_fixture(fixture))


@pytest.mark.parametrize("name", [name for name in PARSERS if name != "parse_callback_body"])
def test_every_response_parser_refuses_an_attack_in_utf16(name: str) -> None:
    # (parse_callback_body sniffs for '<' or '{' and refuses UTF-16 before parsing at all)
    body = load_fixture("attack_xxe.xml").decode().replace('<?xml version="1.0"?>\n', "")
    with pytest.raises(XmlSecurityError, match="refused XML: DTDForbidden"):
        PARSERS[name](body.encode("utf-16"))


@pytest.mark.parametrize("parser", PARSERS.values(), ids=list(PARSERS))
def test_every_parser_refuses_deep_nesting(parser: Callable[[bytes], object]) -> None:
    with pytest.raises(MalformedBodyError, match="deeper"):
        parser(nested(100_000))


@pytest.mark.parametrize("fixture", ATTACK_FIXTURES)
def test_error_body_parser_refuses_attacks_quietly(fixture: str) -> None:
    assert parse_error_body(load_fixture(fixture)) is None
    assert parse_error_body(nested(100_000)) is None


def test_the_refused_characters_are_exactly_those_xml_1_0_cannot_carry() -> None:
    from shared.tencent.xml_requests import _NOT_XML_CHAR

    def allowed_by_the_spec(code: int) -> bool:  # XML 1.0 production [2] Char
        return (
            code in (0x9, 0xA, 0xD)
            or 0x20 <= code <= 0xD7FF
            or 0xE000 <= code <= 0xFFFD
            or 0x10000 <= code <= 0x10FFFF
        )

    wrong = [
        code
        for code in range(0x110000)
        if (_NOT_XML_CHAR.search(chr(code)) is None) != allowed_by_the_spec(code)
    ]
    assert wrong == []
