"""The emulator's CI media queue: capacity, concurrency, pause, and the queue describe API.

Unit part: ``MediaQueue`` alone (admission, JobLevel order, pause, limits), no threads. HTTP
part: cos-python-sdk-v5's ``ci_get_media_queue`` / ``ci_update_media_queue`` and submits that
meet a full or paused queue (403 QueueSaturated / QueuePaused with CI's error body), the admin
endpoint and the command line. Jobs are held in their first step by a long runner delay; the
server's stop ends that wait, so no test sleeps.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from qcloud_cos import CosConfig, CosS3Client  # noqa: TID251 -- test-only oracle
from qcloud_cos.cos_exception import CosServiceError  # noqa: TID251 -- test-only oracle

from emulator.ci.queue import DEFAULT_QUEUE_ID, MAX_CONCURRENT_LIMIT, MediaQueue
from emulator.cli import build_parser
from emulator.serve_options import emulator_options
from emulator.wire import ServiceError
from shared.tencent.xml_answers import parse_error_body
from tests.emulator_fixtures import BUCKET, Harness, start_harness, wait_until

HOLD_S = 30.0  # a job's first step; the server's stop cuts it short


# -- MediaQueue alone ------------------------------------------------------------------------
def _queue(**limits: int) -> tuple[MediaQueue, list[tuple[list[str], str]]]:
    marks: list[tuple[list[str], str]] = []
    queue = MediaQueue(
        clock=lambda: 1_700_000_000.0,
        on_waiting_state=lambda ids, state: marks.append((list(ids), state)),
        **limits,
    )
    return queue, marks


def _admit(queue: MediaQueue, job_id: str, level: int = 0) -> str:
    return queue.admit(level, lambda: job_id, lambda created: created)


def test_a_full_queue_refuses_with_queue_saturated_and_takes_again_once_a_job_starts() -> None:
    queue, _ = _queue(max_size=2, max_concurrent=1)
    _admit(queue, "j1")
    _admit(queue, "j2")
    created: list[str] = []
    with pytest.raises(ServiceError, match="QueueSaturated") as caught:
        queue.admit(0, lambda: created.append("j3") or "j3", lambda job: job)
    assert (caught.value.status, created) == (403, [])  # nothing was created
    assert queue.take(timeout=0) == "j1"  # running jobs do not count against MaxSize
    _admit(queue, "j3")
    assert (queue.view().waiting, queue.view().running) == (2, 1)


def test_waiting_jobs_run_by_job_level_then_in_order_within_the_concurrency() -> None:
    queue, _ = _queue(max_concurrent=2)
    for job_id, level in (("a", 0), ("b", 2), ("c", 1), ("d", 2)):
        _admit(queue, job_id, level)
    assert [queue.take(timeout=0), queue.take(timeout=0)] == ["b", "d"]
    assert queue.take(timeout=0) is None  # two running: the third waits
    queue.done()
    assert [queue.take(timeout=0), queue.take(timeout=0)] == ["c", None]
    assert queue.active == 3


def test_a_paused_queue_refuses_new_jobs_and_keeps_its_waiting_ones() -> None:
    queue, marks = _queue()
    _admit(queue, "j1")
    _admit(queue, "j2")
    queue.configure(state="Paused")
    assert marks == [(["j1", "j2"], "Pause")]
    with pytest.raises(ServiceError, match="QueuePaused") as caught:
        _admit(queue, "j3")
    assert caught.value.status == 403
    assert queue.take(timeout=0) is None
    queue.configure(state="Active")
    assert marks[-1] == (["j1", "j2"], "Submitted")
    assert queue.take(timeout=0) == "j1"


@pytest.mark.parametrize(
    "limits",
    [{"max_size": 0}, {"max_concurrent": 0}, {"max_concurrent": MAX_CONCURRENT_LIMIT + 1}],
)
def test_limits_are_checked(limits: dict[str, int]) -> None:
    queue, _ = _queue()
    with pytest.raises(ValueError, match="max_"):
        queue.configure(**limits)
    with pytest.raises(ValueError, match="state"):
        queue.configure(state="Stopped")


# -- over HTTP, through the SDK --------------------------------------------------------------
pytestmark_e2e = pytest.mark.e2e


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


def submit(client: CosS3Client, key: str) -> str:
    created = client.ci_create_media_jobs(
        Bucket=BUCKET,
        Jobs={"Tag": "MediaInfo", "Input": {"Object": key}, "Operation": {}},
        Lst={},
        ContentType="application/xml",
    )
    return str(created["JobsDetail"][0]["JobId"])


def refused(call: Any) -> tuple[int, str]:
    with pytest.raises(CosServiceError, match="Response Error Msg Is INVALID") as caught:
        call()
    error = parse_error_body(caught.value.get_origin_msg().encode("utf-8"))
    assert error is not None  # CI's body: Code, Message, RequestId, TraceId
    return caught.value.get_status_code(), error.code


def state_of(client: CosS3Client, job_id: str) -> str:
    return str(client.ci_get_media_jobs(Bucket=BUCKET, JobIDs=job_id)["JobsDetail"][0]["State"])


@pytest.fixture
def held(tmp_path: Path) -> Iterator[Harness]:
    """Capacity 2, concurrency 1, and jobs that stay in their first step."""
    running = start_harness(
        tmp_path, queue_max_size=2, queue_max_concurrent=1, job_runner_delay_s=HOLD_S
    )
    running.client.send("PUT", "a.mp4", body=b"x")
    yield running
    running.server.stop()


def _running(harness: Harness, count: int) -> bool:
    return wait_until(lambda: harness.server.queue.view().running == count)


@pytestmark_e2e
def test_the_sdk_describes_the_queue_with_its_figures(held: Harness) -> None:
    answer = sdk(held).ci_get_media_queue(Bucket=BUCKET)  # queueIds=&state=All&pageNumber=...
    assert (answer["TotalCount"], answer["PageNumber"], answer["PageSize"]) == ("1", "1", "10")
    (queue,) = answer["QueueList"]
    assert (queue["QueueId"], queue["Name"], queue["State"]) == (
        DEFAULT_QUEUE_ID,
        "queue-1",
        "Active",
    )
    assert (queue["MaxSize"], queue["MaxConcurrent"], queue["Category"]) == (
        "2",
        "1",
        "Transcoding",
    )
    assert queue["NotifyConfig"]["Type"] == "Url" and queue["CreateTime"].endswith("+0800")
    assert answer["RequestId"]
    unknown = "p" + "f" * 32
    by_id = sdk(held).ci_get_media_queue(Bucket=BUCKET, QueueIds=f"{DEFAULT_QUEUE_ID},{unknown}")
    assert [q["QueueId"] for q in by_id["QueueList"]] == [DEFAULT_QUEUE_ID]
    assert by_id["NonExistPIDs"] == unknown
    paused_only = sdk(held).ci_get_media_queue(Bucket=BUCKET, State="Paused")
    assert paused_only["TotalCount"] == "0" and "QueueList" not in paused_only


@pytestmark_e2e
def test_a_full_queue_answers_queue_saturated(held: Harness) -> None:
    client = sdk(held)
    first = submit(client, "a.mp4")
    assert _running(held, 1)
    waiting = [submit(client, "a.mp4"), submit(client, "a.mp4")]
    assert refused(lambda: submit(client, "a.mp4")) == (403, "QueueSaturated")
    assert held.server.stats()["queue"] == {
        "queue_id": DEFAULT_QUEUE_ID,
        "name": "queue-1",
        "state": "Active",
        "max_size": 2,
        "max_concurrent": 1,
        "waiting": 2,
        "running": 1,
    }
    assert [state_of(client, job_id) for job_id in (first, *waiting)] == [
        "Running",
        "Submitted",
        "Submitted",
    ]


@pytestmark_e2e
def test_pausing_through_the_sdk_refuses_submits_and_marks_waiting_jobs(held: Harness) -> None:
    client = sdk(held)
    submit(client, "a.mp4")
    assert _running(held, 1)
    waiting = submit(client, "a.mp4")
    request = {"Name": "queue-1", "State": "Paused", "NotifyConfig": {"State": "Off"}}
    answer = client.ci_update_media_queue(Bucket=BUCKET, QueueId=DEFAULT_QUEUE_ID, Request=request)
    assert answer["Queue"][0]["State"] == "Paused"
    assert refused(lambda: submit(client, "a.mp4")) == (403, "QueuePaused")
    assert state_of(client, waiting) == "Pause"
    request["State"] = "Active"
    client.ci_update_media_queue(Bucket=BUCKET, QueueId=DEFAULT_QUEUE_ID, Request=request)
    assert state_of(client, waiting) == "Submitted"
    other = "p" + "e" * 32
    assert refused(
        lambda: client.ci_update_media_queue(Bucket=BUCKET, QueueId=other, Request=request)
    ) == (400, "InvalidArgument")


@pytestmark_e2e
def test_the_admin_endpoint_pauses_and_resizes_the_queue(held: Harness) -> None:
    admin = f"{held.server.endpoint_url}/_emulator/queue"
    client = sdk(held)
    submit(client, "a.mp4")
    submit(client, "a.mp4")
    assert _running(held, 1)
    grown = requests.post(admin, json={"max_size": 5, "max_concurrent": 2}, timeout=10)
    assert (grown.status_code, grown.json()["max_size"]) == (200, 5)
    assert _running(held, 2)  # a second worker started for the raised concurrency
    paused = requests.post(admin, json={"state": "Paused"}, timeout=10).json()
    assert (paused["state"], paused["running"], paused["waiting"]) == ("Paused", 2, 0)
    assert refused(lambda: submit(client, "a.mp4")) == (403, "QueuePaused")
    assert requests.get(admin, timeout=10).json() == paused
    for bad in ({"max_concurrent": 0}, {"state": "Gone"}, {"colour": "red"}, [1]):
        answer = requests.post(admin, data=json.dumps(bad), timeout=10)
        assert answer.status_code == 400 and answer.json()["error"]


def test_serve_options_set_the_queue_and_the_readings() -> None:
    args = build_parser().parse_args(
        [
            "serve",
            *("--queue-capacity", "200", "--queue-concurrency", "3"),
            *("--callback-shape", "workflow", "--tag-charset", "overview"),
            *("--missing-object", "fail-job", "--allow-leading-slash-keys"),
        ]
    )
    options = emulator_options(args)
    assert (options["queue_max_size"], options["queue_max_concurrent"]) == (200, 3)
    fidelity = options["fidelity"]
    assert (fidelity.callback_shape, fidelity.tag_charset) == ("workflow", "overview")
    assert (fidelity.missing_object, fidelity.leading_slash_keys) == ("fail-job", True)
    defaults = emulator_options(build_parser().parse_args(["serve"]))
    assert (defaults["queue_max_size"], defaults["queue_max_concurrent"]) == (10_000, 10)


@pytest.mark.parametrize("value", ["0", str(MAX_CONCURRENT_LIMIT + 1), "two"])
def test_a_bad_queue_concurrency_exits_2(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit, match="2"):
        build_parser().parse_args(["serve", "--queue-concurrency", value])
    assert "--queue-concurrency" in capsys.readouterr().err
