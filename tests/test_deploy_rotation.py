"""``python -m deploy rotate-secret`` (issue 19) through the fake control plane.

The order that never refuses a valid callback: after every configuration change, the secret the
upload function mints with is one the callback function accepts, and the old secret stays
accepted until ``--finish``, which is refused before the overlap (longest job time + reconcile
window) has passed. No secret value appears in any output or log line.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from deploy.cloud.callback_secret import MAX_JOB_TIME_S, fingerprint
from tests.deploy_fake_cloud import SECRET_KEY, FakeCloud, served_cloud
from tests.deploy_fake_scf import FakeApiError
from tests.deploy_helpers import CALLBACK, RECONCILE, UPLOAD, DeployRunner

SECRET = "MEDIA_TAGGER_CALLBACK_SECRET"
PREVIOUS = "MEDIA_TAGGER_CALLBACK_SECRET_PREVIOUS"
OVERLAP_S = MAX_JOB_TIME_S + 70 * 60


@pytest.fixture
def cloud() -> Iterator[FakeCloud]:
    yield from served_cloud()


@pytest.fixture
def run(tmp_path: Path, cloud: FakeCloud) -> DeployRunner:
    runner = DeployRunner(tmp_path)
    assert runner("up") == 0
    cloud.reset_log()
    return runner


def _env(cloud: FakeCloud, name: str) -> dict[str, str]:
    return dict(cloud.scf.functions[name].config["Environment"])


def _accepted(cloud: FakeCloud) -> set[str]:
    callback = _env(cloud, CALLBACK)
    return {callback[SECRET], *filter(None, callback.get(PREVIOUS, "").split(","))}


def _watch(cloud: FakeCloud) -> list[tuple[str, set[str], str]]:
    """After every configuration change: (function, secrets the callback accepts, minted)."""
    seen: list[tuple[str, set[str], str]] = []
    original = cloud.scf.UpdateFunctionConfiguration

    def update(params: dict[str, Any]) -> dict[str, Any]:
        answer = original(params)
        seen.append((params["FunctionName"], _accepted(cloud), _env(cloud, UPLOAD)[SECRET]))
        return answer

    cloud.scf.UpdateFunctionConfiguration = update  # type: ignore[method-assign]
    return seen


def test_rotation_updates_the_callback_first_and_never_refuses_a_valid_token(
    cloud: FakeCloud, run: DeployRunner
) -> None:
    old = run.made[0]
    seen = _watch(cloud)
    assert run("rotate-secret") == 0
    new = run.made[1]
    assert cloud.writes() == ["UpdateFunctionConfiguration"] * 3
    assert [name for name, _, _ in seen] == [CALLBACK, UPLOAD, RECONCILE]  # verifier first
    for _, accepted, minted in seen:
        assert minted in accepted and old in accepted
    # the upload function changed only once the callback function was Active again
    actions = cloud.actions()
    second_update = [i for i, a in enumerate(actions) if a == "UpdateFunctionConfiguration"][1]
    assert actions[second_update - 3 : second_update] == [
        "GetFunction",
        "GetFunction",
        "GetFunction",
    ]
    assert _env(cloud, CALLBACK)[SECRET] == _env(cloud, UPLOAD)[SECRET] == new
    assert _env(cloud, CALLBACK)[PREVIOUS] == _env(cloud, UPLOAD)[PREVIOUS] == old
    assert _env(cloud, RECONCILE)[SECRET] == new  # reconcile mints too (resubmissions)
    updated = cloud.params("UpdateFunctionConfiguration")
    assert {tuple(sorted(p)) for p in updated} == {("Environment", "FunctionName", "Namespace")}
    state = json.loads(run.state_file.read_text())
    assert state["previous_secrets"] == [old] and state["rotation_started_at"] == run.clock.now


def test_finish_is_refused_before_the_overlap_and_drops_the_previous_secret_after(
    cloud: FakeCloud, run: DeployRunner, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("rotate-secret") == 0
    assert "overlap 7 h 10 min" in run.output()
    run.clock.now += OVERLAP_S - 60
    cloud.reset_log()
    assert run("rotate-secret", "--finish") == 1
    assert "too early" in capsys.readouterr().err
    assert cloud.writes() == []
    assert run("status") == 0
    assert "rotation: started" in run.output()
    run.clock.now += 60
    assert run("rotate-secret", "--finish") == 0
    assert PREVIOUS not in _env(cloud, CALLBACK) and PREVIOUS not in _env(cloud, UPLOAD)
    assert _accepted(cloud) == {run.made[1]}
    assert json.loads(run.state_file.read_text())["previous_secrets"] == []
    cloud.reset_log()
    assert run("up") == 0 and cloud.writes() == []


def test_an_interrupted_rotation_resumes_without_a_new_secret(
    cloud: FakeCloud, run: DeployRunner
) -> None:
    original = cloud.scf.UpdateFunctionConfiguration
    failed: list[str] = []

    def fail_upload_once(params: dict[str, Any]) -> dict[str, Any]:
        if params["FunctionName"] == UPLOAD and not failed:
            failed.append(UPLOAD)
            raise FakeApiError("FailedOperation.UpdateFunctionConfiguration", "busy")
        return original(params)

    cloud.scf.UpdateFunctionConfiguration = fail_upload_once  # type: ignore[method-assign]
    assert run("rotate-secret") == 1
    assert _env(cloud, UPLOAD)[SECRET] == run.made[0]  # still minting with the old one
    assert run.made[1] in _accepted(cloud)
    assert run("rotate-secret") == 0
    assert "resuming" in run.output()
    assert len(run.made) == 2
    assert _env(cloud, UPLOAD)[SECRET] == run.made[1]


def test_up_keeps_a_rotation_in_progress_and_adopts_a_lost_secret(
    cloud: FakeCloud, run: DeployRunner
) -> None:
    assert run("rotate-secret") == 0
    cloud.reset_log()
    assert run("up") == 0 and cloud.writes() == []
    run.state_file.unlink()
    cloud.reset_log()
    assert run("up") == 0
    assert cloud.writes() == ["UpdateFunctionCode"] * 3  # which zip was uploaded was in the state
    state = json.loads(run.state_file.read_text())
    assert (state["callback_secret"], state["previous_secrets"]) == (run.made[1], [run.made[0]])


def test_no_secret_value_in_any_output_or_log_line(
    cloud: FakeCloud,
    run: DeployRunner,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    cloud.fail_next("UpdateFunctionConfiguration", "RequestLimitExceeded")
    for command in (["status"], ["rotate-secret"], ["status"], ["up"], ["plan"]):
        run(*command)
    run.clock.now += OVERLAP_S
    run("rotate-secret", "--finish")
    captured = capsys.readouterr()
    everything = "\n".join([run.output(), caplog.text, captured.out, captured.err])
    for value in [*run.made, SECRET_KEY]:
        assert value not in everything
    assert fingerprint(run.made[1]) in run.output()  # what is shown instead


def test_rotation_needs_a_deployment(
    tmp_path: Path, cloud: FakeCloud, capsys: pytest.CaptureFixture[str]
) -> None:
    runner = DeployRunner(tmp_path / "fresh")
    assert runner("rotate-secret", "--finish") == 1
    assert "no rotation in progress" in capsys.readouterr().err
    assert runner("rotate-secret") == 1
    assert f"function {CALLBACK} is not deployed: run `python -m deploy up`" in (
        capsys.readouterr().err
    )


def test_a_stale_state_file_never_overwrites_the_deployed_secrets(
    cloud: FakeCloud, run: DeployRunner, tmp_path: Path
) -> None:
    """Another operator rotated: their secret is what runs, so up and rotate start from it."""
    stale = json.loads(run.state_file.read_text())
    other = DeployRunner(tmp_path / "other-operator")
    other.state_file.parent.mkdir(parents=True)
    other.state_file.write_text(json.dumps(stale))
    other.state_file.chmod(0o600)
    assert run("rotate-secret") == 0
    cloud.reset_log()
    assert other("up") == 0
    assert cloud.writes() == [] and "instead of the state file's" in other.output()
    assert other("rotate-secret") == 0
    assert _env(cloud, CALLBACK)[PREVIOUS].split(",")[:2] == [run.made[1], run.made[0]]
