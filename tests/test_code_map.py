"""The code map in docs/architecture.md matches the tree (issue 15).

The map is the fenced block under "## Code map": a name column (a path at the left margin, its
children indented by two spaces; several names may share a line) and a description after two
or more spaces; lines indented further only continue a description. Every name must exist (a
trailing "/" means a folder; ``<name>`` stands for each folder there), and every package of
``shared/`` and ``emulator/`` and every function must be named, so the map cannot fall behind.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ARCHITECTURE = ROOT / "docs" / "architecture.md"
CHILD_INDENT = 2
DESCRIPTION_ONLY = 8  # a line indented this far or more continues the description above it


def code_map() -> list[str]:
    text = ARCHITECTURE.read_text(encoding="utf-8")
    section = text.split("## Code map", 1)[1]
    block = re.search(r"```\n(.*?)```", section, re.DOTALL)
    assert block is not None, "no fenced block under '## Code map'"
    return block.group(1).splitlines()


def named_paths(lines: list[str]) -> list[str]:
    """Every path the map names, relative to the repository root."""
    paths: list[str] = []
    parent = ""
    for line in lines:
        indent = len(line) - len(line.lstrip(" "))
        if not line.strip() or indent >= DESCRIPTION_ONLY:
            continue
        names = re.split(r" {2,}", line.strip())[0].split()
        if indent == 0:
            parent = names[0].split("<")[0]
            parent = parent if parent.endswith("/") else ""
            paths += names
        else:
            assert indent == CHILD_INDENT, f"unexpected indentation: {line!r}"
            paths += [parent + name for name in names]
    return paths


def exists(path: str) -> bool:
    if "<name>" in path:
        before, after = path.split("<name>", 1)
        folders = [p for p in (ROOT / before).iterdir() if p.is_dir() and p.name != "__pycache__"]
        return bool(folders) and all((folder / after.lstrip("/")).exists() for folder in folders)
    target = ROOT / path
    return target.is_dir() if path.endswith("/") else target.is_file()


def test_every_name_in_the_code_map_exists() -> None:
    paths = named_paths(code_map())
    assert len(paths) > 20
    missing = [path for path in paths if not exists(path)]
    assert missing == [], f"named in docs/architecture.md but not in the tree: {missing}"


@pytest.mark.parametrize("top", ["shared", "emulator", "functions"])
def test_every_package_is_in_the_code_map(top: str) -> None:
    named = set(named_paths(code_map()))
    packages = sorted(
        f"{top}/{path.parent.name}/"
        for path in (ROOT / top).glob("*/__init__.py")
        if path.parent.name != "__pycache__"
    )
    assert packages, top
    unnamed = [package for package in packages if package not in named]
    assert unnamed == [], f"in the tree but not in docs/architecture.md's code map: {unnamed}"


def test_the_parser_reads_names_not_descriptions() -> None:
    lines = [
        "shared/                     the library",
        "  tencent/ media/            the wire, pure parts",
        "                              a continued description/ with a slash",
        "docs/                       these pages",
    ]
    assert named_paths(lines) == ["shared/", "shared/tencent/", "shared/media/", "docs/"]
