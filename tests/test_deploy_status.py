"""``python -m deploy status``: read-only, and every disagreement between the pieces is a DIFF line
with exit status 3 (callback URL, secret fingerprints, configuration, prefixes, missing parts)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.deploy_fake_cloud import FakeCloud, served_cloud
from tests.deploy_helpers import CALLBACK, UPLOAD, DeployRunner

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def cloud() -> Iterator[FakeCloud]:
    yield from served_cloud()


@pytest.fixture
def run(tmp_path: Path, cloud: FakeCloud) -> DeployRunner:
    runner = DeployRunner(tmp_path)
    assert runner("up") == 0
    cloud.reset_log()
    return runner


def _diffs(run: DeployRunner) -> list[str]:
    return [line.strip() for line in run.lines if line.strip().startswith("DIFF")]


def test_status_of_nothing_deployed(tmp_path: Path, cloud: FakeCloud) -> None:
    runner = DeployRunner(tmp_path / "fresh")
    assert runner("status") == 3
    assert f"DIFF function {CALLBACK} is deployed" in _diffs(runner)
    assert cloud.writes() == []


def test_a_wrong_url_and_a_different_secret_are_reported(
    cloud: FakeCloud, run: DeployRunner
) -> None:
    environment = cloud.scf.functions[UPLOAD].config["Environment"]
    environment["MEDIA_TAGGER_CALLBACK_URL"] = "https://old.example.com"
    environment["MEDIA_TAGGER_CALLBACK_SECRET"] = "x" * 43
    assert run("status") == 3
    diffs = _diffs(run)
    assert f"DIFF {UPLOAD} MEDIA_TAGGER_CALLBACK_URL is the function URL" in diffs
    assert any(line.startswith("DIFF callback secret:") for line in diffs)
    changed = "environment: changed MEDIA_TAGGER_CALLBACK_SECRET, MEDIA_TAGGER_CALLBACK_URL"
    assert any(changed in line for line in diffs)
    assert "x" * 43 not in run.output()  # fingerprints only
    assert cloud.writes() == []


def test_include_prefixes_outside_the_trigger_prefix_are_reported(
    cloud: FakeCloud, tmp_path: Path
) -> None:
    manifest = (ROOT / "serverless.yml").read_text(encoding="utf-8")
    edited = tmp_path / "serverless.yml"
    edited.write_text(manifest.replace("# MEDIA_TAGGER_INCLUDE_PREFIXES: videos/",
                                       "MEDIA_TAGGER_INCLUDE_PREFIXES: audio/"))  # fmt: skip
    runner = DeployRunner(tmp_path / "run")
    runner.environ["DEPLOY_PREFIX"] = "videos/"
    assert runner("up", "--manifest", str(edited)) == 0
    assert runner("status", "--manifest", str(edited)) == 3
    assert _diffs(runner) == [
        "DIFF COS trigger prefix 'videos/', MEDIA_TAGGER_INCLUDE_PREFIXES audio/"
    ]
