"""The gate for tools the suite needs but cannot install itself: ffprobe and the SCF Pythons.

``MEDIA_TAGGER_REQUIRE_TOOLS`` names what must be present, as a comma list of ``ffprobe`` and
``runtimes`` (or ``all``); ``CI`` set to anything means ``all``. A required tool that is missing
fails the run; one that is not required skips the tests that need it with the reason, and
``tests/conftest.py`` lists every runtime not run in the terminal summary. ``make test`` sets
``ffprobe`` (it installed ffmpeg first); CI requires everything.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

import pytest

from deploy.runtime import MissingInterpreterError, dotted, find_interpreter

REQUIRE_TOOLS = "MEDIA_TAGGER_REQUIRE_TOOLS"
TOOLS = frozenset({"ffprobe", "runtimes"})
BOOTSTRAP_RECORD = Path(__file__).resolve().parent.parent / "build" / "runtimes.json"
# "Python 3.9" -> why it is missing; filled while the tests run, printed by the summary hook.
MISSING_RUNTIMES: dict[str, str] = {}


def required_tools(environ: Mapping[str, str]) -> frozenset[str]:
    """The tools that must be present; pytest.UsageError for a name that is not a tool."""
    names = {name.strip() for name in environ.get(REQUIRE_TOOLS, "").split(",") if name.strip()}
    if environ.get("CI") or "all" in names:
        return TOOLS
    unknown = names - TOOLS - {"0", "none"}
    if unknown:
        raise pytest.UsageError(
            f"{REQUIRE_TOOLS}: unknown {sorted(unknown)}; use a comma list of "
            f"{sorted(TOOLS)}, or all"
        )
    return frozenset(names & TOOLS)


def bootstrap_reason(version: str, record: Path = BOOTSTRAP_RECORD) -> str | None:
    """What ``make pythons`` said when it tried to install ``version``, if it did."""
    try:
        outcome = json.loads(record.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    entry = outcome.get(version) if isinstance(outcome, dict) else None
    return str(entry["reason"]) if isinstance(entry, dict) and "reason" in entry else None


def require_python(version: tuple[int, int]) -> str:
    """A local interpreter of ``version``; else fail (required) or skip, with the reason."""
    try:
        return find_interpreter(version)
    except MissingInterpreterError as exc:
        name = f"Python {dotted(version)}"
        tried = bootstrap_reason(dotted(version))
        reason = "not installed" + (f"; make pythons tried: {tried}" if tried else "")
        MISSING_RUNTIMES[name] = reason
        if "runtimes" in required_tools(os.environ):
            pytest.fail(f"{name} is required here ({REQUIRE_TOOLS} / CI): {exc}", pytrace=False)
        pytest.skip(f"{name} {reason} (make pythons installs it where it can)")
