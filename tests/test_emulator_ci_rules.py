"""CI behaviours a client can see, driven with cos-python-sdk-v5 where they are about the wire.

Non-media bytes under media names fail as CI fails them (ffprobe must not pick a demuxer from
the store's ``.bin`` suffix), CodecTimeBase equals Timebase, POST /jobs needs its Content-Type,
a job on a missing object is refused at submit (or, as a setting, fails later), a key with CR/LF
is refused, and job ids are UUIDv1 stamped with the job's CreationTime.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from qcloud_cos import CosConfig, CosS3Client  # noqa: TID251 -- test-only oracle
from qcloud_cos.cos_exception import CosServiceError  # noqa: TID251 -- test-only oracle

from emulator.ci.jobs import CI_TIME_FORMAT, job_id_time
from emulator.fidelity import Fidelity
from shared.tencent.xml_answers import parse_error_body
from shared.tencent.xml_parser import element_to_tree, parse_xml
from tests.emulator_fixtures import BUCKET, CI_HOST, Harness, sample_mp4, start_harness

__all__ = ["sample_mp4"]
pytestmark = pytest.mark.e2e
XML = {"ContentType": "application/xml"}


def sdk(harness: Harness) -> CosS3Client:
    credentials = harness.client.credentials
    config = CosConfig(
        Region="ap-guangzhou",
        SecretId=credentials.secret_id,
        SecretKey=credentials.secret_key,
        Token=credentials.token,
        Scheme="http",
        IP="127.0.0.1",
        Port=harness.server.port,
    )
    return CosS3Client(config, retry=0)


def submit(client: CosS3Client, key: str, **headers: str) -> dict[str, Any]:
    created = client.ci_create_media_jobs(
        Bucket=BUCKET,
        Jobs={"Tag": "MediaInfo", "Input": {"Object": key}, "Operation": {"UserData": "u"}},
        Lst={},
        **headers,
    )
    return created["JobsDetail"][0]  # type: ignore[no-any-return]


def refused(call: Any) -> tuple[int, str]:
    """Status and CI error code of a refused SDK call. CI error bodies have no <Resource>, so
    the SDK's own get_error_code() says "Unknown" (cos-facts.md 7.1): read the body instead."""
    with pytest.raises(CosServiceError, match="Response Error Msg Is INVALID") as caught:
        call()
    error = parse_error_body(caught.value.get_origin_msg().encode("utf-8"))
    assert error is not None
    return caught.value.get_status_code(), error.code


def job(client: CosS3Client, job_id: str) -> dict[str, Any]:
    return client.ci_get_media_jobs(Bucket=BUCKET, JobIDs=job_id)["JobsDetail"][0]  # type: ignore[no-any-return]


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Harness]:
    harness = start_harness(tmp_path)
    yield harness
    harness.server.stop()


