"""Ranged and conditional GET/HEAD Object, as the GET/HEAD Object docs describe them.

Through cos-python-sdk-v5: ``Range: bytes=0-1`` is 206 with 2 bytes (the Node.js SDK report in
issue 20 saw 200 and the whole object), ``If-None-Match`` with the current ETag is 304, a failed
``If-Match`` / ``If-Unmodified-Since`` is 412, and ``download_file`` reassembles a multipart
object from ranged GETs and verifies the whole object's CRC-64. The emulator's clock is
injected, so Last-Modified is exact and no test sleeps.
"""

from __future__ import annotations

from collections.abc import Iterator
from email.utils import formatdate
from pathlib import Path

import pytest
from qcloud_cos import CosS3Client  # noqa: TID251 -- test-only oracle
from qcloud_cos.cos_exception import CosServiceError  # noqa: TID251 -- test-only oracle

from emulator.cos.conditional import check_preconditions
from emulator.cos.ranges import ByteRange, UnsatisfiableRangeError, requested_range
from emulator.cos.store import ObjectStore
from emulator.wire import ServiceError
from shared.tencent.xml_answers import parse_error_body
from tests.client_helpers import frozen_sdk_clock
from tests.emulator_fixtures import BUCKET, Harness, start_harness
from tests.sdk_helpers import DOC_CONTENT, DOC_CONTENT_CRC64, MIB, file_md5, md5_hex, sdk_client

# The emulator's clock while these tests run (objects' Last-Modified) and the clock the SDK signs
# with: one fixed second (2025-12-01T09:27:14Z), so no test depends on when it runs.
NOW = 1_764_581_234.0
BEFORE, AFTER = formatdate(NOW - 3600, usegmt=True), formatdate(NOW + 3600, usegmt=True)
AT = formatdate(NOW, usegmt=True)


# -- pure rules -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes=0-1", (0, 1)),
        ("bytes=8-14", (8, 14)),
        ("bytes=10-", (10, 15)),
        ("bytes=-4", (12, 15)),
        ("bytes=-100", (0, 15)),
        ("bytes=3-999", (3, 15)),
        ("bytes=15-15", (15, 15)),
    ],
)
def test_single_ranges_of_a_16_byte_object(header: str, expected: tuple[int, int]) -> None:
    assert requested_range(header, 16) == ByteRange(*expected, 16)


@pytest.mark.parametrize("header", [None, "bytes=5-2", "items=0-1", "bytes=0-1,4-5", "bytes=-"])
def test_headers_that_are_not_one_byte_range_are_ignored(header: str | None) -> None:
    assert requested_range(header, 16) is None


@pytest.mark.parametrize(("header", "size"), [("bytes=16-", 16), ("bytes=-0", 16), ("bytes=0-", 0)])
def test_ranges_outside_the_object_are_416(header: str, size: int) -> None:
    with pytest.raises(UnsatisfiableRangeError, match="InvalidRange") as caught:
        requested_range(header, size)
    assert caught.value.headers == (("Content-Range", f"bytes */{size}"),)


@pytest.mark.parametrize(
    ("headers", "outcome"),
    [
        ({"if-match": '"e1"'}, None),
        ({"if-match": '"other", "e1"'}, None),
        ({"if-match": "*"}, None),
        ({"if-match": '"other"'}, 412),
        ({"if-none-match": '"e1"'}, 304),
        ({"if-none-match": 'W/"e1"'}, 304),
        ({"if-none-match": '"other"'}, None),
        ({"if-modified-since": AT}, 304),
        ({"if-modified-since": BEFORE}, None),
        ({"if-unmodified-since": AT}, None),
        ({"if-unmodified-since": BEFORE}, 412),
        ({"if-unmodified-since": "not a date"}, None),
        ({"if-match": '"e1"', "if-unmodified-since": BEFORE}, None),  # If-Match wins
        ({"if-none-match": '"other"', "if-modified-since": AFTER}, None),  # If-None-Match wins
        ({"if-match": '"e1"', "if-none-match": '"e1"'}, 304),
        ({"if-match": '"x"', "if-none-match": '"e1"'}, 412),  # 412 is checked first
    ],
)
def test_precondition_order_is_rfc_7232(headers: dict[str, str], outcome: int | None) -> None:
    if outcome == 412:
        with pytest.raises(ServiceError, match="PreconditionFailed"):
            check_preconditions(headers, "e1", NOW + 0.75)
    else:
        assert check_preconditions(headers, "e1", NOW + 0.75) == outcome


