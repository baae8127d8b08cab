"""The callback secret: generated once, fingerprinted for display, rotated with an overlap.

MEDIA_TAGGER_CALLBACK_SECRET is the current secret (the upload function mints tokens with it, the
callback function verifies with it); MEDIA_TAGGER_CALLBACK_SECRET_PREVIOUS (issue 19: a comma list,
newest first, verify-only) carries the secrets of a rotation in progress. Both are set on every
function whose serverless.yml environment has MEDIA_TAGGER_CALLBACK_SECRET.

Overlap before ``rotate-secret --finish`` may drop the previous secret: the longest time a job
minted under the old secret can take to call back (``MAX_JOB_TIME_S``, 6 h: CI documents no job
time limit; a MediaInfo job reads only the container header and takes seconds, so 6 h covers a
deep queue backlog, and it equals SCF's longest async-event age) plus the reconcile window
(MEDIA_TAGGER_RECONCILE_WINDOW from serverless.yml, 70 min by default): 7 h 10 min as shipped.
Only fingerprints (first 8 hex digits of SHA-256) ever leave this module.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timezone

from deploy.cloud.errors import SetupError
from deploy.cloud.manifest import FunctionSpec
from shared.settings.functions import CALLBACK_SECRET, RECONCILE_WINDOW
from shared.settings.reconcile import DEFAULT_RECONCILE_WINDOW_S
from shared.settings.trust import MIN_SECRET_LENGTH
from shared.time_window import parse_duration

# Agreed with the functions' side (issue 19); shared/settings/functions.py defines it there.
CALLBACK_SECRET_PREVIOUS = "MEDIA_TAGGER_CALLBACK_SECRET_PREVIOUS"  # noqa: S105 -- a name
MAX_JOB_TIME_S = 6 * 3600
SECRET_BYTES = 32  # token_urlsafe(32): 43 characters, above MIN_SECRET_LENGTH, no commas


def new_secret(token: Callable[[int], str] = secrets.token_urlsafe) -> str:
    value = token(SECRET_BYTES)
    if len(value) < MIN_SECRET_LENGTH or "," in value or value != value.strip():
        raise ValueError("generated callback secret does not meet the functions' rules")
    return value


def fingerprint(secret: str | None) -> str:
    """First 8 hex digits of SHA-256: safe to print, enough to compare two deployments."""
    if not secret:
        return "(none)"
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()[:8]


def fingerprints(values: str | None) -> str:
    """Fingerprints of a comma list (MEDIA_TAGGER_CALLBACK_SECRET_PREVIOUS), in order."""
    items = [item.strip() for item in (values or "").split(",") if item.strip()]
    return ",".join(fingerprint(item) for item in items) or "(none)"


def usable_secret(value: str | None) -> bool:
    return bool(value) and len(value or "") >= MIN_SECRET_LENGTH and value == (value or "").strip()


def with_secrets(
    environment: Mapping[str, str], current: str | None, previous: Sequence[str]
) -> dict[str, str]:
    """``environment`` with the secret variables set, on a function that carries the secret."""
    if CALLBACK_SECRET not in environment:
        return dict(environment)
    updated = dict(environment)
    if current:
        updated[CALLBACK_SECRET] = current
    if previous:
        updated[CALLBACK_SECRET_PREVIOUS] = ",".join(previous)
    else:
        updated.pop(CALLBACK_SECRET_PREVIOUS, None)
    return dict(sorted(updated.items()))


def reconcile_window_s(specs: Sequence[FunctionSpec]) -> float:
    """The reconcile window serverless.yml configures (the longest, if several functions set it)."""
    windows = [float(DEFAULT_RECONCILE_WINDOW_S)]
    for spec in specs:
        if RECONCILE_WINDOW in spec.environment:
            try:
                windows.append(parse_duration(spec.environment[RECONCILE_WINDOW]))
            except ValueError as exc:
                raise SetupError(f"serverless.yml: {spec.key} {RECONCILE_WINDOW}: {exc}") from exc
    return max(windows) if len(windows) == 1 else max(windows[1:])


def overlap_s(window_s: float) -> float:
    """How long the previous secret stays valid after a rotation started."""
    return MAX_JOB_TIME_S + window_s


def describe_duration(seconds: float) -> str:
    hours, rest = divmod(int(seconds), 3600)
    minutes = rest // 60
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


def utc_text(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
