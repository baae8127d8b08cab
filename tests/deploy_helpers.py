"""Running ``python -m deploy`` in tests: a fake clock, small zips, a recorded prompt and output.

``DeployRunner`` calls ``deploy.cloud.cli.main`` with every collaborator injected (environment,
home folder, state file, build folder, clock and sleep, prompt, secret generator, output), so a
test drives the real command line against ``FakeCloud`` without sleeping or touching ``~``.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from deploy.cloud.cli import main
from deploy.cloud.deployment import Waits
from tests.deploy_fake_cloud import SECRET_ID, SECRET_KEY

FUNCTION_KEYS = ("reconcile_on_timer", "submit_on_upload", "tag_on_callback")
BUCKET = "media-uploads-1250000000"
ROLE = "media-tagger-scf"
CALLBACK = "cos-media-tagger-dev-tag-on-callback"
UPLOAD = "cos-media-tagger-dev-submit-on-upload"
RECONCILE = "cos-media-tagger-dev-reconcile-on-timer"
START = 1_796_000_000.0


class FakeClock:
    """Wall time that moves only when something sleeps (or a test advances it)."""

    def __init__(self, now: float = START) -> None:
        self.now = now
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def write_zips(build: Path, version: str = "v1") -> None:
    build.mkdir(parents=True, exist_ok=True)
    for key in FUNCTION_KEYS:
        with zipfile.ZipFile(build / f"{key}.zip", "w") as archive:
            archive.writestr("index.py", f"# {key} {version}\ndef main_handler(e, c):\n    pass\n")


def secret_values() -> Iterator[str]:
    for index in range(1, 100):
        yield f"generated-callback-secret-number-{index:02d}-abcdefghijk"


@dataclass
class DeployRunner:
    """Runs the CLI; keeps its output lines, the questions it asked and the secrets it made."""

    folder: Path
    clock: FakeClock = field(default_factory=FakeClock)
    lines: list[str] = field(default_factory=list)
    questions: list[str] = field(default_factory=list)
    answer: bool = False
    made: list[str] = field(default_factory=list)
    environ: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._secrets = secret_values()
        self.environ.update(
            {
                "TENCENTCLOUD_SECRET_ID": SECRET_ID,
                "TENCENTCLOUD_SECRET_KEY": SECRET_KEY,
                "DEPLOY_REGION": "ap-guangzhou",
                "DEPLOY_BUCKET": BUCKET,
                "DEPLOY_PREFIX": "",
                "DEPLOY_SUFFIX": "",
                "MEDIA_TAGGER_QUEUE_ID": "",  # deploy/env.example: empty = the default queue
                "DEPLOY_ROLE": ROLE,
            }
        )
        write_zips(self.build)

    @property
    def build(self) -> Path:
        return self.folder / "build"

    @property
    def state_file(self) -> Path:
        return self.folder / "config" / "state.json"

    def _confirm(self, question: str) -> bool:
        self.questions.append(question)
        return self.answer

    def _generate(self) -> str:
        value = next(self._secrets)
        self.made.append(value)
        return value

    def __call__(self, *argv: str) -> int:
        command, *rest = argv
        options = [
            "--env-file",
            str(self.folder / "absent.env"),
            "--state-file",
            str(self.state_file),
            "--build-dir",
            str(self.build),
        ]
        return main(
            [command, *options, *rest],
            environ=dict(self.environ),
            home=self.folder / "home",
            waits=Waits(timeout_s=300, interval_s=2, clock=self.clock.time, sleep=self.clock.sleep),
            confirm=self._confirm,
            report=self.lines.append,
            generate=self._generate,
        )

    def output(self) -> str:
        return "\n".join(self.lines)
