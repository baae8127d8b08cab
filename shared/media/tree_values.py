"""Leaves of a parsed tree (XML-derived strings, or JSON numbers) -> typed values, leniently.

Anything unparsable, non-finite, negative where it cannot be, or absurdly long becomes ``None``;
nothing here raises. Plain ASCII decimals only: ``float()`` alone would also take "nan",
"infinity", "1_000" and Arabic digits. Pure: no I/O.
"""

from __future__ import annotations

import math
import re
from typing import Any

_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_DIGITS = re.compile(r"[0-9]+")
_MAX_NUMBER_CHARS = 64  # no real value is longer; also keeps int() far from its digit limit


def optional_text(value: Any) -> str | None:
    """A leaf as text, unchanged; '' and non-leaves -> None; a JSON number -> its decimal text."""
    if isinstance(value, str):
        return value or None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    try:
        return str(value)
    except ValueError:  # an int beyond the interpreter's digit limit
        return None


def label(value: Any) -> str | None:
    text = optional_text(value)
    return text.strip() or None if text is not None else None


def number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        try:
            result = float(value)
        except OverflowError:
            return None
    elif isinstance(value, str):
        text = value.strip()
        if len(text) > _MAX_NUMBER_CHARS or not _DECIMAL.fullmatch(text):
            return None
        result = float(text)
    else:
        return None
    return result if math.isfinite(result) else None


def signed_float(value: Any) -> float | None:
    """Start times and rotations may be negative (ffprobe reports e.g. -0.021 or -90)."""
    return number(value)


def amount(value: Any) -> float | None:
    """Durations, bitrates, frame rates: finite and not negative."""
    result = number(value)
    return result if result is not None and result >= 0 else None


def count(value: Any) -> int | None:
    """Widths, indexes, sizes, levels ...: whole and not negative ("1080", 1080, "1080.0")."""
    if isinstance(value, str) and _DIGITS.fullmatch(value.strip()):
        text = value.strip()
        return int(text) if len(text) <= _MAX_NUMBER_CHARS else None
    result = amount(value)
    return int(result) if result is not None and result.is_integer() else None


def rate(value: Any) -> float | None:
    """Frame rate as a decimal ("29.970030") or a rational ("30000/1001"); x/0 -> None."""
    if isinstance(value, str) and "/" in value:
        numerator, _, denominator = value.partition("/")
        top, bottom = amount(numerator), amount(denominator)
        if top is None or not bottom:
            return None
        return amount(top / bottom)
    return amount(value)
