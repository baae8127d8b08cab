"""The documentation holds together: README.md stays short and no relative link is dead.

Every relative link in README.md, SECURITY.md and docs/*.md must name a file of the repository,
and a ``#fragment`` into a Markdown file must name one of its headings (GitHub's anchor rule:
lower case, punctuation dropped, spaces to hyphens). Links with a scheme (https:, mailto:) are
not followed: tests reach no network.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted([ROOT / "README.md", ROOT / "SECURITY.md", *(ROOT / "docs").glob("*.md")])
README_MAX_LINES = 300
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^()\s]+)\)")
FENCE = re.compile(r"^(```|~~~).*?^\1", re.M | re.S)
SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:", re.I)


def heading_anchor(heading: str) -> str:
    """GitHub's anchor for a heading text: lower case, punctuation dropped, spaces to '-'."""
    text = heading.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    text = FENCE.sub("", page.read_text(encoding="utf-8"))
    found: set[str] = set()
    for line in text.splitlines():
        match = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if match:
            anchor = heading_anchor(match.group(1))
            number = 1
            unique = anchor
            while unique in found:
                unique = f"{anchor}-{number}"
                number += 1
            found.add(unique)
    return found


def relative_links(page: Path) -> list[str]:
    text = FENCE.sub("", page.read_text(encoding="utf-8"))
    text = re.sub(r"`[^`\n]*`", "", text)  # inline code is not a link
    return [target for target in LINK.findall(text) if not SCHEME.match(target)]


def test_heading_anchor_follows_githubs_rule() -> None:
    assert heading_anchor("Which way `rotation` turns") == "which-way-rotation-turns"
    assert (
        heading_anchor("CAM policy (`deploy/cam-policy.json`)") == "cam-policy-deploycam-policyjson"
    )
    assert heading_anchor("1. One-time cloud setup") == "1-one-time-cloud-setup"


def test_readme_is_short() -> None:
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= README_MAX_LINES, f"README.md has {len(lines)} lines"


def test_readme_links_every_docs_page() -> None:
    linked = {target.split("#")[0] for target in relative_links(ROOT / "README.md")}
    pages = {f"docs/{page.name}" for page in (ROOT / "docs").glob("*.md")}
    assert pages, "docs/ has no pages"
    assert pages <= linked, f"not linked from README.md: {sorted(pages - linked)}"


def dead_links(page: Path, root: Path = ROOT) -> list[str]:
    """The relative links of ``page`` that name no file of ``root`` or no heading of it."""
    dead = []
    for target in relative_links(page):
        path_part, _, fragment = target.partition("#")
        linked = (page.parent / path_part).resolve() if path_part else page
        if not linked.exists() or root.resolve() not in (linked, *linked.parents):
            dead.append(f"{target} (no such file in the repository)")
        elif fragment and linked.suffix == ".md" and fragment not in anchors(linked):
            dead.append(f"{target} (no heading with that anchor)")
    return dead


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.relative_to(ROOT).as_posix())
def test_relative_links_resolve(page: Path) -> None:
    assert dead_links(page) == [], f"{page.relative_to(ROOT)}: dead links"


def test_dead_links_are_found(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.md").write_text("# A page\n\n## Some part\n", encoding="utf-8")
    page = tmp_path / "README.md"
    page.write_text(
        "[ok](docs/a.md) [ok](docs/a.md#some-part) [gone](docs/b.md) [bad](docs/a.md#nope)\n"
        "[outside](../x.md) `[code](docs/c.md)` [web](https://example.com/x)\n"
        "```\n[fenced](docs/d.md)\n```\n",
        encoding="utf-8",
    )
    (tmp_path.parent / "x.md").write_text("x", encoding="utf-8")
    assert dead_links(page, tmp_path) == [
        "docs/b.md (no such file in the repository)",
        "docs/a.md#nope (no heading with that anchor)",
        "../x.md (no such file in the repository)",
    ]