# -- item 4: what CI sees is the content, never a storage suffix ------------------------------
def _not_media(sample: bytes) -> dict[str, bytes]:
    return {
        "random.mp4": random.Random(13).randbytes(300_000),
        "long-text.mp4": b"plain text pretending to be a video\n" * 8000,  # bintext as .bin
        "truncated.mp4": sample[: len(sample) // 2],  # the moov atom is at the end
    }


def test_non_media_bytes_under_media_names_fail_as_ci_fails_them(
    running: Harness, sample_mp4: bytes
) -> None:
    client = sdk(running)
    bodies = {**_not_media(sample_mp4), "real.mp4": sample_mp4, "real-named.txt": sample_mp4}
    ids = {}
    for key, body in bodies.items():
        client.put_object(Bucket=BUCKET, Key=key, Body=body)
        ids[key] = submit(client, key, **XML)["JobId"]
    assert running.server.wait_idle(20)
    outcomes = {key: (job(client, ids[key])["State"], job(client, ids[key])["Code"]) for key in ids}
    failed = ("Failed", "ResourceNotSupported")
    assert outcomes == {
        "random.mp4": failed,
        "long-text.mp4": failed,
        "truncated.mp4": failed,
        "real.mp4": ("Success", "Success"),
        "real-named.txt": ("Success", "Success"),  # the content decides, not the name
    }


# -- item 8: CodecTimeBase, Content-Type, missing objects, CR/LF, job ids ---------------------
def test_codec_time_base_equals_timebase(running: Harness, sample_mp4: bytes) -> None:
    client = sdk(running)
    client.put_object(Bucket=BUCKET, Key="in.mp4", Body=sample_mp4)
    job_id = submit(client, "in.mp4", **XML)["JobId"]
    assert running.server.wait_idle(10)
    stream = job(client, job_id)["Operation"]["MediaInfo"]["Stream"]
    for kind in ("Video", "Audio"):
        assert stream[kind]["CodecTimeBase"] == stream[kind]["Timebase"], kind
    assert stream["Video"]["Timebase"] == "1/12800"  # libx264 at 25 fps in mp4


def test_post_jobs_without_content_type_is_refused(running: Harness, sample_mp4: bytes) -> None:
    client = sdk(running)
    client.put_object(Bucket=BUCKET, Key="in.mp4", Body=sample_mp4)
    assert refused(lambda: submit(client, "in.mp4")) == (400, "InvalidArgument")
    assert refused(lambda: submit(client, "in.mp4", ContentType="text/plain")) == (
        400,
        "InvalidArgument",
    )
    assert running.server.jobs.all() == []
    assert submit(client, "in.mp4", ContentType="application/xml; charset=utf-8")["JobId"]


def test_a_job_on_a_missing_object_is_refused_at_submit_by_default(running: Harness) -> None:
    client = sdk(running)
    assert refused(lambda: submit(client, "no/such.mp4", **XML)) == (400, "ResourceNotFound")
    assert running.server.jobs.all() == []


def test_a_job_on_a_missing_object_can_fail_later_instead(tmp_path: Path) -> None:
    harness = start_harness(tmp_path, fidelity=Fidelity(missing_object="fail-job"))
    try:
        client = sdk(harness)
        created = submit(client, "no/such.mp4", **XML)
        assert created["State"] == "Submitted"
        assert harness.server.wait_idle(10)
        detail = job(client, created["JobId"])
        assert (detail["State"], detail["Code"]) == ("Failed", "ResourceNotFound")
    finally:
        harness.server.stop()


@pytest.mark.parametrize("key", ["line\r\nbreak.mp4", "line\nbreak.mp4", "tab\tname.mp4"])
def test_an_input_object_with_control_characters_is_refused(running: Harness, key: str) -> None:
    client = sdk(running)
    assert refused(lambda: submit(client, key, **XML)) == (400, "InvalidArgument")


def test_job_ids_are_uuid1_stamped_with_the_creation_time(tmp_path: Path) -> None:
    now = 1_732_500_123.456789
    harness = start_harness(tmp_path, clock=lambda: now)
    try:
        harness.client.send("PUT", "a.mp4", body=b"x")
        body = b"<Request><Tag>MediaInfo</Tag><Input><Object>a.mp4</Object></Input>"
        body += b"<Operation/></Request>"
        xml = {"Content-Type": "application/xml"}
        answers = [
            harness.client.send("POST", "/jobs", host=CI_HOST, body=body, headers=xml)
            for _ in range(3)
        ]
    finally:
        harness.server.stop()
    details = [element_to_tree(parse_xml(answer.content))["JobsDetail"] for answer in answers]
    ids = [detail["JobId"] for detail in details]
    assert len(set(ids)) == 3  # one frozen clock, still three ids
    for job_id, detail in zip(ids, details):
        assert job_id[0] == "j" and len(job_id) == 33
        parsed = uuid.UUID(hex=job_id[1:])
        assert (parsed.version, parsed.variant) == (1, uuid.RFC_4122)
        assert parsed.node & (1 << 40)  # a random node, as in CI's ids, not a MAC address
        stamped = job_id_time(job_id)
        assert stamped is not None and abs(stamped - now) < 1e-6
        created = datetime.strptime(detail["CreationTime"], CI_TIME_FORMAT).timestamp()
        assert created == int(now)  # CreationTime is the id's time cut to the second
