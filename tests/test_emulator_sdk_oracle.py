"""The official cos-python-sdk-v5 (test-only oracle) drives the emulator through IP/Port mode.

In IP/Port mode the SDK connects to 127.0.0.1:PORT, sets Host to the bucket's COS host and signs
it; CI calls (/jobs) go to the same COS host name with x-ci-security-token. If the emulator
accepts the SDK's signatures and the SDK parses the emulator's answers, both sides agree on the
wire format.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from qcloud_cos import CosConfig, CosS3Client  # noqa: TID251 -- test-only oracle
from qcloud_cos.cos_exception import CosServiceError  # noqa: TID251 -- test-only oracle

from emulator import EmulatorCredentials
from tests.emulator_fixtures import BUCKET, REGION, Harness, md5_hex, sample_mp4, start_harness

__all__ = ["sample_mp4"]
pytestmark = pytest.mark.e2e


def _client(harness: Harness, secret_key: str | None = None) -> CosS3Client:
    credentials = harness.client.credentials
    config = CosConfig(
        Region=REGION,
        SecretId=credentials.secret_id,
        SecretKey=secret_key or credentials.secret_key,
        Token=credentials.token,
        Scheme="http",
        IP="127.0.0.1",
        Port=harness.server.port,
    )
    return CosS3Client(config, retry=0)


@pytest.fixture
def oracle(tmp_path: Path) -> Iterator[tuple[Harness, CosS3Client]]:
    running = start_harness(tmp_path)
    try:
        yield running, _client(running)
    finally:
        running.server.stop()


def test_objects_and_tags_through_the_sdk(oracle: tuple[Harness, CosS3Client]) -> None:
    harness, client = oracle
    key = "uploads/my clip+1 视频.mp4"
    body = b"\x00\x01 media bytes" * 64
    put = client.put_object(
        Bucket=BUCKET,
        Key=key,
        Body=body,
        ContentType="video/mp4",
        Metadata={"x-cos-meta-source": "sdk"},
    )
    assert put["ETag"] == f'"{md5_hex(body)}"'
    head = client.head_object(Bucket=BUCKET, Key=key)
    assert head["Content-Length"] == str(len(body))
    assert head["Content-Type"] == "video/mp4" and head["x-cos-meta-source"] == "sdk"
    assert client.get_object(Bucket=BUCKET, Key=key)["Body"].get_raw_stream().read() == body
    tags = {
        "TagSet": {
            "Tag": [{"Key": "duration", "Value": "1.000000"}, {"Key": "codec", "Value": "h264"}]
        }
    }
    client.put_object_tagging(Bucket=BUCKET, Key=key, Tagging=tags)
    assert (
        client.get_object_tagging(Bucket=BUCKET, Key=key)["TagSet"]["Tag"] == tags["TagSet"]["Tag"]
    )
    client.delete_object_tagging(Bucket=BUCKET, Key=key)
    assert "Tag" not in (client.get_object_tagging(Bucket=BUCKET, Key=key).get("TagSet") or {})
    listed = client.list_objects(Bucket=BUCKET, Prefix="uploads/")
    assert [item["Key"] for item in listed["Contents"]] == [key]
    assert [event.key for event in harness.events] == [key]


def test_sdk_sees_cos_errors(oracle: tuple[Harness, CosS3Client]) -> None:
    harness, client = oracle
    bad = "InvalidTag"
    client.put_object(Bucket=BUCKET, Key="a", Body=b"x")
    with pytest.raises(CosServiceError, match="'code': 'InvalidTag'") as caught:
        client.put_object_tagging(
            Bucket=BUCKET, Key="a", Tagging={"TagSet": {"Tag": [{"Key": "k", "Value": "a,b"}]}}
        )
    assert (caught.value.get_status_code(), caught.value.get_error_code()) == (400, bad)
    with pytest.raises(CosServiceError, match="'code': 'NoSuchResource'") as missing:
        client.head_object(Bucket=BUCKET, Key="nope")
    assert missing.value.get_status_code() == 404
    with pytest.raises(CosServiceError, match="'x-cos-request-id'") as unsigned:
        _client(harness, secret_key="wrong").head_object(Bucket=BUCKET, Key="a")
    assert unsigned.value.get_status_code() == 403


def test_media_jobs_through_the_sdk(oracle: tuple[Harness, CosS3Client], sample_mp4: bytes) -> None:
    harness, client = oracle
    client.put_object(Bucket=BUCKET, Key="in/sample.mp4", Body=sample_mp4)
    client.put_object(Bucket=BUCKET, Key="in/readme.txt", Body=b"not a video")
    jobs = {}
    for key in ("in/sample.mp4", "in/readme.txt"):
        created = client.ci_create_media_jobs(
            Bucket=BUCKET,
            Jobs={"Tag": "MediaInfo", "Input": {"Object": key}, "Operation": {"UserData": "sdk"}},
            Lst={},
            ContentType="application/xml",
        )
        assert created["JobsDetail"][0]["State"] == "Submitted"
        jobs[key] = created["JobsDetail"][0]["JobId"]
    assert harness.server.wait_idle(10)
    described = client.ci_get_media_jobs(Bucket=BUCKET, JobIDs=jobs["in/sample.mp4"])
    detail = described["JobsDetail"][0]
    assert detail["State"] == "Success"
    video = detail["Operation"]["MediaInfo"]["Stream"]["Video"]
    assert (video["CodecName"], video["Width"], video["Height"]) == ("h264", "320", "240")
    failed = client.ci_get_media_jobs(Bucket=BUCKET, JobIDs=jobs["in/readme.txt"])["JobsDetail"][0]
    assert failed["State"] == "Failed" and failed["Code"] == "ResourceNotSupported"
    listed = client.ci_list_media_jobs(Bucket=BUCKET, Tag="MediaInfo", States="Success")
    assert [job["JobId"] for job in listed["JobsDetail"]] == [jobs["in/sample.mp4"]]
    everything = client.ci_list_media_jobs(Bucket=BUCKET, Tag="MediaInfo", OrderByTime="Asc")
    assert [job["JobId"] for job in everything["JobsDetail"]] == list(jobs.values())


def test_sdk_with_permanent_credentials(tmp_path: Path) -> None:
    running = start_harness(tmp_path, EmulatorCredentials("AKIDPERMANENTKEY", "permanent-secret"))
    try:
        client = _client(running)
        client.put_object(Bucket=BUCKET, Key="k", Body=b"x")
        assert client.head_object(Bucket=BUCKET, Key="k")["ETag"] == f'"{md5_hex(b"x")}"'
    finally:
        running.server.stop()
