"""Buckets exist only when configured, created with PUT Bucket, or kept from an earlier run.

Through cos-python-sdk-v5 (cos-facts.md section 7): a missing bucket is 404 NoSuchBucket on GET
Bucket and on every object request (HEAD answers 404 without a body, which the SDK reports as
NoSuchResource); PUT Bucket creates it, a second PUT is 409 BucketAlreadyOwnedByYou; DELETE
Bucket is 409 BucketNotEmpty while objects or unfinished uploads remain, then 204.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from qcloud_cos import CosS3Client  # noqa: TID251 -- test-only oracle
from qcloud_cos.cos_exception import CosServiceError  # noqa: TID251 -- test-only oracle

from emulator import EmulatorCredentials
from emulator.cli import build_parser
from emulator.serve import serve_banner
from tests.emulator_fixtures import BUCKET, Harness, start_harness
from tests.sdk_helpers import sdk_client

NEW = "fresh-1250000000"


@pytest.fixture
def oracle(tmp_path: Path) -> Iterator[tuple[Harness, CosS3Client]]:
    running = start_harness(tmp_path)
    try:
        yield running, sdk_client(running.server.port, running.client.credentials)
    finally:
        running.server.stop()


def _refused(call: Callable[[], object], code: str) -> int:
    """The HTTP status of the CosServiceError ``call`` raises with error code ``code``."""
    with pytest.raises(CosServiceError, match=code) as caught:
        call()
    assert caught.value.get_error_code() == code
    return caught.value.get_status_code()


@pytest.mark.e2e
def test_a_bucket_that_was_never_created_is_no_such_bucket(
    oracle: tuple[Harness, CosS3Client],
) -> None:
    harness, client = oracle
    assert client.bucket_exists(BUCKET) is True  # the configured one
    assert client.bucket_exists(NEW) is False
    assert _refused(lambda: client.head_bucket(Bucket=NEW), "NoSuchResource") == 404
    assert _refused(lambda: client.list_objects(Bucket=NEW), "NoSuchBucket") == 404
    assert (
        _refused(lambda: client.put_object(Bucket=NEW, Key="a.mp4", Body=b"x"), "NoSuchBucket")
        == 404
    )
    assert _refused(lambda: client.get_object(Bucket=NEW, Key="a.mp4"), "NoSuchBucket") == 404
    assert (
        _refused(lambda: client.create_multipart_upload(Bucket=NEW, Key="a.mp4"), "NoSuchBucket")
        == 404
    )
    assert _refused(lambda: client.list_multipart_uploads(Bucket=NEW), "NoSuchBucket") == 404
    assert (
        _refused(lambda: client.get_object_tagging(Bucket=NEW, Key="a.mp4"), "NoSuchBucket") == 404
    )
    assert _refused(lambda: client.delete_bucket(Bucket=NEW), "NoSuchBucket") == 404
    assert _refused(lambda: client.head_object(Bucket=NEW, Key="a.mp4"), "NoSuchResource") == 404
    with pytest.raises(CosServiceError, match="NoSuchBucket") as caught:
        client.list_objects(Bucket=NEW)
    assert caught.value.get_error_msg() == "The specified bucket does not exist."
    assert harness.events == []
    assert not (harness.server.store.data_dir / "cos" / NEW).exists()


@pytest.mark.e2e
def test_put_bucket_creates_it_once_and_delete_needs_it_empty(
    oracle: tuple[Harness, CosS3Client],
) -> None:
    harness, client = oracle
    client.create_bucket(Bucket=NEW)
    assert client.bucket_exists(NEW) is True
    assert client.head_bucket(Bucket=NEW)["x-cos-bucket-region"] == "ap-guangzhou"
    assert _refused(lambda: client.create_bucket(Bucket=NEW), "BucketAlreadyOwnedByYou") == 409
    assert _refused(lambda: client.create_bucket(Bucket=BUCKET), "BucketAlreadyOwnedByYou") == 409
    client.put_object(Bucket=NEW, Key="a.mp4", Body=b"x")
    assert [e.bucket for e in harness.events] == [NEW]
    assert _refused(lambda: client.delete_bucket(Bucket=NEW), "BucketNotEmpty") == 409
    client.delete_object(Bucket=NEW, Key="a.mp4")
    upload_id = client.create_multipart_upload(Bucket=NEW, Key="b.mp4")["UploadId"]
    assert _refused(lambda: client.delete_bucket(Bucket=NEW), "BucketNotEmpty") == 409
    client.abort_multipart_upload(Bucket=NEW, Key="b.mp4", UploadId=upload_id)
    client.delete_bucket(Bucket=NEW)
    assert client.bucket_exists(NEW) is False
    assert _refused(lambda: client.list_objects(Bucket=NEW), "NoSuchBucket") == 404


@pytest.mark.e2e
def test_created_buckets_survive_a_restart(tmp_path: Path) -> None:
    first = start_harness(tmp_path, buckets=())
    client = sdk_client(first.server.port, first.client.credentials)
    assert client.bucket_exists(BUCKET) is False  # nothing configured, nothing created
    client.create_bucket(Bucket=NEW)
    first.server.stop()
    second = start_harness(tmp_path, buckets=())
    try:
        client = sdk_client(second.server.port, second.client.credentials)
        assert client.bucket_exists(NEW) is True
        assert client.list_objects(Bucket=NEW).get("Contents") is None
    finally:
        second.server.stop()


def test_serve_takes_buckets_and_checks_their_names() -> None:
    parser = build_parser()
    assert parser.parse_args(["serve"]).buckets is None  # the demo bucket, by default
    args = parser.parse_args(["serve", "--bucket", "a-1250000000", "--bucket", NEW])
    assert args.buckets == ["a-1250000000", NEW]
    with pytest.raises(SystemExit, match="2"):
        parser.parse_args(["serve", "--bucket", "NoAppId"])


def test_serve_banner_names_the_buckets_and_how_presigned_urls_reach_it() -> None:
    banner = serve_banner(
        "http://127.0.0.1:9000",
        "http://127.0.0.1:9001/",
        EmulatorCredentials.default(),
        "a-1250000000",
        "ap-guangzhou",
        buckets=["a-1250000000", NEW],
    )
    assert f"Buckets:            a-1250000000, {NEW}  (PUT Bucket creates others)" in banner
    assert "proxies={'http': 'http://127.0.0.1:9000'}" in banner
