"""Durations and instants for the reconcile window, and CI's time text.

``parse_duration("1h30m")`` -> 5400.0 seconds (units s, m, h, d; no sign, no fractions).
``parse_instant(text, now)``: a duration means that long before ``now`` ("24h"), "now" is ``now``,
anything else must be an ISO 8601 time WITH an offset (2024-11-25T10:00:00+08:00, ...Z, +0800).
``ci_time`` formats CI's startCreationTime/endCreationTime (+0800, as CI prints its own times);
``parse_ci_time`` reads a job's CreationTime. Pure: no clock, no I/O; ValueError on bad input.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

CI_TIMEZONE = timezone(timedelta(hours=8))
CI_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S%z"
MAX_DURATION_S = 400 * 86400
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION = re.compile(r"(?:[0-9]{1,6}[smhd])+")
_PART = re.compile(r"([0-9]{1,6})([smhd])")
_INSTANT_FORMATS = ("%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M%z", "%Y-%m-%d %H:%M:%S%z")


def parse_duration(text: str) -> float:
    """Seconds in '90s', '30m', '24h', '7d' or a sum like '1h30m'; ValueError otherwise."""
    value = text.strip().lower()
    if not _DURATION.fullmatch(value):
        raise ValueError(f"{text!r} is not a duration like 30m, 24h, 7d or 1h30m")
    seconds = sum(int(number) * _UNITS[unit] for number, unit in _PART.findall(value))
    if seconds > MAX_DURATION_S:
        raise ValueError(f"{text!r} is longer than {MAX_DURATION_S // 86400} days")
    return float(seconds)


def parse_instant(text: str, now: float) -> float:
    """Epoch seconds for a duration ago, 'now', or an ISO 8601 time with an offset."""
    value = text.strip()
    if value.lower() == "now":
        return now
    if _DURATION.fullmatch(value.lower()):
        return now - parse_duration(value)
    for pattern in _INSTANT_FORMATS:
        try:
            return datetime.strptime(value, pattern).timestamp()
        except ValueError:
            continue
    raise ValueError(
        f"{text!r} is neither a duration (24h) nor a time with an offset "
        "(2024-11-25T10:00:00+08:00 or ...Z)"
    )


def ci_time(epoch: float) -> str:
    """``2024-11-25T10:00:00+0800``: whole seconds, CI's own offset."""
    return datetime.fromtimestamp(int(epoch), CI_TIMEZONE).strftime(CI_TIME_FORMAT)


def parse_ci_time(text: str | None) -> float | None:
    """A job's CreationTime as epoch seconds; None when absent or unreadable."""
    if not text:
        return None
    try:
        return datetime.strptime(text.strip(), CI_TIME_FORMAT).timestamp()
    except ValueError:
        return None


def iso_second(text: str | None) -> int | None:
    """GET Bucket's LastModified (``2019-05-24T10:56:40.000Z``) as epoch seconds; None when
    absent or unreadable (the caller then cannot use it)."""
    if not text:
        return None
    value = text.strip()
    value = value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return int(parsed.timestamp()) if parsed.tzinfo is not None else None
