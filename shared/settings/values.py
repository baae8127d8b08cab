"""Parsing primitives for environment values: blank-is-unset, lists, bounded ints, choices, flags.

Every failure is a ``ConfigError`` naming the variable and the rule, never echoing the value (some
values are secrets). Pure: no ``os.environ``, no I/O, no logging. ``shared.settings.functions`` and
``shared.settings.reconcile`` build the settings of each function from these.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from shared.errors import ConfigError
from shared.time_window import parse_duration

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def raw_value(environ: Mapping[str, str], name: str) -> str | None:
    """The value, or None when unset or blank (blank counts as unset everywhere)."""
    value = environ.get(name)
    if value is None or not value.strip():
        return None
    return value


def comma_list(environ: Mapping[str, str], name: str) -> tuple[str, ...]:
    raw = raw_value(environ, name)
    if raw is None:
        return ()
    return tuple(item.strip() for item in raw.split(",") if item.strip())


def int_in(environ: Mapping[str, str], name: str, default: int, allowed: tuple[int, int]) -> int:
    raw = raw_value(environ, name)
    if raw is None:
        return default
    low, high = allowed
    if not re.fullmatch(r"[0-9]{1,9}", raw.strip()) or not low <= int(raw) <= high:
        raise ConfigError(name, f"must be a whole number from {low} to {high}")
    return int(raw)


def choice(environ: Mapping[str, str], name: str, default: str, choices: tuple[str, ...]) -> str:
    raw = raw_value(environ, name)
    if raw is None:
        return default
    value = raw.strip().upper()
    if value not in choices:
        raise ConfigError(name, f"must be one of {', '.join(choices)}")
    return value


def flag(environ: Mapping[str, str], name: str, default: bool) -> bool:
    raw = raw_value(environ, name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(name, "must be true or false (also 1/0, yes/no, on/off)")


def duration_seconds(environ: Mapping[str, str], name: str, default: float) -> float:
    raw = raw_value(environ, name)
    if raw is None:
        return default
    try:
        return parse_duration(raw)
    except ValueError as exc:
        raise ConfigError(name, "must be a duration like 30m, 2h or 1h30m") from exc
