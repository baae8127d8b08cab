"""Multipart upload in the emulator, driven by cos-python-sdk-v5 (and raw requests for errors).

Shapes and codes from the COS API pages (/work/research/cos-facts.md section 1): part ETags are
the part's MD5 and carry its CRC-64 (the Upload Part doc's own example is one of the parts here),
the object's ETag is ``"<32 hex>-<parts>"``, Complete checks order, gaps, ETags and the 1 MiB
minimum, ListParts/ListMultipartUploads are what the SDK's ``upload_file`` resumes from.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from qcloud_cos import CosS3Client  # noqa: TID251 -- test-only oracle
from qcloud_cos.cos_exception import CosServiceError  # noqa: TID251 -- test-only oracle

from emulator.cos.bodies import crc64
from emulator.cos.multipart import checked_parts, parse_complete_body
from emulator.cos.multipart_store import Part
from emulator.wire import ServiceError
from shared.tencent.xml_answers import parse_error_body
from tests.emulator_fixtures import BUCKET, Harness, harness, start_harness
from tests.sdk_helpers import (
    DOC_CONTENT,
    DOC_CONTENT_CRC64,
    DOC_PART,
    DOC_PART_CRC64,
    DOC_PART_MD5,
    MIB,
    md5_hex,
    sdk_client,
)

__all__ = ["harness"]
MULTIPART_ETAG = re.compile(r'^"[0-9a-f]{32}-(\d+)"$')
PART_1 = bytes(range(256)) * (MIB // 256)  # exactly 1 MiB
PART_2 = b"\x5a" * MIB


@pytest.fixture
def oracle(tmp_path: Path) -> Iterator[tuple[Harness, CosS3Client]]:
    running = start_harness(tmp_path)
    try:
        yield running, sdk_client(running.server.port, running.client.credentials)
    finally:
        running.server.stop()


def _code(response: object) -> str:
    error = parse_error_body(response.content)  # type: ignore[attr-defined]
    assert error is not None
    return error.code


def _upload_three(client: CosS3Client, key: str, **initiate: str) -> tuple[str, list[dict]]:
    upload_id = client.create_multipart_upload(Bucket=BUCKET, Key=key, **initiate)["UploadId"]
    parts = []
    for number, body in ((1, PART_1), (2, PART_2), (3, DOC_PART)):
        answer = client.upload_part(
            Bucket=BUCKET, Key=key, Body=body, PartNumber=number, UploadId=upload_id
        )
        parts.append({"PartNumber": number, "ETag": answer["ETag"]})
    return upload_id, parts


# -- pure checks ------------------------------------------------------------------------------
def test_crc64_matches_the_values_cos_documents() -> None:
    assert str(crc64(DOC_PART)) == DOC_PART_CRC64
    assert str(crc64(DOC_CONTENT)) == DOC_CONTENT_CRC64
    assert crc64(b"") == 0
    assert crc64(b"123456789") == 0x995DC9BBDF1939FA  # CRC-64/XZ check value
    assert crc64(b"Content]", crc64(b"[Object ")) == int(DOC_CONTENT_CRC64)  # streamed


def _part(number: int, size: int) -> Part:
    return Part(number, md5_hex(str(number).encode()), size, "0", 0.0)


@pytest.mark.parametrize(
    ("listed", "code"),
    [
        ([(2, "2"), (1, "1")], "InvalidPartOrder"),
        ([(1, "1"), (1, "1")], "InvalidPartOrder"),
        ([(1, "1"), (3, "3")], "InvalidPart"),
        ([(1, "1"), (2, "0" * 32)], "InvalidPart"),
        ([(1, "1"), (4, "4")], "InvalidPart"),
        ([(2, "2"), (3, "3")], "EntityTooSmall"),
    ],
    ids=["descending", "repeated", "gap", "etag", "never-uploaded", "small-middle-part"],
)
def test_complete_refuses_a_bad_part_list(listed: list[tuple[int, str]], code: str) -> None:
    uploaded = {1: _part(1, MIB), 2: _part(2, MIB - 1), 3: _part(3, 10)}
    named = [(n, md5_hex(e.encode()) if len(e) == 1 else e) for n, e in listed]
    with pytest.raises(ServiceError, match=code) as caught:
        checked_parts(uploaded, named)
    assert caught.value.status == 400


def test_complete_accepts_a_small_last_part_and_a_subset() -> None:
    uploaded = {1: _part(1, MIB), 2: _part(2, 10), 3: _part(3, 10)}
    listed = [(1, uploaded[1].etag), (2, uploaded[2].etag)]
    assert checked_parts(uploaded, listed) == [uploaded[1], uploaded[2]]


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"<CompleteMultipartUpload/>",
        b"<Other><Part><PartNumber>1</PartNumber><ETag>x</ETag></Part></Other>",
        b"<CompleteMultipartUpload><Part><ETag>x</ETag></Part></CompleteMultipartUpload>",
        b"<CompleteMultipartUpload><Part><PartNumber>a</PartNumber><ETag>x</ETag></Part>",
    ],
    ids=["empty", "no-part", "root", "no-number", "truncated"],
)
def test_complete_body_must_be_a_part_list(body: bytes) -> None:
    with pytest.raises(ServiceError, match="MalformedXML"):
        parse_complete_body(body)


def test_complete_body_as_the_sdk_sends_it() -> None:
    body = (
        b'<?xml version="1.0" encoding="utf-8"?><CompleteMultipartUpload><Part><PartNumber>1'
        b"</PartNumber><ETag>&quot;D41D8CD98F00B204E9800998ECF8427E&quot;</ETag></Part>"
        b"</CompleteMultipartUpload>"
    )
    assert parse_complete_body(body) == [(1, "d41d8cd98f00b204e9800998ecf8427e")]


# -- through the SDK --------------------------------------------------------------------------
pytestmark_e2e = pytest.mark.e2e


@pytestmark_e2e
def test_parts_answer_md5_and_crc64_as_the_upload_part_doc(
    oracle: tuple[Harness, CosS3Client],
) -> None:
    _, client = oracle
    upload_id = client.create_multipart_upload(Bucket=BUCKET, Key="doc.bin")["UploadId"]
    assert re.fullmatch(r"\d{10}[0-9a-f]{64}", upload_id)
    answer = client.upload_part(
        Bucket=BUCKET, Key="doc.bin", Body=DOC_PART, PartNumber=1, UploadId=upload_id
    )
    assert answer["ETag"] == f'"{DOC_PART_MD5}"'
    assert answer["x-cos-hash-crc64ecma"] == DOC_PART_CRC64


@pytestmark_e2e
def test_complete_makes_the_object_with_initiate_metadata_and_announces_it(
    oracle: tuple[Harness, CosS3Client],
) -> None:
    harness, client = oracle
    key = "big/视频 clip+1.mp4"
    upload_id, parts = _upload_three(
        client,
        key,
        ContentType="video/mp4",
        Metadata={"x-cos-meta-origin": "camera"},
        Tagging="owner=alice&stage=raw%20cut",
        CacheControl="max-age=60",
    )
    assert harness.events == []  # parts announce nothing
    done = client.complete_multipart_upload(
        Bucket=BUCKET, Key=key, UploadId=upload_id, MultipartUpload={"Part": parts}
    )
    match = MULTIPART_ETAG.match(done["ETag"])
    assert match is not None and match.group(1) == "3"
    assert done["Key"] == key and done["Bucket"] == BUCKET
    assert done["Location"].endswith(f"{BUCKET}.cos.ap-guangzhou.myqcloud.com/{key}")
    whole = PART_1 + PART_2 + DOC_PART
    assert done["x-cos-hash-crc64ecma"] == str(crc64(whole))
    head = client.head_object(Bucket=BUCKET, Key=key)
    assert (head["ETag"], head["Content-Length"]) == (done["ETag"], str(len(whole)))
    assert head["Content-Type"] == "video/mp4" and head["x-cos-meta-origin"] == "camera"
    assert head["Cache-Control"] == "max-age=60"
    assert md5_hex(done["ETag"].strip('"').encode()) != md5_hex(whole)
    body = client.get_object(Bucket=BUCKET, Key=key)["Body"].get_raw_stream().read()
    assert body == whole
    tags = client.get_object_tagging(Bucket=BUCKET, Key=key)["TagSet"]["Tag"]
    assert tags == [{"Key": "owner", "Value": "alice"}, {"Key": "stage", "Value": "raw cut"}]
    (event,) = harness.events
    assert event.event_name == "cos:ObjectCreated:CompleteMultipartUpload"
    assert (event.key, event.size, event.etag) == (key, len(whole), done["ETag"].strip('"'))
    assert event.content_type == "video/mp4"
    assert event.request_headers["x-cos-meta-origin"] == "camera"
    assert "Upload" not in client.list_multipart_uploads(Bucket=BUCKET)


@pytestmark_e2e
def test_the_same_part_completed_twice_gets_two_etags_as_on_cos(
    oracle: tuple[Harness, CosS3Client],
) -> None:
    _, client = oracle
    etags = []
    for _ in range(2):
        upload_id = client.create_multipart_upload(Bucket=BUCKET, Key="once.txt")["UploadId"]
        part = client.upload_part(
            Bucket=BUCKET, Key="once.txt", Body=DOC_PART, PartNumber=1, UploadId=upload_id
        )
        listed = {"Part": [{"PartNumber": 1, "ETag": part["ETag"]}]}
        done = client.complete_multipart_upload(
            Bucket=BUCKET, Key="once.txt", UploadId=upload_id, MultipartUpload=listed
        )
        etags.append(done["ETag"])
    assert all(MULTIPART_ETAG.match(etag) for etag in etags)
    assert etags[0] != etags[1]  # COS: "42318fc0…-1" and "491509b1…-1" for this very part


@pytestmark_e2e
def test_refused_complete_keeps_the_upload_and_a_retried_part_replaces_the_first(
    oracle: tuple[Harness, CosS3Client],
) -> None:
    harness, client = oracle
    key = "retry.bin"
    upload_id, parts = _upload_three(client, key)
    with pytest.raises(CosServiceError, match="InvalidPart") as missing:
        client.complete_multipart_upload(
            Bucket=BUCKET,
            Key=key,
            UploadId=upload_id,
            MultipartUpload={"Part": [parts[2], {**parts[2], "PartNumber": 4}]},
        )
    assert (missing.value.get_status_code(), missing.value.get_error_code()) == (
        400,
        "InvalidPart",
    )
    retried = client.upload_part(
        Bucket=BUCKET, Key=key, Body=PART_2[::-1] + b"!", PartNumber=2, UploadId=upload_id
    )
    with pytest.raises(CosServiceError, match="InvalidPart") as stale:
        client.complete_multipart_upload(
            Bucket=BUCKET, Key=key, UploadId=upload_id, MultipartUpload={"Part": parts}
        )
    assert stale.value.get_error_code() == "InvalidPart"  # part 2's first ETag is gone
    listed = client.list_parts(Bucket=BUCKET, Key=key, UploadId=upload_id)
    assert [(p["PartNumber"], p["ETag"], p["Size"]) for p in listed["Part"]] == [
        ("1", parts[0]["ETag"], str(MIB)),
        ("2", retried["ETag"], str(MIB + 1)),
        ("3", parts[2]["ETag"], str(len(DOC_PART))),
    ]
    parts[1]["ETag"] = retried["ETag"]
    client.complete_multipart_upload(
        Bucket=BUCKET, Key=key, UploadId=upload_id, MultipartUpload={"Part": parts}
    )
    body = client.get_object(Bucket=BUCKET, Key=key)["Body"].get_raw_stream().read()
    assert body == PART_1 + PART_2[::-1] + b"!" + DOC_PART
    assert len(harness.events) == 1


@pytestmark_e2e
def test_small_parts_are_refused_at_complete(oracle: tuple[Harness, CosS3Client]) -> None:
    _, client = oracle
    upload_id = client.create_multipart_upload(Bucket=BUCKET, Key="tiny")["UploadId"]
    listed = []
    for number in (1, 2):
        part = client.upload_part(
            Bucket=BUCKET, Key="tiny", Body=DOC_PART, PartNumber=number, UploadId=upload_id
        )
        listed.append({"PartNumber": number, "ETag": part["ETag"]})
    with pytest.raises(CosServiceError, match="EntityTooSmall") as caught:
        client.complete_multipart_upload(
            Bucket=BUCKET, Key="tiny", UploadId=upload_id, MultipartUpload={"Part": listed}
        )
    assert (caught.value.get_status_code(), caught.value.get_error_code()) == (
        400,
        "EntityTooSmall",
    )


@pytestmark_e2e
def test_abort_and_unknown_uploads_are_no_such_upload(
    oracle: tuple[Harness, CosS3Client],
) -> None:
    harness, client = oracle
    upload_id, parts = _upload_three(client, "gone.bin")
    client.abort_multipart_upload(Bucket=BUCKET, Key="gone.bin", UploadId=upload_id)
    for call in (
        lambda: client.list_parts(Bucket=BUCKET, Key="gone.bin", UploadId=upload_id),
        lambda: client.abort_multipart_upload(Bucket=BUCKET, Key="gone.bin", UploadId=upload_id),
        lambda: client.complete_multipart_upload(
            Bucket=BUCKET, Key="gone.bin", UploadId=upload_id, MultipartUpload={"Part": parts}
        ),
        lambda: client.upload_part(
            Bucket=BUCKET, Key="gone.bin", Body=b"x", PartNumber=1, UploadId=upload_id
        ),
    ):
        with pytest.raises(CosServiceError, match="NoSuchUpload") as caught:
            call()
        assert (caught.value.get_status_code(), caught.value.get_error_code()) == (
            404,
            "NoSuchUpload",
        )
    other = client.create_multipart_upload(Bucket=BUCKET, Key="a.bin")["UploadId"]
    with pytest.raises(CosServiceError, match="NoSuchUpload"):  # the id belongs to another key
        client.list_parts(Bucket=BUCKET, Key="b.bin", UploadId=other)
    assert harness.events == []
    assert list((harness.server.store.data_dir / "cos-multipart").rglob("*.bin")) == []


@pytestmark_e2e
def test_raw_errors_part_number_digest_and_malformed_complete(harness: Harness) -> None:
    client = harness.client
    initiated = client.send("POST", "raw.bin", params={"uploads": ""})
    upload_id = re.search(rb"<UploadId>(\w+)</UploadId>", initiated.content)
    assert upload_id is not None
    params = {"uploadId": upload_id.group(1).decode()}
    for number in ("0", "10001", "x"):
        bad = client.send("PUT", "raw.bin", params={**params, "partNumber": number}, body=b"x")
        assert (bad.status_code, _code(bad)) == (400, "InvalidArgument")
    wrong_md5 = client.send(
        "PUT",
        "raw.bin",
        params={**params, "partNumber": "1"},
        body=b"x",
        headers={"Content-MD5": "AAAAAAAAAAAAAAAAAAAAAA=="},
    )
    assert (wrong_md5.status_code, _code(wrong_md5)) == (400, "BadDigest")
    malformed = client.send("POST", "raw.bin", params=params, body=b"<CompleteMultipartUpload>")
    assert (malformed.status_code, _code(malformed)) == (400, "MalformedXML")
    tags = client.send(
        "POST", "raw2.bin", params={"uploads": ""}, headers={"x-cos-tagging": "a=1,2"}
    )
    assert (tags.status_code, _code(tags)) == (400, "InvalidTag")
    on_get = client.send("GET", "raw.bin", params={"uploads": ""})
    assert on_get.status_code == 405
