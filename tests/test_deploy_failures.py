"""``python -m deploy`` failure paths against the fake control plane.

An existing role with another policy or trust, our policy widened by hand, a function in
Creating (waits, then proceeds) or stuck there, CreateFailed, throttling, a trigger already
there or with other settings, media processing that cannot be enabled, and ``down`` asking
before it removes what ``up`` did not create.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from deploy.cloud.policy_documents import TRUST_POLICY
from tests.deploy_fake_cam import FakeRole
from tests.deploy_fake_cloud import FakeCloud, served_cloud
from tests.deploy_helpers import CALLBACK, ROLE, UPLOAD, DeployRunner

TRUST = json.dumps(TRUST_POLICY)
COS_FULL = json.dumps(
    {"version": "2.0", "statement": [{"effect": "allow", "action": ["cos:*"], "resource": ["*"]}]}
)


@pytest.fixture
def cloud() -> Iterator[FakeCloud]:
    yield from served_cloud()


@pytest.fixture
def run(tmp_path: Path) -> DeployRunner:
    return DeployRunner(tmp_path)


def test_role_with_another_policy_stops_up_before_any_write(
    cloud: FakeCloud, run: DeployRunner, capsys: pytest.CaptureFixture[str]
) -> None:
    other = cloud.cam.add_policy("QcloudCOSFullAccess", COS_FULL)
    cloud.cam.roles[ROLE] = FakeRole("4611686018427000001", TRUST, attached=[other])
    assert run("up") == 1
    error = capsys.readouterr().err
    assert f"CAM role {ROLE} also has policy QcloudCOSFullAccess ({other}) attached" in error
    assert "--update-iam" in error
    assert cloud.writes() == []
    assert run("plan") == 3  # plan reports it and still lists the rest
    assert any(line.startswith("  ! CAM role") for line in run.lines)
    cloud.reset_log()
    assert run("up", "--update-iam") == 0
    assert cloud.writes()[:3] == ["CreatePolicy", "AttachRolePolicy", "DetachRolePolicy"]
    assert cloud.params("DetachRolePolicy") == [{"PolicyId": other, "DetachRoleName": ROLE}]


def test_role_trusting_another_service_is_reported_exactly(
    cloud: FakeCloud, run: DeployRunner, capsys: pytest.CaptureFixture[str]
) -> None:
    wider = json.loads(TRUST)
    wider["statement"][0]["principal"]["service"].append("cvm.qcloud.com")
    cloud.cam.roles[ROLE] = FakeRole("4611686018427000002", json.dumps(wider))
    assert run("up") == 1
    assert (
        "grants allow sts:AssumeRole on service:cvm.qcloud.com (beyond ours)"
        in capsys.readouterr().err
    )
    assert cloud.writes() == []


def test_our_policy_widened_by_hand_is_not_narrowed_silently(
    cloud: FakeCloud, run: DeployRunner, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("up") == 0
    policy_id = next(iter(cloud.cam.policies))
    document = json.loads(cloud.cam.policies[policy_id]["PolicyDocument"])
    document["statement"][1]["action"].append("cos:GetObject")
    cloud.cam.policies[policy_id]["PolicyDocument"] = json.dumps(document)
    cloud.reset_log()
    assert run("up") == 1
    assert (
        "grants allow cos:GetObject on qcs::cos:ap-guangzhou:uid/1250000000:"
        in capsys.readouterr().err
    )
    assert cloud.writes() == []
    assert run("up", "--update-iam") == 0
    assert cloud.writes() == ["UpdatePolicy"]


def test_function_in_creating_state_is_waited_for_then_updated(
    cloud: FakeCloud, run: DeployRunner
) -> None:
    assert run("up") == 0
    function = cloud.scf.functions[UPLOAD]
    function.status, function.pending = "Creating", ["Creating", "Creating", "Active"]
    function.config["MemorySize"] = 256
    cloud.reset_log()
    run.clock.sleeps.clear()
    assert run("up") == 0
    assert cloud.writes() == ["UpdateFunctionConfiguration"]
    assert run.clock.sleeps[:3] == [2, 2, 2]  # injected: the test never sleeps
    assert "function cos-media-tagger-dev-submit-on-upload is Creating: waiting" in run.output()


def test_a_function_that_never_settles_times_out_with_a_bounded_wait(
    cloud: FakeCloud, run: DeployRunner, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("up") == 0
    function = cloud.scf.functions[CALLBACK]
    function.status, function.pending = "Updating", ["Updating"] * 1000
    run.clock.sleeps.clear()
    assert run("up") == 1
    assert "still Updating after 300 s" in capsys.readouterr().err
    assert sum(run.clock.sleeps) <= 302


def test_create_failed_raises_with_reasons_and_the_next_up_replaces_it(
    cloud: FakeCloud, run: DeployRunner, capsys: pytest.CaptureFixture[str]
) -> None:
    cloud.scf.create_outcome = "CreateFailed"
    assert run("up") == 1
    assert "is CreateFailed: InternalError: image pull" in capsys.readouterr().err
    cloud.scf.create_outcome = "Active"
    cloud.reset_log()
    assert run("up") == 0
    assert cloud.writes()[:2] == ["DeleteFunction", "CreateFunction"]
    assert cloud.scf.functions[CALLBACK].status == "Active"


def test_create_failed_function_of_someone_else_stops(
    cloud: FakeCloud, run: DeployRunner, capsys: pytest.CaptureFixture[str]
) -> None:
    cloud.scf.create_outcome = "CreateFailed"
    assert run("up") == 1
    run.state_file.unlink()  # the tool no longer knows it created the function
    assert run("up") == 1
    assert "was not created by this tool" in capsys.readouterr().err
    assert "DeleteFunction" not in cloud.writes()


def test_throttling_is_retried_with_backoff_through_the_injected_sleep(
    cloud: FakeCloud, run: DeployRunner
) -> None:
    cloud.fail_next("AttachRolePolicy", "RequestLimitExceeded", times=2)
    cloud.fail_next("GetFunction", "RequestLimitExceeded.UinLimitExceeded")
    assert run("up") == 0
    assert cloud.actions().count("AttachRolePolicy") == 3
    assert run.clock.sleeps[:3] == [1.0, 1.0, 2.0]


def test_throttling_that_does_not_stop_gives_up(
    cloud: FakeCloud, run: DeployRunner, capsys: pytest.CaptureFixture[str]
) -> None:
    cloud.fail_next("GetUserAppId", "RequestLimitExceeded", times=6)
    assert run("up") == 1
    assert "cam GetUserAppId: RequestLimitExceeded" in capsys.readouterr().err
    assert run.clock.sleeps == [1.0, 2.0, 4.0, 8.0, 16.0]


def test_a_trigger_already_there_is_adopted(cloud: FakeCloud, run: DeployRunner) -> None:
    assert run("up") == 0
    trigger = cloud.scf.functions[UPLOAD].triggers.pop()
    cloud.fail_next("CreateTrigger", "ResourceInUse.Trigger")  # as if made meanwhile
    original_list = cloud.scf.ListTriggers
    calls = {"n": 0}

    def list_then_reappear(params: dict[str, object]) -> dict[str, object]:
        calls["n"] += 1
        if calls["n"] == 3:  # callback's, upload's, then the read-back after "already exists"
            cloud.scf.functions[UPLOAD].triggers.append(trigger)
        return original_list(params)

    cloud.scf.ListTriggers = list_then_reappear  # type: ignore[method-assign]
    cloud.reset_log()
    assert run("up") == 0
    assert "was already there (adopted)" in run.output()
    assert [p["TriggerName"] for p in cloud.params("CreateTrigger")] == [trigger["TriggerName"]]


def test_a_cos_trigger_with_other_settings_is_replaced(cloud: FakeCloud, run: DeployRunner) -> None:
    assert run("up") == 0
    run.environ["DEPLOY_PREFIX"] = "videos/"
    cloud.reset_log()
    assert run("up") == 0
    assert cloud.writes() == ["DeleteTrigger", "CreateTrigger"]
    assert (
        json.loads(cloud.params("CreateTrigger")[0]["TriggerDesc"])["filter"]["Prefix"] == "videos/"
    )


def test_media_processing_refused_gives_the_console_steps(
    cloud: FakeCloud, run: DeployRunner, capsys: pytest.CaptureFixture[str]
) -> None:
    cloud.media_enable_error = "InvalidBucket"
    assert run("up") == 1
    error = capsys.readouterr().err
    assert "Bucket management > Bind bucket > choose media-uploads-1250000000" in error
    assert "Media processing > Enable" in error and "InvalidBucket" in error


def test_no_enable_media_processing_stops_before_writing(
    cloud: FakeCloud, run: DeployRunner, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("up", "--no-enable-media-processing") == 1
    assert "media processing on bucket media-uploads-1250000000 is off" in capsys.readouterr().err
    assert cloud.writes() == []


def test_down_asks_before_removing_what_up_did_not_create(
    cloud: FakeCloud, run: DeployRunner
) -> None:
    cloud.cam.roles[ROLE] = FakeRole("4611686018427000003", TRUST)  # made by hand, beforehand
    assert run("up") == 0
    run.answer = False
    assert run("down") == 3
    assert run.questions == [
        f"CAM role {ROLE} was not created by `python -m deploy up`: delete it?"
    ]
    assert ROLE in cloud.cam.roles and cloud.cam.policies == {} and cloud.scf.functions == {}
    assert run.state_file.exists()
    assert run("down", "--yes") == 0
    assert ROLE not in cloud.cam.roles
    assert not run.state_file.exists()


def test_a_runtime_change_stops(
    cloud: FakeCloud, run: DeployRunner, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("up") == 0
    cloud.scf.functions[CALLBACK].config["Runtime"] = "Python3.10"
    assert run("up") == 1
    assert "runs Python3.10, serverless.yml says Python3.12" in capsys.readouterr().err


def test_keys_of_another_account_are_refused(
    cloud: FakeCloud, run: DeployRunner, capsys: pytest.CaptureFixture[str]
) -> None:
    run.environ["DEPLOY_BUCKET"] = "media-uploads-1250000001"
    assert run("up") == 1
    assert "belongs to APPID 1250000001, but the deploy keys are of APPID 1250000000" in (
        capsys.readouterr().err
    )
    assert cloud.writes() == []


def test_a_missing_scf_service_role_stops_with_the_console_step(
    cloud: FakeCloud, run: DeployRunner, capsys: pytest.CaptureFixture[str]
) -> None:
    del cloud.cam.roles["SCF_QcsRole"]
    assert run("up", "--update-iam") == 1
    assert "SCF's service role SCF_QcsRole does not exist" in capsys.readouterr().err
    assert cloud.writes() == []


def test_a_missing_zip_stops_before_any_call(
    cloud: FakeCloud, run: DeployRunner, capsys: pytest.CaptureFixture[str]
) -> None:
    (run.build / "submit_on_upload.zip").unlink()
    assert run("up") == 1
    assert (
        "submit_on_upload.zip does not exist: run `make package` first" in capsys.readouterr().err
    )
    assert cloud.actions() == []
