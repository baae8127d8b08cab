"""The emulator's CI batches (inventorytriggerjob), driven by cos-python-sdk-v5 (test-only
oracle) exactly as its ci_*_inventory_trigger_jobs calls send them, and by raw signed requests
for the per-object job listing the SDK cannot send (inventoryTriggerJobId, ci-facts.md 8.3).
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from qcloud_cos import CosS3Client  # noqa: TID251 -- test-only oracle
from qcloud_cos.cos_exception import CosServiceError  # noqa: TID251 -- test-only oracle

from emulator.cli import main as emulator_main
from shared.tencent.xml_answers import parse_jobs_response
from tests.emulator_fixtures import (
    BUCKET,
    CI_HOST,
    REGION,
    Harness,
    sample_mp4,
    start_harness,
    wait_until,
)
from tests.sdk_helpers import sdk_client

__all__ = ["sample_mp4"]
pytestmark = pytest.mark.e2e


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    running = start_harness(tmp_path / "data", probe_cache=True, job_runner_delay_s=0.001)
    try:
        yield running
    finally:
        running.client.session.close()
        running.server.stop()


def sdk(harness: Harness) -> CosS3Client:
    return sdk_client(harness.server.port, harness.client.credentials)


def body(given: dict[str, str], **operation: Any) -> dict[str, Any]:
    """A JobBody as the SDK demo writes it (dict order = element order)."""
    return {
        "Name": "media-tagger-demo",
        "Type": "Job",
        "Input": given,
        "Operation": {"Tag": "MediaInfo", "JobParam": {}, **operation},
    }


def put(harness: Harness, key: str, data: bytes) -> None:
    harness.server.store.put_object(BUCKET, key, [data], content_type="video/mp4", meta={})


def batch_jobs(harness: Harness, batch_id: str, **params: str) -> list[Any]:
    """GET /jobs?tag=MediaInfo&inventoryTriggerJobId=<id>, every page (raw signed requests)."""
    found: list[Any] = []
    token = ""
    while True:
        query = {"tag": "MediaInfo", "inventoryTriggerJobId": batch_id, "size": "3", **params}
        if token:
            query["nextToken"] = token
        answer = harness.client.send("GET", "/jobs", host=CI_HOST, params=query)
        assert answer.status_code == 200, answer.text
        page = parse_jobs_response(answer.content)
        found += page.jobs
        if not page.next_token:
            return found
        token = page.next_token


def final_state(client: CosS3Client, batch_id: str, timeout_s: float = 20) -> str:
    def done() -> bool:
        state = client.ci_get_inventory_trigger_jobs(Bucket=BUCKET, JobID=batch_id)
        return state["JobsDetail"][0]["State"] in ("Success", "Failed", "Cancel")

    assert wait_until(done, timeout_s)
    answer = client.ci_get_inventory_trigger_jobs(Bucket=BUCKET, JobID=batch_id)
    return str(answer["JobsDetail"][0]["State"])


def test_a_prefix_batch_through_the_sdk_runs_one_job_per_object(
    harness: Harness, sample_mp4: bytes
) -> None:
    for i in range(5):
        put(harness, f"in/{i}.mp4", sample_mp4)
    put(harness, "in/notes.txt", b"text")
    put(harness, "other/x.mp4", sample_mp4)
    client = sdk(harness)
    created = client.ci_create_inventory_trigger_jobs(
        Bucket=BUCKET,
        JobBody=body({"Prefix": "in/"}, UserData="mtb1;r=demo", CallBack="no"),
        ContentType="application/xml",
    )
    detail = created["JobsDetail"][0]
    batch_id = detail["JobId"]
    assert batch_id.startswith("b") and len(batch_id) == 33
    assert detail["Type"] == "Job" and detail["Input"] == {"Prefix": "in/"}
    assert detail["Operation"]["UserData"] == "mtb1;r=demo"
    assert final_state(client, batch_id) == "Success"
    jobs = batch_jobs(harness, batch_id, orderByTime="Asc")
    assert [job.input.object for job in jobs] == [
        *(f"in/{i}.mp4" for i in range(5)),
        "in/notes.txt",
    ]
    assert {job.operation.user_data for job in jobs} == {"mtb1;r=demo"}
    states = {job.input.object: (job.state, job.code) for job in jobs}
    assert states["in/notes.txt"] == ("Failed", "ResourceNotSupported")
    assert states["in/0.mp4"] == ("Success", "Success")
    assert jobs[0].operation.media_info is not None
    assert batch_jobs(harness, "b" + "0" * 32) == []


def test_the_sdk_list_call_sees_job_batches_only_with_type_job(harness: Harness) -> None:
    client = sdk(harness)
    made = [
        client.ci_create_inventory_trigger_jobs(
            Bucket=BUCKET,
            JobBody={**body({"Object": "nothing.mp4"}), "Name": f"n{i}"},
            ContentType="application/xml",
        )["JobsDetail"][0]["JobId"]
        for i in range(3)
    ]
    assert "JobsDetail" not in client.ci_list_inventory_trigger_jobs(Bucket=BUCKET)  # Workflow
    listed = client.ci_list_inventory_trigger_jobs(Bucket=BUCKET, Type="Job", Size=2)
    assert [d["JobId"] for d in listed["JobsDetail"]] == made[:0:-1]  # newest first
    rest = client.ci_list_inventory_trigger_jobs(
        Bucket=BUCKET, Type="Job", Size=2, NextToken=listed["NextToken"]
    )
    assert [d["JobId"] for d in rest["JobsDetail"]] == [made[0]]
    named = client.ci_list_inventory_trigger_jobs(Bucket=BUCKET, Type="Job", Name="n1")
    assert [d["JobId"] for d in named["JobsDetail"]] == [made[1]]
    oldest = client.ci_list_inventory_trigger_jobs(Bucket=BUCKET, Type="Job", OrderByTime="Asc")
    assert [d["JobId"] for d in oldest["JobsDetail"]] == made


def test_a_running_batch_is_cancelled_by_the_sdk_and_its_waiting_jobs_too(
    harness: Harness, sample_mp4: bytes
) -> None:
    for i in range(40):
        put(harness, f"slow/{i:02d}.mp4", sample_mp4)
    harness.server.batch.runner.object_delay_s = 0.02
    harness.server.configure_queue(state="Paused")
    client = sdk(harness)
    batch_id = client.ci_create_inventory_trigger_jobs(
        Bucket=BUCKET, JobBody=body({"Prefix": "slow/"}), ContentType="application/xml"
    )["JobsDetail"][0]["JobId"]
    running = {"States": "Running", "Type": "Job"}
    assert wait_until(
        lambda: bool(
            client.ci_list_inventory_trigger_jobs(Bucket=BUCKET, **running).get("JobsDetail")
        )
    )
    harness.server.configure_queue(state="Active")
    assert wait_until(lambda: harness.server.batch.batches.get(batch_id).jobs_created >= 3)
    client.ci_delete_inventory_trigger_jobs(Bucket=BUCKET, JobId=batch_id)  # PUT ...?cancel
    assert final_state(client, batch_id) == "Cancel"
    jobs = batch_jobs(harness, batch_id)
    assert 3 <= len(jobs) < 40
    assert {job.state for job in jobs} <= {"Success", "Cancel"}
    client.ci_delete_inventory_trigger_jobs(Bucket=BUCKET, JobId=batch_id)  # a no-op now
    with pytest.raises(CosServiceError, match=r".") as raised:
        client.ci_delete_inventory_trigger_jobs(Bucket=BUCKET, JobId="b" + "1" * 32)
    assert raised.value.get_status_code() == 400
    assert "does not exist" in str(raised.value.get_origin_msg())
    unknown = client.ci_get_inventory_trigger_jobs(Bucket=BUCKET, JobID="b" + "1" * 32)
    assert unknown["NonExistJobIds"] == "b" + "1" * 32


def test_a_manifest_batch_reads_the_inventory_the_admin_command_wrote(
    harness: Harness, sample_mp4: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = ["inv/a b.mp4", "inv/c+d%20.mp4", "inv/视频.mp4"]
    for key in keys:
        put(harness, key, sample_mp4)
    put(harness, "elsewhere.mp4", sample_mp4)
    monkeypatch.setenv("MEDIA_TAGGER_ENDPOINT_URL", harness.server.endpoint_url)
    out, err = io.StringIO(), io.StringIO()
    code = emulator_main(["inventory", "--bucket", BUCKET, "--prefix", "inv/"], out, err)
    assert code == 0, err.getvalue()
    where = out.getvalue().split()[0]
    assert where.startswith(f"cos://{BUCKET}/cos_bucket_inventory/1250000000/media/inventory01/")
    manifest_key = where[len(f"cos://{BUCKET}/") :]
    manifest = json.loads(harness.server.store.read_bytes(BUCKET, manifest_key) or b"")
    assert manifest["listObjectCount"] == "3"
    url = f"https://{BUCKET}.cos.{REGION}.myqcloud.com/{manifest_key}"
    client = sdk(harness)
    batch_id = client.ci_create_inventory_trigger_jobs(
        Bucket=BUCKET, JobBody=body({"Manifest": url}), ContentType="application/xml"
    )["JobsDetail"][0]["JobId"]
    assert final_state(client, batch_id) == "Success"
    assert sorted(job.input.object for job in batch_jobs(harness, batch_id)) == sorted(keys)


def test_a_manifest_that_cannot_be_read_fails_the_batch(harness: Harness) -> None:
    client = sdk(harness)
    batch_id = client.ci_create_inventory_trigger_jobs(
        Bucket=BUCKET, JobBody=body({"Manifest": "missing/manifest.json"}),
        ContentType="application/xml",
    )["JobsDetail"][0]["JobId"]  # fmt: skip
    assert final_state(client, batch_id) == "Failed"
    detail = client.ci_get_inventory_trigger_jobs(Bucket=BUCKET, JobID=batch_id)["JobsDetail"][0]
    assert detail["Code"] == "InvalidManifest" and "does not exist" in detail["Message"]


def test_time_interval_keeps_objects_uploaded_in_it(harness: Harness, sample_mp4: bytes) -> None:
    put(harness, "t/old.mp4", sample_mp4)
    stored = harness.server.store.head(BUCKET, "t/old.mp4")
    assert stored is not None
    start = time.strftime(
        "%Y-%m-%dT%H:%M:%S+0800", time.gmtime(stored.last_modified + 8 * 3600 + 5)
    )
    client = sdk(harness)
    batch_id = client.ci_create_inventory_trigger_jobs(
        Bucket=BUCKET, JobBody=body({"Prefix": "t/"}, TimeInterval={"Start": start}),
        ContentType="application/xml",
    )["JobsDetail"][0]["JobId"]  # fmt: skip
    assert final_state(client, batch_id) == "Success"
    assert batch_jobs(harness, batch_id) == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"Type": "Workflow"}, "only Type Job"),
        ({"Operation": {"Tag": "Transcode", "JobParam": {}}}, "Tag must be MediaInfo"),
        ({"Operation": {"Tag": "MediaInfo"}}, "JobParam is required"),
        ({"Name": "bad name!"}, "Name is"),
        ({"Input": {"UrlFile": "u.txt"}}, "UrlFile is not emulated"),
        ({"Input": {"Prefix": "a", "Object": "b"}}, "exactly one"),
        (
            {"Operation": {"Tag": "MediaInfo", "JobParam": {}, "CallBack": "https://x.y"}},
            "only calls back",
        ),
    ],
)
def test_requests_ci_would_refuse(harness: Harness, change: dict[str, Any], message: str) -> None:
    job_body = {**body({"Prefix": "p/"}), **change}
    with pytest.raises(CosServiceError, match=r".") as raised:
        sdk(harness).ci_create_inventory_trigger_jobs(
            Bucket=BUCKET, JobBody=job_body, ContentType="application/xml"
        )
    # the SDK cannot digest CI's error document; its raw text is kept
    assert raised.value.get_status_code() == 400
    assert message in str(raised.value.get_origin_msg())


def test_a_create_without_an_xml_content_type_is_refused(harness: Harness) -> None:
    with pytest.raises(CosServiceError, match=r".") as raised:
        sdk(harness).ci_create_inventory_trigger_jobs(Bucket=BUCKET, JobBody=body({"Prefix": "p/"}))
    assert "Content-Type must be application/xml" in str(raised.value.get_origin_msg())
