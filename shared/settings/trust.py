"""What the callback trusts, parsed from the environment: the secrets that verify callback tokens
(the current one mints and verifies; previous ones verify only, during a rotation) and the regions
it acts in.

Variable names are passed in by ``shared.settings.functions`` (where every name is defined once).
A bad value is a ``ConfigError`` naming the variable and the rule, never echoing the value. Pure:
no ``os.environ``, no I/O, no logging.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from shared.errors import ConfigError
from shared.settings.values import comma_list, raw_value

MIN_SECRET_LENGTH = 32
# What the deploy CLI may write for an unset ${env:NAME} (serverless.yml's header).
UNSET_PLACEHOLDERS = frozenset({"undefined", "null", "none"})
UNSET_PROBLEM = "reads like an unset ${env:...} reference: set it in .env (empty means none)"
# Long COS region names: ap-guangzhou, ap-shanghai-fsi, na-siliconvalley, ap-beijing-1 ...
_REGION_RE = re.compile(r"[a-z]{2,4}(?:-[a-z0-9]{1,20}){1,3}")


def check_secret(raw: str, variable: str) -> str:
    """``raw`` when it is usable as a callback secret: 32+ characters, no surrounding space."""
    if raw != raw.strip():
        raise ConfigError(variable, "has leading or trailing whitespace")
    if len(raw) < MIN_SECRET_LENGTH:
        raise ConfigError(variable, f"must be at least {MIN_SECRET_LENGTH} characters")
    return raw


def current_secret(environ: Mapping[str, str], variable: str) -> str:
    raw = raw_value(environ, variable)
    if raw is None:
        raise ConfigError(variable, "missing (set a random string of 32+ characters)")
    return check_secret(raw, variable)


def previous_secrets(environ: Mapping[str, str], variable: str) -> tuple[str, ...]:
    """The comma list of earlier secrets, newest first; each validated like the current one.

    Blank or unset: none. A secret that contains a comma cannot be listed (it would split);
    ``secrets.token_urlsafe`` never makes one.
    """
    raw = raw_value(environ, variable)
    if raw is None:
        return ()
    if raw.strip().lower() in UNSET_PLACEHOLDERS:
        raise ConfigError(variable, UNSET_PROBLEM)
    items = [item.strip() for item in raw.split(",")]
    if any(not item for item in items):
        raise ConfigError(variable, "has an empty item (a comma list of secrets, newest first)")
    return tuple(check_secret(item, variable) for item in items)


def _region(value: str, variable: str) -> str:
    if not _REGION_RE.fullmatch(value):
        raise ConfigError(variable, "must be COS region names like ap-guangzhou")
    return value


def allowed_regions(
    environ: Mapping[str, str], variable: str, deployed_variable: str
) -> frozenset[str]:
    """``variable``'s comma list when set; else the region SCF says the function runs in
    (``deployed_variable``); else empty, meaning any region (local runs without SCF only)."""
    listed = comma_list(environ, variable)
    if listed:
        return frozenset(_region(item, variable) for item in listed)
    deployed = raw_value(environ, deployed_variable)
    if deployed is None:
        return frozenset()
    return frozenset({_region(deployed.strip(), deployed_variable)})
