"""Where to deploy: region, bucket, COS trigger filter, role and stage, from flags, env or .env.

The same ``DEPLOY_*`` names serverless.yml's ``${env:...}`` references use (deploy/env.example),
so one ``.env`` serves both routes. Precedence per value: command-line flag, then the process
environment, then the ``.env`` file; the region may also come from the tccli profile. This module
reads one file and mappings; it does no network I/O.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from deploy.cloud.errors import SetupError
from shared.errors import ConfigError
from shared.settings.functions import check_bucket_name, check_region

REGION_VARIABLE = "DEPLOY_REGION"
BUCKET_VARIABLE = "DEPLOY_BUCKET"
PREFIX_VARIABLE = "DEPLOY_PREFIX"
SUFFIX_VARIABLE = "DEPLOY_SUFFIX"
ROLE_VARIABLE = "DEPLOY_ROLE"
_ROLE_RE = re.compile(r"[A-Za-z0-9+=,.@_-]{1,128}")
_STAGE_RE = re.compile(r"[A-Za-z0-9-]{1,24}")
_DOTENV_LINE = re.compile(r"\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*")


@dataclass(frozen=True)
class DeployTarget:
    """One deployment: ``bucket`` is the full ``<name>-<appid>``; prefix/suffix filter the
    COS trigger (exact, case-sensitive; empty = none)."""

    app: str
    stage: str
    region: str
    bucket: str
    prefix: str
    suffix: str
    role: str

    @property
    def appid(self) -> str:
        return self.bucket.rsplit("-", 1)[1]

    def manifest_values(self) -> dict[str, str]:
        """The ``DEPLOY_*`` values serverless.yml's ``${env:...}`` references resolve to."""
        return {
            REGION_VARIABLE: self.region,
            BUCKET_VARIABLE: self.bucket,
            PREFIX_VARIABLE: self.prefix,
            SUFFIX_VARIABLE: self.suffix,
            ROLE_VARIABLE: self.role,
        }


def read_dotenv(path: Path) -> dict[str, str]:
    """``NAME=value`` lines of a .env file (``#`` comments, optional quotes, ``export``)."""
    if not path.is_file():
        return {}
    values: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = _DOTENV_LINE.fullmatch(line)
        if match is None or line.lstrip().startswith("#"):
            continue
        name, value = match.groups()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        values[name] = value
    return values


def _pick(flag: str | None, environ: Mapping[str, str], name: str) -> str | None:
    if flag is not None:
        return flag
    value = environ.get(name)
    return value.strip() if value is not None else None


def _checked(check: Callable[[str, str], str], value: str, variable: str) -> str:
    try:
        return check(value, variable)
    except ConfigError as exc:
        raise SetupError(f"{exc} (flag or environment/.env)") from exc


def load_target(
    *,
    app: str,
    stage: str,
    environ: Mapping[str, str],
    region: str | None = None,
    bucket: str | None = None,
    prefix: str | None = None,
    suffix: str | None = None,
    role: str | None = None,
    profile_region: str | None = None,
) -> DeployTarget:
    """The target from flags (the keyword arguments), then ``environ`` (env merged over .env)."""
    chosen_region = _pick(region, environ, REGION_VARIABLE) or profile_region
    chosen_bucket = _pick(bucket, environ, BUCKET_VARIABLE)
    if not chosen_region:
        raise SetupError(f"no region: pass --region or set {REGION_VARIABLE}")
    if not chosen_bucket:
        raise SetupError(f"no bucket: pass --bucket or set {BUCKET_VARIABLE} (<name>-<appid>)")
    chosen_role = _pick(role, environ, ROLE_VARIABLE) or f"{app}-{stage}-scf"
    if not _ROLE_RE.fullmatch(chosen_role):
        raise SetupError(f"{ROLE_VARIABLE}: a CAM role name is 1-128 of A-Z a-z 0-9 +=,.@_-")
    if not _STAGE_RE.fullmatch(stage):
        raise SetupError("--stage: 1-24 letters, digits or '-'")
    return DeployTarget(
        app=app,
        stage=stage,
        region=_checked(check_region, chosen_region, REGION_VARIABLE),
        bucket=_checked(check_bucket_name, chosen_bucket, BUCKET_VARIABLE),
        prefix=_pick(prefix, environ, PREFIX_VARIABLE) or "",
        suffix=_pick(suffix, environ, SUFFIX_VARIABLE) or "",
        role=chosen_role,
    )