# -- through the SDK --------------------------------------------------------------------------
@pytest.fixture
def oracle(tmp_path: Path) -> Iterator[tuple[Harness, CosS3Client]]:
    running = start_harness(tmp_path, clock=lambda: NOW + 0.25)
    # The SDK signs from its own clock with 60 s of slack; NOW was taken at collection, which in
    # a full run is minutes earlier: sign at NOW too, or the emulator answers "Request has expired".
    try:
        with frozen_sdk_clock(NOW + 0.25):
            client = sdk_client(running.server.port, running.client.credentials)
            client.put_object(Bucket=BUCKET, Key="doc.txt", Body=DOC_CONTENT, ContentType="text/x")
            yield running, client
    finally:
        running.server.stop()


@pytest.mark.e2e
def test_range_get_answers_206_with_the_whole_objects_crc(
    oracle: tuple[Harness, CosS3Client],
) -> None:
    harness, client = oracle
    two = client.get_object(Bucket=BUCKET, Key="doc.txt", Range="bytes=0-1")
    assert two["Body"].get_raw_stream().read() == b"[O"
    assert (two["Content-Range"], two["Content-Length"]) == ("bytes 0-1/16", "2")
    assert two["x-cos-hash-crc64ecma"] == DOC_CONTENT_CRC64  # the doc's value, whole object
    assert two["ETag"] == f'"{md5_hex(DOC_CONTENT)}"' and two["Accept-Ranges"] == "bytes"
    doc = client.get_object(Bucket=BUCKET, Key="doc.txt", Range="bytes=8-14")  # GET sample 10
    assert doc["Body"].get_raw_stream().read() == b"Content"
    assert doc["Content-Range"] == "bytes 8-14/16"
    tail = client.get_object(Bucket=BUCKET, Key="doc.txt", Range="bytes=-8")
    assert tail["Body"].get_raw_stream().read() == b"Content]"
    whole = client.get_object(Bucket=BUCKET, Key="doc.txt", Range="bytes=0-1,4-5")
    assert whole["Body"].get_raw_stream().read() == DOC_CONTENT and "Content-Range" not in whole
    assert harness.server.stats()["statuses"]["206"] == 3
    head = harness.client.send("HEAD", "doc.txt", headers={"Range": "bytes=0-1"})
    assert (head.status_code, head.headers["Content-Length"], head.content) == (206, "2", b"")


@pytest.mark.e2e
def test_unsatisfiable_range_is_416_invalid_range(oracle: tuple[Harness, CosS3Client]) -> None:
    harness, client = oracle
    with pytest.raises(CosServiceError, match="InvalidRange") as caught:
        client.get_object(Bucket=BUCKET, Key="doc.txt", Range="bytes=16-")
    assert (caught.value.get_status_code(), caught.value.get_error_code()) == (416, "InvalidRange")
    raw = harness.client.send("GET", "doc.txt", headers={"Range": "bytes=100-200"})
    assert raw.status_code == 416 and raw.headers["Content-Range"] == "bytes */16"
    assert parse_error_body(raw.content) is not None


