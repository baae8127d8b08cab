"""The runtime lock (requirements.lock) against requirements.txt and what pip vendored.

requirements.txt names the runtime dependencies a person chose, pinned; requirements.lock is
generated from it by ``make lock`` (``uv pip compile --universal --generate-hashes``): every
distribution, transitive ones included, with the sha256 of each of its files on the index, so
``pip install --require-hashes`` refuses any wheel that is not the reviewed one. ``disagreements``
names every way the three sets differ; the build stops on any (deploy/package.py), and the tests
run the same check. The bill of materials (BOM) lists what one zip vendored, from pip's own
``--report``: name, version, the wheel's file name and sha256. Pure: reads text, never installs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

LOCK_FILE = "requirements.lock"
REQUIREMENTS_FILE = "requirements.txt"
LOCK_COMMAND = "make lock"
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")
_HASH = re.compile(r"--hash=sha256:([0-9a-f]{64})")
_VIA_REQUIREMENTS = "-r requirements.txt"


def canonical(name: str) -> str:
    """PEP 503 normalised name: 'Charset_Normalizer' -> 'charset-normalizer'."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class LockedPin:
    """One distribution of the lock: its version, its files' hashes, and what pulled it in."""

    version: str
    hashes: frozenset[str]
    via: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class Vendored:
    """One distribution pip installed into a zip, as its installation report names it."""

    name: str
    version: str
    wheel: str
    sha256: str


def requirement_pins(text: str) -> dict[str, str]:
    """``name==version`` lines of a requirements file (comments and blank lines skipped)."""
    pins: dict[str, str] = {}
    for line in text.splitlines():
        match = _PIN.match(line.split("#", 1)[0].strip())
        if match:
            pins[canonical(match.group(1))] = match.group(2)
    return pins


def parse_lock(text: str) -> dict[str, LockedPin]:
    """The lock's distributions, with hashes and the ``# via`` names of uv's annotations."""
    locked: dict[str, LockedPin] = {}
    name: str | None = None
    version = ""
    hashes: set[str] = set()
    via: list[str] = []

    def close() -> None:
        if name is not None:
            locked[name] = LockedPin(version, frozenset(hashes), tuple(via))

    for raw in text.splitlines():
        line = raw.strip()
        match = _PIN.match(line)
        if match and not raw.startswith((" ", "\t")):
            close()
            name, version, hashes, via = canonical(match.group(1)), match.group(2), set(), []
        hashes.update(_HASH.findall(line))
        if line.startswith("# via"):
            rest = line[len("# via") :].strip()
            via.extend([rest] if rest else [])
        elif line.startswith("#   ") and name is not None:
            via.append(line[1:].strip())
    close()
    return locked


def _via_problems(lock: Mapping[str, LockedPin]) -> list[str]:
    problems = []
    for name, pin in sorted(lock.items()):
        parents = {canonical(v) for v in pin.via if v != _VIA_REQUIREMENTS}
        if _VIA_REQUIREMENTS not in pin.via and not parents & set(lock):
            problems.append(f"{LOCK_FILE}: {name} is pulled in by nothing in the lock")
    return problems


def disagreements(
    requirements: Mapping[str, str],
    lock: Mapping[str, LockedPin],
    vendored: Iterable[Vendored] | None = None,
) -> list[str]:
    """Every difference between requirements.txt, the lock and (if given) the vendored set."""
    problems = []
    for name, version in sorted(requirements.items()):
        pin = lock.get(name)
        if pin is None:
            problems.append(f"{name}=={version} is in {REQUIREMENTS_FILE} but not in {LOCK_FILE}")
        elif pin.version != version:
            problems.append(
                f"{name}: {REQUIREMENTS_FILE} pins {version}, {LOCK_FILE} pins {pin.version}"
            )
    problems += [
        f"{LOCK_FILE}: {name} has no sha256 hash" for name, p in lock.items() if not p.hashes
    ]
    problems += _via_problems(lock)
    if vendored is not None:
        installed = {canonical(item.name): item for item in vendored}
        for name in sorted(set(lock) - set(installed)):
            problems.append(f"{name} is in {LOCK_FILE} but was not vendored")
        for name, item in sorted(installed.items()):
            pin = lock.get(name)
            if pin is None:
                problems.append(f"{name}=={item.version} was vendored but is not in {LOCK_FILE}")
            elif pin.version != item.version or item.sha256 not in pin.hashes:
                problems.append(
                    f"{name}: vendored {item.version} ({item.wheel}, sha256 {item.sha256[:12]}...) "
                    f"is not the locked {pin.version} with one of its hashes"
                )
    return problems


def vendored_from_report(report: Mapping[str, Any]) -> list[Vendored]:
    """pip's ``--report`` JSON (format 1) -> what it installed, sorted by name."""
    found = []
    for item in report.get("install", ()):
        info, metadata = item.get("download_info", {}), item.get("metadata", {})
        url = str(info.get("url", ""))
        sha256 = str(info.get("archive_info", {}).get("hashes", {}).get("sha256", ""))
        found.append(
            Vendored(
                str(metadata.get("name")),
                str(metadata.get("version")),
                url.rsplit("/", 1)[-1],
                sha256,
            )
        )
    return sorted(found, key=lambda item: canonical(item.name))


def save_vendored(path: Path, vendored: Iterable[Vendored]) -> None:
    items = [vars(item) for item in vendored]
    path.write_text(json.dumps(items, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def load_vendored(path: Path) -> list[Vendored]:
    return [Vendored(**item) for item in json.loads(path.read_text(encoding="utf-8"))]


def bom_text(
    zip_name: str, runtime: str, platform: str, zip_sha256: str, vendored: Iterable[Vendored]
) -> str:
    """The bill of materials written next to a zip: a valid requirements file, with comments."""
    lines = [
        f"# Bill of materials of {zip_name}: the distributions vendored into it, as pip installed",
        f"# them with --require-hashes from {LOCK_FILE} for Python {runtime}, {platform}.",
        f"# zip sha256: {zip_sha256}",
    ]
    for item in vendored:
        lines.append(f"{item.name}=={item.version} --hash=sha256:{item.sha256}  # {item.wheel}")
    return "\n".join(lines) + "\n"


def summary(vendored: Iterable[Vendored]) -> str:
    """'certifi 2026.10.19.post1, charset-normalizer 3.5.2, ...' for the build's output."""
    return ", ".join(f"{item.name} {item.version}" for item in vendored)
