"""COS trigger event parsing: bucket, region, raw key, ETag, version; per-record errors."""

from __future__ import annotations

from typing import Any

import pytest

from shared.errors import EventError
from shared.models import ObjectRef
from shared.upload.cos_event import RecordError, UploadRecord, parse_cos_event, region_of
from tests.events import cos_event, cos_record, load_event


def only_record(event: dict[str, Any]) -> UploadRecord:
    (parsed,) = parse_cos_event(event)
    assert isinstance(parsed, UploadRecord), parsed
    return parsed


def test_put_sample() -> None:
    record = only_record(load_event("cos_put"))
    assert record == UploadRecord(
        index=0,
        bucket="media-uploads-1250000000",
        region="ap-guangzhou",
        key="videos/2024/11/demo.mp4",
        size=2561690,
        etag="eb6cf523ae4d528e72f2d11f3a91cd40",
        version_id=None,
        event_name="cos:ObjectCreated:Put",
        request_id="NjU2MWE5ZjBfYjQzMjA4MDlfMTdkYzFfMWEyYjNjNA==",
        event_time=1732500123,
    )
    assert record.object_ref == ObjectRef(
        "media-uploads-1250000000", "ap-guangzhou", "videos/2024/11/demo.mp4", None
    )


def test_multipart_sample_has_two_records() -> None:
    first, second = parse_cos_event(load_event("cos_multipart"))
    assert isinstance(first, UploadRecord)
    assert isinstance(second, UploadRecord)
    assert (first.index, first.key, first.size) == (
        0,
        "videos/2024/11/big-lecture.mov",
        1610612736,
    )
    assert (second.index, second.key, second.etag) == (
        1,
        "audio/2024/11/podcast-ep12.m4a",
        "0a1b2c3d4e5f60718293a4b5c6d7e8f9",
    )
    assert first.event_name == "cos:ObjectCreated:CompleteMultipartUpload"


@pytest.mark.parametrize(
    ("event_name", "key"),
    [
        ("cos_unicode_key", "视频/2024 夏天/我的 旅行 video (1).mp4"),
        ("cos_key_space", "videos/my holiday clip (final).mp4"),
        ("cos_key_plus_percent", "videos/a+b=c 100% done%2B.mp4"),
        ("cos_upper_mov", "videos/IMG_0042.MOV"),
        ("cos_folder_marker", "videos/2024/12/"),
    ],
)
def test_keys_are_taken_raw_never_url_decoded(event_name: str, key: str) -> None:
    assert only_record(load_event(event_name)).key == key


def test_multipart_etag_keeps_its_part_count() -> None:
    assert only_record(load_event("cos_upper_mov")).etag == "3d4e5f60718293a4b5c6d7e8f90a1b23-5"


def test_missing_etag_is_none() -> None:
    assert only_record(cos_event(cos_record(etag=None))).etag is None


def test_lower_case_etag_meta_name_is_accepted() -> None:
    record = cos_record()
    meta = record["cos"]["cosObject"]["meta"]
    meta["etag"] = meta.pop("ETag")
    assert only_record(cos_event(record)).etag == "eb6cf523ae4d528e72f2d11f3a91cd40"


def test_version_id() -> None:
    assert only_record(cos_event(cos_record(vid="MTg0NDUxNTc1NjIzMTQ1MDAwODg"))).version_id == (
        "MTg0NDUxNTc1NjIzMTQ1MDAwODg"
    )


@pytest.mark.parametrize(
    ("code", "region"),
    [
        ("gz", "ap-guangzhou"),
        ("sh", "ap-shanghai"),
        ("bj", "ap-beijing"),
        ("cd", "ap-chengdu"),
        ("cq", "ap-chongqing"),
        ("nj", "ap-nanjing"),
        ("tj", "ap-beijing-1"),
        ("hk", "ap-hongkong"),
        ("sg", "ap-singapore"),
        ("bkk", "ap-bangkok"),
        ("jkt", "ap-jakarta"),
        ("in", "ap-mumbai"),
        ("mumbai", "ap-mumbai"),
        ("tok", "ap-tokyo"),
        ("sel", "ap-seoul"),
        ("sao", "sa-saopaulo"),
        ("sv", "na-siliconvalley"),
        ("va", "na-ashburn"),
        ("fra", "eu-frankfurt"),
        ("ap-shanghai", "ap-shanghai"),  # a long name in the short field is used as is
    ],
)
def test_short_region_codes(code: str, region: str) -> None:
    record = only_record(cos_event(cos_record(region_code=code, cos_region=None)))
    assert record.region == region


