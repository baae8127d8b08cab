"""Multipart listings, resume, Upload Part - Copy and restarts, through cos-python-sdk-v5.

The listings are what the SDK's ``upload_file`` resumes from (cos-facts.md 1.7, 1.8, 2.1): it
lists the key's uploads, takes the *last* one, lists its parts and re-sends only the parts whose
size and quoted MD5 differ. If the emulator's listings were shaped or ordered wrongly, the SDK
would silently start a new upload, which the request counts below would show.
"""

from __future__ import annotations

import tracemalloc
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from qcloud_cos import CosS3Client  # noqa: TID251 -- test-only oracle
from qcloud_cos.cos_exception import CosServiceError  # noqa: TID251 -- test-only oracle

from tests.emulator_fixtures import BUCKET, Harness, start_harness
from tests.sdk_helpers import MIB, REGION, md5_hex, sdk_client

pytestmark = pytest.mark.e2e


@pytest.fixture
def oracle(tmp_path: Path) -> Iterator[tuple[Harness, CosS3Client]]:
    running = start_harness(tmp_path)
    try:
        yield running, sdk_client(running.server.port, running.client.credentials)
    finally:
        running.server.stop()


def _operations(harness: Harness) -> Counter[str]:
    return Counter(harness.server.stats()["operations"])


def _initiate(client: CosS3Client, key: str) -> str:
    return str(client.create_multipart_upload(Bucket=BUCKET, Key=key)["UploadId"])


def _part(client: CosS3Client, key: str, upload_id: str, number: int, body: bytes) -> str:
    answer = client.upload_part(
        Bucket=BUCKET, Key=key, Body=body, PartNumber=number, UploadId=upload_id
    )
    return str(answer["ETag"])


