"""What one command run works with: the change set, target, serverless.yml, state, waits, zips.

``Deployment`` bundles the collaborators every step needs, so steps take one argument instead of
eight; ``Waits`` is the bounded polling policy with its injected clock and sleep; ``CodePackage``
is one built zip from ``make package``. Nothing here sends a request.
"""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from deploy.cloud.callback_secret import CALLBACK_SECRET_PREVIOUS, with_secrets
from deploy.cloud.changes import ChangeSet
from deploy.cloud.errors import SetupError
from deploy.cloud.manifest import FunctionSpec, Manifest
from deploy.cloud.state import DeployState
from deploy.cloud.target import DeployTarget
from shared.settings.functions import CALLBACK_SECRET, CALLBACK_URL

URL_PLACEHOLDER = "https://function-url.of.the.callback.function.known.after.up"
SECRET_PLACEHOLDER = "(generated on the first up)"  # noqa: S105 -- not a secret


@dataclass(frozen=True)
class Waits:
    """Bounded polling: every ``interval_s`` until ``timeout_s`` has passed on ``clock``."""

    timeout_s: float = 300.0
    interval_s: float = 2.0
    url_attempts: int = 10
    clock: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep


@dataclass(frozen=True)
class CodePackage:
    """build/<function>.zip: its bytes' SHA-256 and the base64 CreateFunction/UpdateFunctionCode
    take."""

    path: Path
    sha256: str
    zip_base64: str = field(repr=False)

    @property
    def short(self) -> str:
        return self.sha256[:12]


def load_package(build_dir: Path, key: str) -> CodePackage:
    path = build_dir / f"{key}.zip"
    if not path.is_file():
        raise SetupError(f"{path} does not exist: run `make package` first (or `make deploy`)")
    data = path.read_bytes()
    return CodePackage(path, hashlib.sha256(data).hexdigest(), base64.b64encode(data).decode())


@dataclass
class Deployment:
    """One run of a command against one target."""

    changes: ChangeSet
    target: DeployTarget
    manifest: Manifest
    state: DeployState
    environ: Mapping[str, str]
    build_dir: Path
    waits: Waits = field(default_factory=Waits)
    update_iam: bool = False
    enable_media_processing: bool = True
    packages: dict[str, CodePackage] = field(default_factory=dict)

    @property
    def report(self) -> Callable[[str], None]:
        return self.changes.report

    def package(self, key: str) -> CodePackage:
        if key not in self.packages:
            self.packages[key] = load_package(self.build_dir, key)
        return self.packages[key]

    def values(self, callback_url: str | None) -> dict[str, str]:
        """What ``${env:NAME}`` resolves to: env/.env, then DEPLOY_*, then the tool's own."""
        values = dict(self.environ)
        values.update(self.target.manifest_values())
        values[CALLBACK_SECRET] = self.state.callback_secret or SECRET_PLACEHOLDER
        values[CALLBACK_SECRET_PREVIOUS] = ",".join(self.state.previous_secrets)
        values[CALLBACK_URL] = callback_url or URL_PLACEHOLDER
        return values

    def spec(self, key: str, callback_url: str | None = None) -> FunctionSpec:
        return self.manifest.render(key, self.values(callback_url), self.target.region)

    def specs(self, callback_url: str | None = None) -> list[FunctionSpec]:
        return [self.spec(key, callback_url) for key in self.manifest.function_keys()]

    def environment(self, spec: FunctionSpec) -> dict[str, str]:
        """The function's variables as deployed: serverless.yml's plus the secret variables."""
        return with_secrets(
            spec.environment, self.state.callback_secret, self.state.previous_secrets
        )
