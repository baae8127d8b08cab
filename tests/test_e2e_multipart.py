"""End to end on multipart objects: the path most real uploads take.

cos-python-sdk-v5's ``upload_file`` sends a 25 MiB video in parts (its threshold is read from its
own source below), COS raises ``cos:ObjectCreated:CompleteMultipartUpload``, and the unchanged
handlers tag the object with values from the test's own ffprobe run and the ``<hex>-<parts>``
ETag. ``download_file`` gets it back with ranged GETs and checks the CRC-64. Then the guards with
multipart ETags: a hand-driven upload with an abort and a retried part, overwrites (multipart by
PUT and the reverse) while a job runs, a redelivered event, and reconcile after lost callbacks.
Videos are a real 1 s mp4 grown with an mp4 ``free`` box (ffprobe reads it; bitrate follows).
"""

from __future__ import annotations

import inspect
import math
import re
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from qcloud_cos import CosS3Client  # noqa: TID251 -- test-only oracle
from qcloud_cos.cos_exception import CosServiceError  # noqa: TID251 -- test-only oracle

from emulator.app import Emulator
from shared.reconcile.runner import run_reconcile
from tests.e2e_helpers import (
    AUDIO_ARGS,
    BUCKET,
    README_REQUESTS,
    REGION,
    SETTLE_S,
    Media,
    Pipeline,
    comparable,
    expected_tags,
    generate_media,
    oracle_client,
    read_tags,
    same_requests,
)
from tests.sdk_helpers import MIB, ffprobe_json, file_md5, make_mp4, padded_mp4

pytestmark = pytest.mark.e2e
BIG_SIZE = 25 * MIB + 300 * 1024  # 26 parts of upload_file's default 1 MiB
MEDIUM_SIZE = 3 * MIB + 200 * 1024  # 4 parts
MULTIPART_ETAG = re.compile(r'^"([0-9a-f]{32}-(\d+))"$')
COMPLETE_EVENT = "cos:ObjectCreated:CompleteMultipartUpload"


def sdk_thresholds() -> tuple[int, int]:
    """(upload_file's multipart threshold, download_file's ranged threshold) in bytes, read
    from cos-python-sdk-v5's own source so that an SDK change shows up here."""
    upload_source = inspect.getsource(CosS3Client.upload_file)
    download_source = inspect.getsource(CosS3Client.download_file)
    rule = "if file_size <= 1024 * 1024 * PartSize:"
    assert rule in upload_source and rule in download_source
    upload_mib = inspect.signature(CosS3Client.upload_file).parameters["PartSize"].default
    download_mib = inspect.signature(CosS3Client.download_file).parameters["PartSize"].default
    return 1024 * 1024 * upload_mib, 1024 * 1024 * download_mib


@dataclass(frozen=True)
class VideoFile:
    path: Path
    probe: dict[str, Any]

    def tags(self, etag: str) -> dict[str, str]:
        return expected_tags(Media(b"", self.probe), etag)


def _video(directory: Path, name: str, size: int) -> VideoFile:
    base = make_mp4(directory / f"{name}-base.mp4")
    path = padded_mp4(base, directory / f"{name}.mp4", size, seed=size)
    return VideoFile(path, ffprobe_json(path))


@pytest.fixture(scope="session")
def big_video(tmp_path_factory: pytest.TempPathFactory) -> VideoFile:
    return _video(tmp_path_factory.mktemp("multipart-media"), "big", BIG_SIZE)


@pytest.fixture(scope="session")
def medium_video(tmp_path_factory: pytest.TempPathFactory) -> VideoFile:
    return _video(tmp_path_factory.mktemp("multipart-media"), "medium", MEDIUM_SIZE)


@pytest.fixture(scope="session")
def tone(tmp_path_factory: pytest.TempPathFactory) -> Media:
    return generate_media(tmp_path_factory.mktemp("multipart-media"), "tone.mp3", AUDIO_ARGS)


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    data = tmp_path_factory.mktemp("multipart-emulator")
    with Emulator(
        data, job_runner_delay_s=0.01, retry_interval_s=0.05, buckets=[BUCKET]
    ) as running:
        yield running


@pytest.fixture
def pipeline(emulator: Emulator) -> Pipeline:
    return Pipeline.settled(emulator)


def upload_file(pipeline: Pipeline, key: str, video: VideoFile) -> str:
    """``upload_file`` as a user calls it; the object's ETag, unquoted, checked for its form."""
    done = pipeline.client.upload_file(
        Bucket=BUCKET, Key=key, LocalFilePath=str(video.path), ContentType="video/mp4"
    )
    match = MULTIPART_ETAG.match(done["ETag"])
    assert match is not None, done["ETag"]
    return match.group(1)