def test_upload_file_resumes_the_newest_upload_of_its_key(
    oracle: tuple[Harness, CosS3Client], tmp_path: Path
) -> None:
    harness, client = oracle
    data = bytes(range(251)) * (3 * MIB // 251 + 1)  # a bit over 3 MiB: 4 parts of upload_file
    source = tmp_path / "big.bin"
    source.write_bytes(data)
    older = _initiate(client, "big.bin")
    _part(client, "big.bin", older, 1, b"not what the file holds")
    newest = _initiate(client, "big.bin")
    for number in (1, 2):  # what upload_file would have sent before it was interrupted
        _part(client, "big.bin", newest, number, data[(number - 1) * MIB : number * MIB])
    before = _operations(harness)
    done = client.upload_file(Bucket=BUCKET, Key="big.bin", LocalFilePath=str(source))
    used = _operations(harness) - before
    assert used == Counter(
        {"cos:GET:uploads": 1, "cos:GET:upload": 1, "cos:PUT:part": 2, "cos:POST:upload": 1}
    )  # no new Initiate: the newest upload was found, its parts checked and reused
    assert done["ETag"].endswith('-4"')
    assert client.get_object(Bucket=BUCKET, Key="big.bin")["Body"].get_raw_stream().read() == data
    remaining = client.list_multipart_uploads(Bucket=BUCKET)["Upload"]
    assert [upload["UploadId"] for upload in remaining] == [older]


def test_list_parts_pages_with_lower_case_is_truncated(
    oracle: tuple[Harness, CosS3Client],
) -> None:
    _, client = oracle
    upload_id = _initiate(client, "paged")
    etags = [_part(client, "paged", upload_id, n, f"part {n}".encode()) for n in (3, 1, 2, 5)]
    first = client.list_parts(Bucket=BUCKET, Key="paged", UploadId=upload_id, MaxParts=2)
    assert (first["IsTruncated"], first["NextPartNumberMarker"]) == ("true", "2")
    assert [p["PartNumber"] for p in first["Part"]] == ["1", "2"]
    rest = client.list_parts(
        Bucket=BUCKET, Key="paged", UploadId=upload_id, MaxParts=2, PartNumberMarker=2
    )
    assert rest["IsTruncated"] == "false" and "NextPartNumberMarker" not in rest
    assert [(p["PartNumber"], p["ETag"]) for p in rest["Part"]] == [
        ("3", etags[0]),
        ("5", etags[3]),
    ]
    assert rest["Part"][0]["Size"] == str(len(b"part 3"))
    assert first["Owner"]["ID"] == "1250000000" and first["Initiator"]["ID"].startswith("qcs::")


def test_list_multipart_uploads_orders_rolls_up_pages_and_decodes(
    oracle: tuple[Harness, CosS3Client],
) -> None:
    _, client = oracle
    keys = ["z.mp4", "a/2.mp4", "b+c 100%.mp4", "a/1.mp4", "a/1.mp4", "视频/x.mp4"]
    ids = [_initiate(client, key) for key in keys]
    listed = client.list_multipart_uploads(Bucket=BUCKET)
    order = [(u["Key"], u["UploadId"]) for u in listed["Upload"]]
    by_key = sorted(zip(keys, ids), key=lambda pair: (pair[0].encode("utf-8"), ids.index(pair[1])))
    assert order == by_key  # by key, then oldest first (the SDK resumes the last one)
    assert listed["IsTruncated"] == "false"
    assert all(u["Initiated"].endswith("Z") for u in listed["Upload"])
    rolled = client.list_multipart_uploads(Bucket=BUCKET, Delimiter="/")
    assert [p["Prefix"] for p in rolled["CommonPrefixes"]] == ["a/", "视频/"]
    assert [u["Key"] for u in rolled["Upload"]] == ["b+c 100%.mp4", "z.mp4"]
    under = client.list_multipart_uploads(Bucket=BUCKET, Prefix="a/")
    assert [u["Key"] for u in under["Upload"]] == ["a/1.mp4", "a/1.mp4", "a/2.mp4"]
    seen: list[tuple[str, str]] = []
    key_marker = id_marker = ""
    for _ in range(10):
        page = client.list_multipart_uploads(
            Bucket=BUCKET, MaxUploads=2, KeyMarker=key_marker, UploadIdMarker=id_marker
        )
        seen += [(u["Key"], u["UploadId"]) for u in page["Upload"]]
        if page["IsTruncated"] == "false":
            break
        key_marker, id_marker = page["NextKeyMarker"], page["NextUploadIdMarker"]
    assert seen == by_key


def test_upload_part_copy_takes_ranges_of_a_stored_object(
    oracle: tuple[Harness, CosS3Client],
) -> None:
    harness, client = oracle
    source = bytes(range(256)) * (2 * MIB // 256) + b"tail bytes"
    client.put_object(Bucket=BUCKET, Key="src/视频 a+b.bin", Body=source)
    copy_source = {"Bucket": BUCKET, "Key": "src/视频 a+b.bin", "Region": REGION}
    upload_id = _initiate(client, "copy.bin")
    first = client.upload_part_copy(
        Bucket=BUCKET,
        Key="copy.bin",
        PartNumber=1,
        UploadId=upload_id,
        CopySource=copy_source,
        CopySourceRange=f"bytes=0-{MIB - 1}",
    )
    assert first["ETag"] == f'"{md5_hex(source[:MIB])}"'
    assert first["LastModified"].endswith("Z")
    rest = client.upload_part_copy(
        Bucket=BUCKET,
        Key="copy.bin",
        PartNumber=2,
        UploadId=upload_id,
        CopySource=copy_source,
        CopySourceRange=f"bytes={MIB}-{len(source) - 1}",
    )
    parts = [{"PartNumber": 1, "ETag": first["ETag"]}, {"PartNumber": 2, "ETag": rest["ETag"]}]
    client.complete_multipart_upload(
        Bucket=BUCKET, Key="copy.bin", UploadId=upload_id, MultipartUpload={"Part": parts}
    )
    copied = client.get_object(Bucket=BUCKET, Key="copy.bin")["Body"].get_raw_stream().read()
    assert copied == source
    whole = client.upload_part_copy(  # the SDK's default empty range: the whole object
        Bucket=BUCKET, Key="copy.bin", PartNumber=1, UploadId=_initiate(client, "copy.bin"),
        CopySource=copy_source,
    )  # fmt: skip
    assert whole["ETag"] == f'"{md5_hex(source)}"'
    other = _initiate(client, "copy2.bin")
    with pytest.raises(CosServiceError, match="InvalidArgument") as outside:
        client.upload_part_copy(
            Bucket=BUCKET, Key="copy2.bin", PartNumber=1, UploadId=other,
            CopySource=copy_source, CopySourceRange=f"bytes=0-{len(source)}",
        )  # fmt: skip
    assert (outside.value.get_status_code(), outside.value.get_error_code()) == (
        400,
        "InvalidArgument",
    )
    with pytest.raises(CosServiceError, match="PreconditionFailed") as condition:
        client.upload_part_copy(
            Bucket=BUCKET, Key="copy2.bin", PartNumber=1, UploadId=other,
            CopySource=copy_source, CopySourceIfMatch='"0123"',
        )  # fmt: skip
    assert condition.value.get_status_code() == 412
    with pytest.raises(CosServiceError, match="NoSuchKey") as missing:
        client.upload_part_copy(
            Bucket=BUCKET, Key="copy2.bin", PartNumber=1, UploadId=other,
            CopySource={**copy_source, "Key": "nope"},
        )  # fmt: skip
    assert (missing.value.get_status_code(), missing.value.get_error_code()) == (404, "NoSuchKey")
    assert [event.key for event in harness.events] == ["src/视频 a+b.bin", "copy.bin"]


def test_complete_and_get_stream_big_objects_without_holding_them(
    oracle: tuple[Harness, CosS3Client],
) -> None:
    harness, client = oracle
    upload_id = _initiate(client, "big.bin")
    listed = []
    for number in range(1, 9):  # 8 MiB
        etag = _part(client, "big.bin", upload_id, number, bytes([number]) * MIB)
        listed.append({"PartNumber": number, "ETag": etag})
    tracemalloc.start()
    try:
        client.complete_multipart_upload(
            Bucket=BUCKET, Key="big.bin", UploadId=upload_id, MultipartUpload={"Part": listed}
        )
        _, complete_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        stream = client.get_object(Bucket=BUCKET, Key="big.bin")["Body"].get_raw_stream()
        received = sum(len(chunk) for chunk in iter(lambda: stream.read(64 * 1024), b""))
        _, get_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert received == 8 * MIB
    # every thread's Python allocations, server and client: far below the object's 8 MiB
    assert complete_peak < MIB and get_peak < MIB, (complete_peak, get_peak)
    assert harness.events[-1].size == 8 * MIB


def test_unfinished_uploads_survive_a_restart(tmp_path: Path) -> None:
    first = start_harness(tmp_path)
    client = sdk_client(first.server.port, first.client.credentials)
    upload_id = _initiate(client, "kept.bin")
    etag = _part(client, "kept.bin", upload_id, 1, b"kept across restarts")
    first.server.stop()
    second = start_harness(tmp_path)
    try:
        client = sdk_client(second.server.port, second.client.credentials)
        listed = client.list_parts(Bucket=BUCKET, Key="kept.bin", UploadId=upload_id)
        assert [(p["PartNumber"], p["ETag"]) for p in listed["Part"]] == [("1", etag)]
        done = client.complete_multipart_upload(
            Bucket=BUCKET,
            Key="kept.bin",
            UploadId=upload_id,
            MultipartUpload={"Part": [{"PartNumber": 1, "ETag": etag}]},
        )
        assert done["ETag"].endswith('-1"')
        head = client.head_object(Bucket=BUCKET, Key="kept.bin")
        assert head["Content-Length"] == str(len(b"kept across restarts"))
        assert second.events[0].event_name == "cos:ObjectCreated:CompleteMultipartUpload"
    finally:
        second.server.stop()
