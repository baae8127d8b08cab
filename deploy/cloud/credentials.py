"""Who deploys: API keys from the environment or a tccli profile, and the region a profile names.

Accepted, in this order (the first source that has a SecretId wins; a SecretId without its
SecretKey is an error, never a silent fall-through):

1. ``--profile NAME``: ``~/.tccli/NAME.credential`` (JSON ``secretId``, ``secretKey``, ``token``).
2. The environment (or the ``.env`` file), one naming family per source, never mixed:
   ``TENCENTCLOUD_SECRET_ID`` / ``TENCENTCLOUD_SECRET_KEY`` / ``TENCENTCLOUD_SESSION_TOKEN`` (or
   ``TENCENTCLOUD_TOKEN``): the names of the Tencent Cloud SDK and tccli;
   ``TENCENTCLOUD_SECRETID`` / ``TENCENTCLOUD_SECRETKEY`` / ``TENCENTCLOUD_SESSIONTOKEN``: the names
   SCF injects and this project's functions read (shared/tencent/credentials.py);
   ``TENCENT_SECRET_ID`` / ``TENCENT_SECRET_KEY`` / ``TENCENT_TOKEN``: Serverless Cloud
   Framework's names (deploy/env.example).
3. The tccli profile ``$TCCLI_PROFILE``, else ``default``, when its file exists.

This module reads files and a mapping; it never prints, logs or puts a key into a message.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deploy.cloud.errors import SetupError

# (secret id, secret key, session token names...) per naming family; names, not secrets.
ENVIRONMENT_FAMILIES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (
        "TENCENTCLOUD_SECRET_ID",
        "TENCENTCLOUD_SECRET_KEY",
        ("TENCENTCLOUD_SESSION_TOKEN", "TENCENTCLOUD_TOKEN"),
    ),
    ("TENCENTCLOUD_SECRETID", "TENCENTCLOUD_SECRETKEY", ("TENCENTCLOUD_SESSIONTOKEN",)),
    ("TENCENT_SECRET_ID", "TENCENT_SECRET_KEY", ("TENCENT_TOKEN",)),
)
PROFILE_VARIABLE = "TCCLI_PROFILE"
DEFAULT_PROFILE = "default"


@dataclass(frozen=True)
class DeployCredentials:
    """API keys of the person or CI job deploying. ``source`` says where they came from."""

    secret_id: str
    secret_key: str = field(repr=False)
    token: str | None = field(repr=False, default=None)
    source: str = ""
    profile_region: str | None = None


def tccli_folder(home: Path) -> Path:
    return home / ".tccli"


def _clean(value: object) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SetupError(f"cannot read tccli file {path}: {type(exc).__name__}") from exc
    if not isinstance(data, dict):
        raise SetupError(f"tccli file {path} is not a JSON object")
    return data


def _profile_region(folder: Path, profile: str) -> str | None:
    path = folder / f"{profile}.configure"
    if not path.is_file():
        return None
    data = _read_json(path)
    system = data.get("_sys_param")
    nested = system.get("region") if isinstance(system, dict) else None
    return _clean(nested) or _clean(data.get("region"))  # old files keep it at the top


def from_profile(home: Path, profile: str) -> DeployCredentials:
    """The keys of tccli profile ``profile``; SetupError when the file or a key is missing."""
    folder = tccli_folder(home)
    path = folder / f"{profile}.credential"
    if not path.is_file():
        raise SetupError(f"tccli profile {profile!r} not found ({path} does not exist)")
    data = _read_json(path)
    secret_id, secret_key = _clean(data.get("secretId")), _clean(data.get("secretKey"))
    if not secret_id or not secret_key:
        raise SetupError(f"tccli profile {profile!r} ({path}) lacks secretId or secretKey")
    return DeployCredentials(
        secret_id,
        secret_key,
        _clean(data.get("token")),
        source=f"tccli profile {profile!r}",
        profile_region=_profile_region(folder, profile),
    )


def from_environment(environ: Mapping[str, str]) -> DeployCredentials | None:
    """Keys from the first naming family whose SecretId is set; None when no family is."""
    for id_name, key_name, token_names in ENVIRONMENT_FAMILIES:
        secret_id = _clean(environ.get(id_name))
        if secret_id is None:
            continue
        secret_key = _clean(environ.get(key_name))
        if secret_key is None:
            raise SetupError(f"{id_name} is set but {key_name} is not")
        tokens = (_clean(environ.get(name)) for name in token_names)
        token = next((value for value in tokens if value), None)
        return DeployCredentials(secret_id, secret_key, token, source=f"environment {id_name}")
    return None


def load_credentials(
    environ: Mapping[str, str], home: Path, profile: str | None = None
) -> DeployCredentials:
    """The deploying identity, by the precedence in the module docstring."""
    if profile:
        return from_profile(home, profile)
    found = from_environment(environ)
    if found is not None:
        return found
    fallback = _clean(environ.get(PROFILE_VARIABLE)) or DEFAULT_PROFILE
    if (tccli_folder(home) / f"{fallback}.credential").is_file():
        return from_profile(home, fallback)
    names = ", ".join(f"{id_name}/{key_name}" for id_name, key_name, _ in ENVIRONMENT_FAMILIES)
    raise SetupError(
        f"no deploy credentials: set {names} (environment or .env), or pass --profile NAME "
        f"for ~/.tccli/NAME.credential (tccli configure), or set {PROFILE_VARIABLE}"
    )
