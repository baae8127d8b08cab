"""``python -m deploy`` end to end against the fake control plane: plan, up, up, status, down.

The official SDK builds and signs every request; ``FakeCloud`` (through ``responses``) keeps the
state. The exact API calls of each command are asserted, and that a second ``up`` writes nothing.
"""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.deploy_fake_cloud import SECRET_KEY, FakeCloud, served_cloud
from tests.deploy_helpers import CALLBACK, RECONCILE, ROLE, UPLOAD, DeployRunner, write_zips

ROOT = Path(__file__).resolve().parent.parent
# GetRole twice: the execution role, then SCF's own service role SCF_QcsRole (checked only)
FIRST_UP_READS = ["GetUserAppId", "GetRole", "ListPolicies", "GetRole", "GET /mediabucket"]
FIRST_UP_READS += ["GetFunction"] * 3
CREATE_ONE = [
    "CreateFunction",
    "GetFunction",
    "GetFunction",
    "GetFunctionAddress",
    "ListTriggers",
    "CreateTrigger",
]
STEADY_READS = [
    "GetUserAppId",
    "GetRole",
    "ListPolicies",
    "GetPolicy",
    "ListAttachedRolePolicies",
    "GetRole",
    "GET /mediabucket",
    "GetFunction",
    "GetFunction",
    "GetFunction",
    *["GetFunctionAddress", "ListTriggers"] * 3,
]
DELETE_ONE = [
    "GetFunction",
    "ListTriggers",
    "DeleteTrigger",
    "DeleteFunction",
    "GetFunction",
    "GetFunction",
]


@pytest.fixture
def cloud() -> Iterator[FakeCloud]:
    yield from served_cloud()


@pytest.fixture
def run(tmp_path: Path) -> DeployRunner:
    return DeployRunner(tmp_path)


def _environment(cloud: FakeCloud, name: str) -> dict[str, str]:
    return dict(cloud.scf.functions[name].config["Environment"])


def test_up_up_status_down(cloud: FakeCloud, run: DeployRunner) -> None:
    assert run("up") == 0
    assert cloud.actions() == [
        *FIRST_UP_READS,
        "CreateRole",
        "CreatePolicy",
        "AttachRolePolicy",
        "POST /mediabucket",
        *CREATE_ONE * 3,
    ]
    assert [p["FunctionName"] for p in cloud.params("CreateFunction")] == [
        CALLBACK,
        UPLOAD,
        RECONCILE,
    ]
    assert [p["Type"] for p in cloud.params("CreateTrigger")] == ["http", "cos", "timer"]
    assert [p["RoleName"] for p in cloud.params("GetRole")] == [ROLE, "SCF_QcsRole"]

    cloud.reset_log()
    assert run("up") == 0
    assert cloud.actions() == STEADY_READS
    assert cloud.writes() == []
    assert run.lines[-1] == "up: nothing to change"

    cloud.reset_log()
    assert run("status") == 0, run.output()
    assert cloud.writes() == []
    assert "DIFF" not in run.output()

    cloud.reset_log()
    assert run("down") == 0
    assert cloud.actions() == [
        *DELETE_ONE * 3,
        "GetRole",
        "ListPolicies",
        "ListAttachedRolePolicies",
        "DetachRolePolicy",
        "DeletePolicy",
        "DeleteRole",
    ]
    assert [p["FunctionName"] for p in cloud.params("DeleteFunction")] == [
        RECONCILE,
        UPLOAD,
        CALLBACK,
    ]
    assert run.questions == []  # everything was created by up: nothing to ask
    assert cloud.scf.functions == {} and cloud.cam.policies == {}
    assert list(cloud.cam.roles) == ["SCF_QcsRole"]  # SCF's own: never ours to delete
    assert not run.state_file.exists()


def test_plan_reads_only_and_lists_every_change(cloud: FakeCloud, run: DeployRunner) -> None:
    assert run("plan") == 0
    assert cloud.actions() == FIRST_UP_READS
    assert cloud.writes() == []
    planned = [line for line in run.lines if line.startswith("  + ")]
    assert len(planned) == 11
    assert run.lines[-1] == "plan: 11 change(s) planned, nothing sent"
    assert not run.state_file.exists()


