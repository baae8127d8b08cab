"""Load the wire-body fixtures (tests/fixtures/*.xml|json) and sample events used by codec tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent / "fixtures"
EVENTS = Path(__file__).parent / "events"

ATTACK_FIXTURES = (
    "attack_xxe.xml",
    "attack_billion_laughs.xml",
    "attack_external_dtd.xml",
    "attack_parameter_entity.xml",
    "attack_doctype_only.xml",
    "attack_internal_entity.xml",
)


def load_fixture(name: str) -> bytes:
    """A body exactly as it would arrive on the wire."""
    return (FIXTURES / name).read_bytes()


def load_event(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / name).read_text(encoding="utf-8"))
    return event
