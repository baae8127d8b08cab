"""SECURITY.md names, for every threat, the tests that prove its defence: they must all exist.

`make test` runs them; this test fails when SECURITY.md cites a test function or corpus case that
was renamed or removed, and when a threat of issue 6 has no section.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = (ROOT / "SECURITY.md").read_text(encoding="utf-8")
THREATS = (
    "Forged callbacks", "Replayed callbacks", "callback URL used for another object",
    "Tag injection through media metadata", "XML and JSON attacks",
    "Oversized or deeply nested bodies", "Secrets leaking into logs",
    "Cost amplification by retries and duplicate events",
    "Stale or out-of-order results written onto objects", "Over-broad role permissions",
    "Forged hand-on events",
)  # fmt: skip


def test_every_cited_test_function_exists() -> None:
    cited = re.findall(r"`(tests/[\w/]+\.py)::(\w+)", DOC)
    assert len(cited) > 40
    for path, name in cited:
        source = (ROOT / path).read_text(encoding="utf-8")
        assert re.search(rf"^def {name}\(", source, re.M), f"{path}::{name} is gone"


def test_every_cited_corpus_case_exists() -> None:
    cases = re.findall(r"corpus\[(\w+)\]", DOC)
    assert len(cases) > 40
    for case in cases:
        assert (ROOT / "tests" / "corpus" / "callback" / f"{case}.json").is_file(), case


def test_every_threat_of_the_issue_has_a_section() -> None:
    headings = [line for line in DOC.splitlines() if line.startswith("### ")]
    for threat in THREATS:
        assert any(threat.lower() in heading.lower() for heading in headings), threat