def test_up_deploys_serverless_yml_settings_url_and_one_secret(
    cloud: FakeCloud, run: DeployRunner
) -> None:
    assert run("up") == 0
    callback, upload = _environment(cloud, CALLBACK), _environment(cloud, UPLOAD)
    url = json.loads(cloud.scf.functions[CALLBACK].triggers[0]["TriggerDesc"])["NetConfig"][
        "ExtranetUrl"
    ]
    reconcile = _environment(cloud, RECONCILE)  # resubmits: mints tokens like the upload
    assert upload["MEDIA_TAGGER_CALLBACK_URL"] == reconcile["MEDIA_TAGGER_CALLBACK_URL"] == url
    secret = callback["MEDIA_TAGGER_CALLBACK_SECRET"]
    assert secret == upload["MEDIA_TAGGER_CALLBACK_SECRET"] == run.made[0]
    assert reconcile["MEDIA_TAGGER_CALLBACK_SECRET"] == secret
    assert callback["MEDIA_TAGGER_ALLOWED_BUCKETS"] == "media-uploads-1250000000"
    created = {p["FunctionName"]: p for p in cloud.params("CreateFunction")}
    assert (created[RECONCILE]["MemorySize"], created[RECONCILE]["Timeout"]) == (256, 300)
    assert {p["Runtime"] for p in created.values()} == {"Python3.12"}
    assert {p["Role"] for p in created.values()} == {ROLE}
    cos = cloud.params("CreateTrigger")[1]
    assert cos["TriggerName"] == "media-uploads-1250000000.cos.ap-guangzhou.myqcloud.com"
    assert json.loads(cos["TriggerDesc"]) == {
        "event": "cos:ObjectCreated:*",
        "filter": {"Prefix": "", "Suffix": ""},
    }
    assert cloud.params("CreateTrigger")[2]["TriggerDesc"] == "0 */30 * * * * *"
    state = json.loads(run.state_file.read_text())
    assert state["callback_secret"] == secret
    assert stat.S_IMODE(run.state_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(run.state_file.parent.stat().st_mode) == 0o700
    text = run.output()
    assert secret not in text and SECRET_KEY not in text
    assert str(run.state_file) in text  # the tool says where the secret is kept


def test_policy_is_rendered_for_the_bucket(cloud: FakeCloud, run: DeployRunner) -> None:
    assert run("up") == 0
    document = cloud.params("CreatePolicy")[0]["PolicyDocument"]
    assert "<" not in document
    assert "qcs::cos:ap-guangzhou:uid/1250000000:media-uploads-1250000000/*" in document
    assert "qcs::cam::uin/100000000001:roleName/CI_QCSRole" in document
    trust = json.loads(cloud.params("CreateRole")[0]["PolicyDocument"])
    assert trust["statement"][0]["principal"] == {"service": ["scf.qcloud.com"]}


def test_a_new_zip_updates_code_only(cloud: FakeCloud, run: DeployRunner) -> None:
    assert run("up") == 0
    write_zips(run.build, version="v2")
    cloud.reset_log()
    assert run("up") == 0
    assert cloud.writes() == ["UpdateFunctionCode"] * 3
    assert "UpdateFunctionConfiguration" not in cloud.actions()


def test_code_replaced_outside_the_tool_is_uploaded_again(
    cloud: FakeCloud, run: DeployRunner
) -> None:
    assert run("up") == 0
    cloud.scf.functions[UPLOAD].code_sha = "edited-in-the-console"
    cloud.reset_log()
    assert run("up") == 0
    assert cloud.writes() == ["UpdateFunctionCode"]
    assert cloud.params("UpdateFunctionCode")[0]["FunctionName"] == UPLOAD


def test_a_variable_added_to_serverless_yml_is_deployed_without_code_change(
    cloud: FakeCloud, run: DeployRunner, tmp_path: Path
) -> None:
    manifest = (ROOT / "serverless.yml").read_text(encoding="utf-8")
    extra = (
        "  MEDIA_TAGGER_LOG_LEVEL: INFO\n"
        "  MEDIA_TAGGER_MAX_TAGS: ${env:MEDIA_TAGGER_MAX_TAGS}\n"
        '  MEDIA_TAGGER_HANDON_BACKOFF_MS: "2000"\n'
    )
    assert "  MEDIA_TAGGER_LOG_LEVEL: INFO\n\ninstances" in manifest  # the shared anchor's end
    edited = tmp_path / "serverless.yml"
    edited.write_text(
        manifest.replace("  MEDIA_TAGGER_LOG_LEVEL: INFO\n\ninstances", extra + "\ninstances")
    )
    run.environ["MEDIA_TAGGER_MAX_TAGS"] = "6"
    assert run("up", "--manifest", str(edited)) == 0
    for name in (CALLBACK, UPLOAD):
        assert _environment(cloud, name)["MEDIA_TAGGER_MAX_TAGS"] == "6"
        assert _environment(cloud, name)["MEDIA_TAGGER_HANDON_BACKOFF_MS"] == "2000"
    edited.write_text(edited.read_text().replace('BACKOFF_MS: "2000"', 'BACKOFF_MS: "4000"'))
    cloud.reset_log()
    assert run("up", "--manifest", str(edited)) == 0
    assert cloud.writes() == ["UpdateFunctionConfiguration"] * 2  # the two that share the anchor
    assert "environment: changed MEDIA_TAGGER_HANDON_BACKOFF_MS" in run.output()
    assert "4000" not in run.output()  # names, never values


def test_an_unset_env_reference_stops_before_any_write(
    cloud: FakeCloud, run: DeployRunner, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = (ROOT / "serverless.yml").read_text(encoding="utf-8")
    edited = tmp_path / "serverless.yml"
    edited.write_text(
        manifest.replace('MEDIA_TAGGER_JOB_LEVEL: "0"', "MEDIA_TAGGER_JOB_LEVEL: ${env:JOB}")
    )
    assert run("up", "--manifest", str(edited)) == 1
    assert "submit_on_upload uses ${env:JOB}; set JOB" in capsys.readouterr().err
    assert cloud.writes() == []