@pytest.mark.e2e
def test_if_none_match_and_if_modified_since_answer_304(
    oracle: tuple[Harness, CosS3Client],
) -> None:
    harness, client = oracle
    etag = f'"{md5_hex(DOC_CONTENT)}"'
    stored = client.head_object(Bucket=BUCKET, Key="doc.txt")["Last-Modified"]
    for condition in ({"IfNoneMatch": etag}, {"IfModifiedSince": stored}):
        answer = client.get_object(Bucket=BUCKET, Key="doc.txt", **condition)
        assert answer["Body"].get_raw_stream().read() == b""
        assert answer["ETag"] == etag and answer["x-cos-hash-crc64ecma"] == DOC_CONTENT_CRC64
        assert answer["Content-Type"] == "text/x"  # GET 304 sample: the object's type
        head = client.head_object(Bucket=BUCKET, Key="doc.txt", **condition)
        assert "ETag" not in head and head["Content-Type"] == "application/xml"  # HEAD sample
    assert harness.server.stats()["statuses"]["304"] == 4
    changed = client.get_object(Bucket=BUCKET, Key="doc.txt", IfModifiedSince=BEFORE)
    assert changed["Body"].get_raw_stream().read() == DOC_CONTENT
    other = client.get_object(Bucket=BUCKET, Key="doc.txt", IfNoneMatch='"0123"')
    assert other["Body"].get_raw_stream().read() == DOC_CONTENT


@pytest.mark.e2e
def test_failed_if_match_and_if_unmodified_since_are_412(
    oracle: tuple[Harness, CosS3Client],
) -> None:
    harness, client = oracle
    for condition in ({"IfMatch": '"0123"'}, {"IfUnmodifiedSince": BEFORE}):
        with pytest.raises(CosServiceError, match="PreconditionFailed") as caught:
            client.get_object(Bucket=BUCKET, Key="doc.txt", **condition)
        assert (caught.value.get_status_code(), caught.value.get_error_code()) == (
            412,
            "PreconditionFailed",
        )
        assert caught.value.get_error_msg() == "Precondition not match."
        # a HEAD error has no body: the SDK's "message" is then the reply's header dict
        with pytest.raises(CosServiceError, match="'x-cos-request-id'") as on_head:
            client.head_object(Bucket=BUCKET, Key="doc.txt", **condition)
        assert on_head.value.get_status_code() == 412
    etag = f'"{md5_hex(DOC_CONTENT)}"'
    matched = client.get_object(Bucket=BUCKET, Key="doc.txt", IfMatch=etag, Range="bytes=1-6")
    assert matched["Body"].get_raw_stream().read() == b"Object"
    raw = harness.client.send("GET", "doc.txt", headers={"If-Match": '"0123"'})
    assert raw.status_code == 412 and b"<Code>PreconditionFailed</Code>" in raw.content


@pytest.mark.e2e
def test_download_file_reassembles_ranges_and_checks_the_crc(
    oracle: tuple[Harness, CosS3Client], tmp_path: Path
) -> None:
    harness, client = oracle
    source = tmp_path / "src.bin"
    source.write_bytes(bytes(range(256)) * (5 * MIB // 2 // 256) + b"!")
    client.upload_file(Bucket=BUCKET, Key="mp.bin", LocalFilePath=str(source))  # 3 parts
    before = harness.server.stats()["statuses"].get("206", 0)
    target = tmp_path / "back.bin"
    # PartSize=1 (MiB): the ranged path starts above 1 MiB instead of the default 20 MiB
    client.download_file(
        Bucket=BUCKET, Key="mp.bin", DestFilePath=str(target), PartSize=1, EnableCRC=True
    )
    assert file_md5(target) == file_md5(source)
    assert harness.server.stats()["statuses"]["206"] - before == 3


def test_an_opened_object_keeps_its_version_when_overwritten(tmp_path: Path) -> None:
    # GET opens the file with the metadata it answers: a PUT meanwhile cannot mix versions
    store = ObjectStore(tmp_path)
    store.put_object(BUCKET, "k", [b"old bytes"], content_type="x/y", meta={})
    opened = store.open_object(BUCKET, "k")
    assert opened is not None
    stored, body = opened
    store.put_object(BUCKET, "k", [b"new, longer bytes"], content_type="x/y", meta={})
    with body:
        assert body.read() == b"old bytes"
    assert (stored.etag, stored.size) == (md5_hex(b"old bytes"), 9)
    assert store.open_object(BUCKET, "missing") is None
