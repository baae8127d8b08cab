"""The deploy state file: the callback secret(s), the rotation clock and what ``up`` created.

Kept OUTSIDE the repository, by default ``$XDG_CONFIG_HOME/cos-media-tagger/deploy/
<app>-<stage>-<region>-<bucket>.json`` (``~/.config/...``), folder 0700, file 0600, written
atomically. Why not an ignored folder in the work tree: ``git clean -fdx``, a fresh clone or a
copied checkout would lose or spread the secret, and a forced ``git add`` would commit it; a
per-user config folder is where tccli (``~/.tccli``) keeps its keys too. A state file readable by
others is refused (as ssh refuses such keys). Losing the file is recoverable: ``up`` adopts the
secret the deployed functions carry. This module never prints or logs a secret; ``repr`` of the
state leaves them out.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deploy.cloud.errors import SetupError

STATE_VERSION = 1
FILE_MODE = 0o600
FOLDER_MODE = 0o700
CONFIG_HOME_VARIABLE = "XDG_CONFIG_HOME"


def default_state_path(
    app: str, stage: str, region: str, bucket: str, *, environ: Mapping[str, str], home: Path
) -> Path:
    base = Path(environ.get(CONFIG_HOME_VARIABLE) or home / ".config")
    return base / "cos-media-tagger" / "deploy" / f"{app}-{stage}-{region}-{bucket}.json"


@dataclass
class FunctionRecord:
    """What the tool knows about one function: did it create it, which code did it upload."""

    created: bool = False
    code_sha256: str | None = None  # sha256 of the zip this tool uploaded last
    platform_code_sha256: str | None = None  # GetFunctionAddress's CodeSha256 right after it


@dataclass
class DeployState:
    """Mutable while a command runs; ``save`` after every step that created or changed state."""

    path: Path
    callback_secret: str | None = field(default=None, repr=False)
    previous_secrets: list[str] = field(default_factory=list, repr=False)
    rotation_started_at: float | None = None
    created: set[str] = field(default_factory=set)
    functions: dict[str, FunctionRecord] = field(default_factory=dict)
    media_processing_enabled: bool = False

    def function(self, name: str) -> FunctionRecord:
        return self.functions.setdefault(name, FunctionRecord())

    def to_json(self) -> dict[str, Any]:
        return {
            "version": STATE_VERSION,
            "callback_secret": self.callback_secret,
            "previous_secrets": list(self.previous_secrets),
            "rotation_started_at": self.rotation_started_at,
            "created": sorted(self.created),
            "functions": {name: vars(record) for name, record in sorted(self.functions.items())},
            "media_processing_enabled": self.media_processing_enabled,
        }

    def save(self) -> None:
        """Write atomically with mode 0600 (the folder 0700)."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=FOLDER_MODE)
        temporary = self.path.with_name(self.path.name + ".tmp")
        temporary.unlink(missing_ok=True)
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump(self.to_json(), handle, indent=2, sort_keys=True)
            handle.write("\n")
        temporary.replace(self.path)

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)


def _check_private(path: Path) -> None:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise SetupError(
            f"state file {path} is readable by others (mode {mode:o}); it holds the callback "
            f"secret: run `chmod 600 {path}` and check who has read it"
        )


def load_state(path: Path) -> DeployState:
    """The state at ``path``, or an empty one when the file does not exist yet."""
    if not path.exists():
        return DeployState(path)
    _check_private(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise SetupError(f"state file {path} is not valid JSON") from exc
    if not isinstance(data, dict) or data.get("version") != STATE_VERSION:
        raise SetupError(f"state file {path} has an unknown format (version {STATE_VERSION})")
    functions = {
        str(name): FunctionRecord(**record) for name, record in data.get("functions", {}).items()
    }
    return DeployState(
        path=path,
        callback_secret=data.get("callback_secret"),
        previous_secrets=list(data.get("previous_secrets", [])),
        rotation_started_at=data.get("rotation_started_at"),
        created=set(data.get("created", [])),
        functions=functions,
        media_processing_enabled=bool(data.get("media_processing_enabled", False)),
    )
