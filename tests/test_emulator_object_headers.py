"""Standard headers stored with an object and ``response-*`` overrides, through the SDK.

PUT Object and Initiate Multipart Upload keep Cache-Control, Content-Disposition,
Content-Encoding, Content-Language and Expires (cos-facts.md section 6); GET and HEAD return
them; GET honours the six ``response-*`` parameters of the GET Object doc (signed by the SDK, as
COS requires for them) and HEAD does not. Every object answers its CRC-64.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path

import pytest
from qcloud_cos import CosS3Client  # noqa: TID251 -- test-only oracle

from emulator.cos.bodies import crc64
from tests.emulator_fixtures import BUCKET, Harness, start_harness
from tests.sdk_helpers import sdk_client

pytestmark = pytest.mark.e2e
STANDARD = {
    "CacheControl": "max-age=86400, public",
    "ContentDisposition": 'attachment; filename="clip 01.mp4"',
    "ContentEncoding": "gzip",
    "ContentLanguage": "zh-CN",
    "Expires": "Wed, 21 Oct 2037 07:28:00 GMT",
}
ON_THE_WIRE = {
    "Cache-Control": STANDARD["CacheControl"],
    "Content-Disposition": STANDARD["ContentDisposition"],
    "Content-Encoding": STANDARD["ContentEncoding"],
    "Content-Language": STANDARD["ContentLanguage"],
    "Expires": STANDARD["Expires"],
}
BODY = gzip.compress(b"subtitle text " * 100, mtime=0)


@pytest.fixture
def oracle(tmp_path: Path) -> Iterator[tuple[Harness, CosS3Client]]:
    running = start_harness(tmp_path)
    try:
        yield running, sdk_client(running.server.port, running.client.credentials)
    finally:
        running.server.stop()


def _read(answer: dict[str, object]) -> bytes:
    return answer["Body"].get_raw_stream().read()  # type: ignore[attr-defined,no-any-return]


def test_standard_headers_round_trip_on_put_head_and_get(
    oracle: tuple[Harness, CosS3Client],
) -> None:
    _, client = oracle
    put = client.put_object(Bucket=BUCKET, Key="sub.vtt", Body=BODY, ContentType="text/vtt",
                            **STANDARD)  # fmt: skip
    assert put["x-cos-hash-crc64ecma"] == str(crc64(BODY))
    head = client.head_object(Bucket=BUCKET, Key="sub.vtt")
    got = client.get_object(Bucket=BUCKET, Key="sub.vtt")
    for answer in (head, got):
        assert {name: answer.get(name) for name in ON_THE_WIRE} == ON_THE_WIRE
        assert answer["Content-Type"] == "text/vtt"
        assert answer["x-cos-hash-crc64ecma"] == str(crc64(BODY))
    assert _read(got) == BODY  # Content-Encoding is metadata: the bytes are stored as sent
    client.put_object(Bucket=BUCKET, Key="plain.bin", Body=b"x")
    plain = client.head_object(Bucket=BUCKET, Key="plain.bin")
    assert set(ON_THE_WIRE).isdisjoint(plain)  # "only if contained in the object metadata"
    assert plain["Content-Type"] == "application/octet-stream"


def test_multipart_initiate_stores_the_headers_too(oracle: tuple[Harness, CosS3Client]) -> None:
    _, client = oracle
    upload_id = client.create_multipart_upload(
        Bucket=BUCKET, Key="mp.vtt", ContentType="text/vtt", **STANDARD
    )["UploadId"]
    part = client.upload_part(Bucket=BUCKET, Key="mp.vtt", Body=BODY, PartNumber=1,
                              UploadId=upload_id)  # fmt: skip
    client.complete_multipart_upload(
        Bucket=BUCKET, Key="mp.vtt", UploadId=upload_id,
        MultipartUpload={"Part": [{"PartNumber": 1, "ETag": part["ETag"]}]},
    )  # fmt: skip
    head = client.head_object(Bucket=BUCKET, Key="mp.vtt")
    assert {name: head.get(name) for name in ON_THE_WIRE} == ON_THE_WIRE
    assert head["Content-Type"] == "text/vtt"


def test_response_overrides_change_get_only(oracle: tuple[Harness, CosS3Client]) -> None:
    harness, client = oracle
    client.put_object(Bucket=BUCKET, Key="clip.mp4", Body=b"video", ContentType="video/mp4",
                      CacheControl="no-cache")  # fmt: skip
    overrides = {
        "ResponseContentType": "application/octet-stream",
        "ResponseCacheControl": "max-age=86400",
        "ResponseContentDisposition": "attachment; filename=example.jpg",
        "ResponseContentEncoding": "identity",
        "ResponseContentLanguage": "en",
        "ResponseExpires": "Thu, 01 Jan 2037 00:00:00 GMT",
    }
    got = client.get_object(Bucket=BUCKET, Key="clip.mp4", **overrides)
    assert got["Content-Type"] == "application/octet-stream"
    assert got["Cache-Control"] == "max-age=86400"
    assert got["Content-Disposition"] == "attachment; filename=example.jpg"
    assert (got["Content-Encoding"], got["Content-Language"]) == ("identity", "en")
    assert got["Expires"] == "Thu, 01 Jan 2037 00:00:00 GMT"
    assert _read(got) == b"video"
    ranged = client.get_object(Bucket=BUCKET, Key="clip.mp4", Range="bytes=1-2",
                               ResponseContentType="text/plain")  # fmt: skip
    assert ranged["Content-Type"] == "text/plain" and _read(ranged) == b"id"
    stored = client.head_object(Bucket=BUCKET, Key="clip.mp4")
    assert (stored["Content-Type"], stored["Cache-Control"]) == ("video/mp4", "no-cache")
    head = harness.client.send("HEAD", "clip.mp4", params={"response-content-type": "text/x"})
    assert head.headers["Content-Type"] == "video/mp4"  # HEAD Object lists no response-*