def test_cos_region_wins_over_the_short_code() -> None:
    record = only_record(cos_event(cos_record(region_code="gz", cos_region="ap-shanghai")))
    assert record.region == "ap-shanghai"


def test_s3_region_is_used_without_cos_region() -> None:
    bucket = {"region": "zz", "s3Region": "eu-frankfurt"}
    assert region_of(bucket) == "eu-frankfurt"


def test_unknown_short_code_is_a_record_error() -> None:
    (parsed,) = parse_cos_event(cos_event(cos_record(region_code="zz", cos_region=None)))
    assert isinstance(parsed, RecordError)
    assert "zz" in parsed.problem
    assert parsed.key == "/1250000000/media-uploads/videos/2024/11/demo.mp4"


def _broken(change: str) -> dict[str, Any]:
    record = cos_record()
    obj = record["cos"]["cosObject"]
    if change == "no-cos":
        del record["cos"]
    elif change == "no-size":
        del obj["size"]
    elif change == "negative-size":
        obj["size"] = -1
    elif change == "bool-size":
        obj["size"] = True
    elif change == "foreign-prefix":
        obj["key"] = "/1250000001/media-uploads/videos/x.mp4"
    elif change == "no-object-name":
        obj["key"] = "/1250000000/media-uploads/"
    elif change == "no-event-name":
        del record["event"]["eventName"]
    elif change == "appid-not-numeric":
        record["cos"]["cosBucket"]["appid"] = "abc"
    elif change == "key-not-string":
        obj["key"] = 42
    return record


@pytest.mark.parametrize(
    "change",
    [
        "no-cos",
        "no-size",
        "negative-size",
        "bool-size",
        "foreign-prefix",
        "no-object-name",
        "no-event-name",
        "appid-not-numeric",
        "key-not-string",
    ],
)
def test_broken_records_become_record_errors(change: str) -> None:
    (parsed,) = parse_cos_event(cos_event(_broken(change)))
    assert isinstance(parsed, RecordError)
    assert isinstance(parsed, EventError)
    assert parsed.index == 0


def test_a_broken_record_does_not_hide_the_others() -> None:
    first, broken, third = parse_cos_event(load_event("cos_several_records_one_broken"))
    assert isinstance(first, UploadRecord)
    assert first.key == "videos/first.mp4"
    assert isinstance(broken, RecordError)
    assert broken.index == 1
    assert broken.key == "/1250000000/media-uploads/videos/broken-record.mp4"
    assert isinstance(third, UploadRecord)
    assert (third.index, third.key, third.event_name) == (
        2,
        "audio/third.m4a",
        "cos:ObjectCreated:Post",
    )


def test_a_record_that_is_not_an_object() -> None:
    (parsed,) = parse_cos_event({"Records": ["nope"]})
    assert isinstance(parsed, RecordError)
    assert parsed.key is None


def test_numeric_appid_and_string_size_are_tolerated() -> None:
    record = cos_record()
    record["cos"]["cosBucket"]["appid"] = 1250000000
    record["cos"]["cosObject"]["size"] = "2561690"
    parsed = only_record(cos_event(record))
    assert (parsed.bucket, parsed.size) == ("media-uploads-1250000000", 2561690)


@pytest.mark.parametrize("event", [None, [], {}, {"Records": {}}, "Records"])
def test_not_a_cos_event(event: Any) -> None:
    with pytest.raises(EventError, match="not a COS trigger event: no Records list"):
        parse_cos_event(event)


def test_empty_records_list() -> None:
    assert parse_cos_event({"Records": []}) == ()