def test_upload_file_sends_25_mib_in_parts_and_download_file_gets_it_back_by_ranges(
    pipeline: Pipeline, big_video: VideoFile, tmp_path: Path
) -> None:
    upload_threshold, download_threshold = sdk_thresholds()
    assert (upload_threshold, download_threshold) == (1 * MIB, 20 * MIB)
    size = big_video.path.stat().st_size
    parts = math.ceil(size / upload_threshold)
    assert size > download_threshold and parts == 26
    since = pipeline.mark()
    etag = upload_file(pipeline, "big/lecture.mp4", big_video)
    activity = pipeline.settle(since)
    assert etag.endswith(f"-{parts}")
    sdk_requests = {"cos:GET:uploads": 1, "cos:POST:uploads": 1, "cos:PUT:part": parts,
                    "cos:POST:upload": 1}  # fmt: skip
    pipeline_requests = README_REQUESTS - Counter({"cos:PUT:object": 1})
    assert same_requests(activity.operations, pipeline_requests + Counter(sdk_requests)), (
        activity.operations
    )
    ((record,),) = [upload.event["Records"] for upload in activity.uploads]
    assert record["event"]["eventName"] == COMPLETE_EVENT
    assert record["cos"]["cosObject"]["size"] == size
    assert record["cos"]["cosObject"]["meta"]["ETag"] == f'"{etag}"'
    assert activity.outcomes() == ["tagged:ok"]
    assert comparable(read_tags(pipeline.client, "big/lecture.mp4")) == big_video.tags(etag)

    back = tmp_path / "lecture.mp4"
    before = pipeline.mark()
    pipeline.client.download_file(
        Bucket=BUCKET, Key="big/lecture.mp4", DestFilePath=str(back), EnableCRC=True
    )
    assert file_md5(back) == file_md5(big_video.path)
    ranged = pipeline.settle(before)
    ranges = math.ceil(size / download_threshold)
    assert ranged.operations == Counter({"cos:HEAD:object": 1, "cos:GET:object": ranges})
    assert ranged.statuses == Counter({"200": 1, "206": ranges})


def test_hand_driven_upload_with_an_abort_and_a_retried_part(
    pipeline: Pipeline, medium_video: VideoFile
) -> None:
    client, key = pipeline.client, "hand/clip.mp4"
    data = medium_video.path.read_bytes()
    chunks = [data[offset : offset + MIB] for offset in range(0, len(data), MIB)]
    since = pipeline.mark()
    abandoned = client.create_multipart_upload(Bucket=BUCKET, Key=key)["UploadId"]
    client.upload_part(Bucket=BUCKET, Key=key, Body=chunks[0], PartNumber=1, UploadId=abandoned)
    client.abort_multipart_upload(Bucket=BUCKET, Key=key, UploadId=abandoned)
    with pytest.raises(CosServiceError, match="NoSuchUpload"):
        client.list_parts(Bucket=BUCKET, Key=key, UploadId=abandoned)
    upload_id = client.create_multipart_upload(Bucket=BUCKET, Key=key, ContentType="video/mp4")[
        "UploadId"
    ]
    etags = {}
    for number, chunk in enumerate(chunks, start=1):
        sent = chunk[:-1] + b"\x00" if number == 2 else chunk  # part 2 arrives damaged
        answer = client.upload_part(
            Bucket=BUCKET, Key=key, Body=sent, PartNumber=number, UploadId=upload_id
        )
        etags[number] = answer["ETag"]
    damaged = etags[2]
    etags[2] = client.upload_part(
        Bucket=BUCKET, Key=key, Body=chunks[1], PartNumber=2, UploadId=upload_id
    )["ETag"]  # the client retries the part
    listed = [{"PartNumber": n, "ETag": e} for n, e in sorted(etags.items())]
    with pytest.raises(CosServiceError, match="InvalidPart") as stale:
        client.complete_multipart_upload(
            Bucket=BUCKET, Key=key, UploadId=upload_id,
            MultipartUpload={"Part": [{**listed[0]}, {"PartNumber": 2, "ETag": damaged},
                                      *listed[2:]]},
        )  # fmt: skip
    assert stale.value.get_error_code() == "InvalidPart"
    done = client.complete_multipart_upload(
        Bucket=BUCKET, Key=key, UploadId=upload_id, MultipartUpload={"Part": listed}
    )
    match = MULTIPART_ETAG.match(done["ETag"])
    assert match is not None and match.group(2) == str(len(chunks))
    activity = pipeline.settle(since)
    assert activity.operations["cos:DELETE:upload"] == 1
    assert activity.operations["cos:PUT:part"] == 1 + len(chunks) + 1
    assert [u.event["Records"][0]["event"]["eventName"] for u in activity.uploads] == [
        COMPLETE_EVENT
    ]  # the aborted upload and the parts announced nothing
    assert comparable(read_tags(client, key)) == medium_video.tags(match.group(1))


