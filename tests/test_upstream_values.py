"""Every place an upstream header or body value is converted, fed what used to crash it (issue
11): declared encodings expat refuses, Content-Length lists and junk, non-ASCII digits, error
bodies of any bytes. Each must end as a typed error (or None where documented), never a bare
ValueError/LookupError that reaches the handler's catch-all as a 500."""

from __future__ import annotations

from typing import Any

import pytest
import responses
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.errors import CiError, CosError, EventError, MalformedBodyError, TransportError
from shared.models import ObjectRef
from shared.tencent.ci_client import CiClient
from shared.tencent.cos_client import CosClient
from shared.tencent.xml_answers import parse_error_body, parse_jobs_response, parse_tagging
from shared.tencent.xml_parser import parse_xml
from shared.time_window import parse_ci_time
from shared.upload.cos_event import RecordError, parse_cos_event
from tests.client_helpers import (
    BUCKET,
    CI_HOST,
    COS_HOST,
    JOB_ID,
    REGION,
    expected_headers,
    make_transport,
    match_request,
    strict_mock,
)
from tests.events import cos_event, cos_record

KEY = "input/demo.mp4"
OBJ = ObjectRef(BUCKET, REGION, KEY)
REFUSED_ENCODINGS = ["UTF-7", "UTF-32", "UTF-32-LE", "Shift_JIS", "EUC-JP", "x-no-such-encoding"]


def declaring(encoding: str, root: str = "Response") -> bytes:
    return f'<?xml version="1.0" encoding="{encoding}"?><{root}/>'.encode()


@pytest.mark.parametrize("encoding", REFUSED_ENCODINGS)
def test_a_declared_encoding_expat_refuses_is_a_malformed_body(encoding: str) -> None:
    with pytest.raises(MalformedBodyError, match="declares an encoding"):
        parse_xml(declaring(encoding))
    with pytest.raises(MalformedBodyError, match="declares an encoding"):
        parse_jobs_response(declaring(encoding))
    with pytest.raises(MalformedBodyError, match="declares an encoding"):
        parse_tagging(declaring(encoding, "Tagging"))
    assert parse_error_body(declaring(encoding, "Error")) is None  # documented: never raises


@settings(max_examples=400, deadline=None)
@given(
    prolog=st.sampled_from([b"", *(declaring(e)[:-11] for e in REFUSED_ENCODINGS)]),
    tail=st.binary(max_size=200),
)
def test_parse_error_body_never_raises(prolog: bytes, tail: bytes) -> None:
    parsed = parse_error_body(prolog + tail)
    assert parsed is None or isinstance(parsed.code, str)


def add_head(mock: responses.RequestsMock, length: str | None) -> None:
    url = f"https://{COS_HOST}/{KEY}"
    headers = {"ETag": '"e"'} if length is None else {"ETag": '"e"', "Content-Length": length}
    signed = expected_headers("HEAD", url, COS_HOST, key=KEY)
    mock.add(responses.HEAD, url, headers=headers, auto_calculate_content_length=False,
             match=match_request(headers=signed))  # fmt: skip


@pytest.mark.parametrize(
    "length", ["2561690, 2561690", "lots", "12abc", "-5", "1e3", "²", "1" * 21, " ", None]
)
def test_a_head_content_length_that_is_not_one_decimal_is_a_cos_fault(length: str | None) -> None:
    with strict_mock() as mock:
        add_head(mock, length)
        with pytest.raises(CosError, match="MalformedResponse") as caught:
            CosClient(make_transport()).head_object(OBJ)
    assert caught.value.http_status == 502
    assert not caught.value.permanent  # the upload function lets SCF retry it


def test_a_head_content_length_the_http_stack_refuses_is_a_transport_failure() -> None:
    """'1, 2' is refused by urllib3 itself (InvalidHeader) before the client sees the answer."""
    with strict_mock() as mock:
        add_head(mock, "1, 2")
        with pytest.raises(TransportError, match="InvalidHeader"):
            CosClient(make_transport()).head_object(OBJ)


@pytest.mark.parametrize("encoding", ["UTF-7", "x-no-such-encoding"])
def test_ci_answers_and_error_bodies_with_refused_encodings_are_ci_faults(encoding: str) -> None:
    url = f"https://{CI_HOST}/jobs/{JOB_ID}"
    with strict_mock(ordered=True) as mock:
        mock.add(responses.GET, url, body=declaring(encoding))
        mock.add(responses.GET, url, status=403, body=declaring(encoding, "Error"))
        ci = CiClient(make_transport())
        with pytest.raises(CiError, match="MalformedResponse"):
            ci.describe_job(BUCKET, REGION, JOB_ID)
        with pytest.raises(CiError, match="HTTP403") as caught:
            ci.describe_job(BUCKET, REGION, JOB_ID)
    assert caught.value.http_status == 502


@pytest.mark.parametrize("size", ["²", "١٢٣", "1" * 5000, "-1", "1.5"])
def test_a_cos_event_size_that_is_not_ascii_digits_is_a_record_error(size: Any) -> None:
    record = cos_record("videos/a.mp4")
    record["cos"]["cosObject"]["size"] = size
    (parsed,) = parse_cos_event(cos_event(record))
    assert isinstance(parsed, RecordError)
    assert "cosObject.size" in parsed.problem


@pytest.mark.parametrize(
    "text", ["0001-01-01T00:00:00+2359", "9999-12-31T23:59:59-2359", "2024-02-30T00:00:00+0800"]
)
def test_extreme_or_impossible_ci_times_never_raise(text: str) -> None:
    value = parse_ci_time(text)
    assert value is None or isinstance(value, float)


def test_an_event_error_is_not_a_crash_either() -> None:
    assert issubclass(MalformedBodyError, EventError)  # 400 in the callback, never 500
