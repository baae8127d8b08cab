"""The lock at build time: check the pins, keep what pip vendored, write each zip's BOM.

``check_pins`` stops the build (BuildError) when requirements.txt, requirements.lock and, once
installed, the vendored set disagree (deploy/lockfile.py says how). The vendored list is kept as
JSON beside the dependency cache, never inside it, so it can never reach a zip. ``write_bom``
writes build/<function>.bom.txt next to the zip.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from deploy import lockfile
from deploy.runtime import BuildError, dotted
from deploy.vendor import PLATFORM


def vendored_file(site: Path) -> Path:
    """Where the list of what pip vendored into ``site`` is kept (beside it)."""
    return site.with_name(site.name + ".vendored.json")


def check_pins(root: Path, vendored: list[lockfile.Vendored] | None = None) -> None:
    """BuildError naming every way requirements.txt, the lock and ``vendored`` disagree."""
    requirements = (root / lockfile.REQUIREMENTS_FILE).read_text(encoding="utf-8")
    lock = lockfile.parse_lock((root / lockfile.LOCK_FILE).read_text(encoding="utf-8"))
    problems = lockfile.disagreements(lockfile.requirement_pins(requirements), lock, vendored)
    if problems:
        fix = (
            f"edit {lockfile.REQUIREMENTS_FILE}, run `{lockfile.LOCK_COMMAND}` (docs/packaging.md)"
        )
        raise BuildError("the runtime pins disagree:\n  " + "\n  ".join(problems) + f"\n{fix}")


def write_bom(zip_path: Path, version: tuple[int, int], vendored: list[lockfile.Vendored]) -> Path:
    """build/<function>.bom.txt: what the zip vendored, with versions and wheel hashes."""
    path = zip_path.with_suffix(".bom.txt")
    zip_sha256 = hashlib.sha256(zip_path.read_bytes()).hexdigest()
    text = lockfile.bom_text(zip_path.name, dotted(version), PLATFORM, zip_sha256, vendored)
    path.write_text(text, encoding="utf-8")
    return path