def test_multipart_object_overwritten_by_a_put_during_its_job(
    pipeline: Pipeline, medium_video: VideoFile, tone: Media
) -> None:
    key = "stale/mp-then-put.mp4"
    pipeline.emulator.faults.reorder_callbacks(2)  # deliver both callbacks newest first
    since = pipeline.mark()
    upload_file(pipeline, key, medium_video)
    pipeline.hold_callbacks(1)  # the multipart object's job finished; its callback waits
    pipeline.put(key, tone.body)
    activity = pipeline.settle(since)
    assert activity.outcomes() == ["tagged:ok", "skipped:stale"]
    assert comparable(read_tags(pipeline.client, key)) == expected_tags(tone)


def test_put_object_overwritten_by_a_multipart_upload_during_its_job(
    pipeline: Pipeline, medium_video: VideoFile, tone: Media
) -> None:
    key = "stale/put-then-mp.mp4"
    pipeline.emulator.faults.reorder_callbacks(2)
    since = pipeline.mark()
    pipeline.put(key, tone.body)
    pipeline.hold_callbacks(1)
    etag = upload_file(pipeline, key, medium_video)
    activity = pipeline.settle(since)
    assert activity.outcomes() == ["tagged:ok", "skipped:stale"]
    assert comparable(read_tags(pipeline.client, key)) == medium_video.tags(etag)


def test_redelivered_complete_event_ends_with_the_same_tags(
    pipeline: Pipeline, medium_video: VideoFile
) -> None:
    """The duplicate check is off by default: a redelivered CompleteMultipartUpload event costs
    one more job, whose result names itself; the multipart ETag and the media tags stay."""
    key = "dup/mp.mp4"
    since = pipeline.mark()
    etag = upload_file(pipeline, key, medium_video)
    (upload,) = pipeline.settle(since).uploads
    assert comparable(read_tags(pipeline.client, key)) == medium_video.tags(etag)
    again = pipeline.mark()
    pipeline.emulator.upload.invoke_event(upload.event)
    activity = pipeline.settle(again)
    assert activity.operations["ci:POST"] == 1
    (redelivered,) = activity.uploads
    ((second,),) = [redelivered.result["submitted"]]
    tags = read_tags(pipeline.client, key)
    assert comparable(tags) == medium_video.tags(etag)
    assert tags["media:etag"].endswith("/" + second["job_id"])


def test_reconcile_applies_the_job_of_the_current_multipart_etag(
    tmp_path: Path, medium_video: VideoFile
) -> None:
    # The same bytes uploaded twice by multipart get two ETags (as on COS): the first job's
    # result is stale for the second object even though the content is identical. An emulator
    # of its own: reconcile looks at every job of the bucket.
    with Emulator(tmp_path, job_runner_delay_s=0.01, buckets=[BUCKET]) as emulator:
        _reconcile_after_lost_callbacks(Pipeline(emulator, oracle_client(emulator)), medium_video)


def _reconcile_after_lost_callbacks(pipeline: Pipeline, medium_video: VideoFile) -> None:
    key = "lost/mp.mp4"
    started = time.time()
    pipeline.emulator.faults.drop_next_callbacks(2)
    since = pipeline.mark()
    first = upload_file(pipeline, key, medium_video)
    pipeline.settle(since)
    again = pipeline.mark()
    second = upload_file(pipeline, key, medium_video)
    pipeline.settle(again)
    assert first != second
    assert read_tags(pipeline.client, key) == {}  # both callbacks were lost
    summary = run_reconcile(
        BUCKET,
        REGION,
        since=started - 5,
        until=time.time() + 5,
        environ=pipeline.emulator.function_environ(),
    )
    assert pipeline.emulator.wait_idle(SETTLE_S)
    # two jobs for the object; only the second one's UserData ETag is the object's current one
    assert summary.as_dict() == {
        "jobs": 2, "objects": 1, "outcomes": {"tagged": 1}, "errors": 0, "incomplete": False
    }  # fmt: skip
    assert comparable(read_tags(pipeline.client, key)) == medium_video.tags(second)
