"""The deploy tool with result documents: off as shipped (no PutObject asked), on once the two
commented serverless.yml lines are uncommented, and refused when the functions disagree."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.deploy_fake_cloud import FakeCloud, served_cloud
from tests.deploy_helpers import CALLBACK, RECONCILE, UPLOAD, DeployRunner

ROOT = Path(__file__).resolve().parent.parent
VARIABLE = "MEDIA_TAGGER_RESULT_DOCUMENT"
COMMENTED = f"# {VARIABLE}: ${{env:{VARIABLE}}}"
LOCATION = "cos://media-uploads-1250000000/media-info/"


@pytest.fixture
def cloud() -> Iterator[FakeCloud]:
    yield from served_cloud()


@pytest.fixture
def run(tmp_path: Path) -> DeployRunner:
    return DeployRunner(tmp_path)


def _batch_records(statement: dict[str, Any]) -> bool:
    """The batch drain's own grant (its records under .media-tagger/batches/, issue 14)."""
    return all(str(r).endswith("/.media-tagger/batches/*") for r in statement["resource"])


def _actions(cloud: FakeCloud) -> set[str]:
    found = set()
    for policy in cloud.cam.policies.values():
        for statement in json.loads(policy["PolicyDocument"])["statement"]:
            if not _batch_records(statement):
                found.update(statement["action"])
    return found


def _switched_on(tmp_path: Path, lines: int = 2) -> Path:
    manifest = (ROOT / "serverless.yml").read_text(encoding="utf-8")
    assert manifest.count(COMMENTED) == 2  # the shared settings and reconcile_on_timer
    edited = tmp_path / "serverless.yml"
    edited.write_text(manifest.replace(COMMENTED, COMMENTED[2:], lines), encoding="utf-8")
    return edited


def test_as_shipped_nothing_asks_for_put_object(cloud: FakeCloud, run: DeployRunner) -> None:
    assert run("up") == 0
    assert "cos:PutObject" not in _actions(cloud)
    for name in (CALLBACK, UPLOAD, RECONCILE):
        assert VARIABLE not in dict(cloud.scf.functions[name].config["Environment"])
    example = (ROOT / "deploy" / "env.example").read_text(encoding="utf-8")
    assert f"# {VARIABLE}=cos://" in example  # documented there, off by default


def test_switched_on_every_function_gets_it_and_the_role_may_write_there_only(
    cloud: FakeCloud, run: DeployRunner, tmp_path: Path
) -> None:
    run.environ[VARIABLE] = LOCATION
    assert run("up", "--manifest", str(_switched_on(tmp_path))) == 0
    for name in (CALLBACK, UPLOAD, RECONCILE):
        assert dict(cloud.scf.functions[name].config["Environment"])[VARIABLE] == LOCATION
    statements = [
        statement
        for policy in cloud.cam.policies.values()
        for statement in json.loads(policy["PolicyDocument"])["statement"]
        if "cos:PutObject" in statement["action"] and not _batch_records(statement)
    ]
    assert statements == [
        {
            "effect": "allow",
            "action": ["cos:HeadObject", "cos:PutObject"],
            "resource": [
                "qcs::cos:ap-guangzhou:uid/1250000000:media-uploads-1250000000/media-info/*"
            ],
        }
    ]


def test_functions_that_disagree_are_refused_before_any_write(
    cloud: FakeCloud, run: DeployRunner, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run.environ[VARIABLE] = LOCATION
    assert run("up", "--manifest", str(_switched_on(tmp_path, lines=1))) != 0
    assert "every function needs the same MEDIA_TAGGER_RESULT_DOCUMENT" in capsys.readouterr().err
    assert cloud.writes() == []
