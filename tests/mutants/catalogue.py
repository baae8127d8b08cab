"""The list of planted bugs (tests/mutants/mutants.txt): reading it and applying one entry.

Format (line-oriented, diff-like, so an entry reads like the bug it plants)::

    [shared/media/tag_format.py]                 a section: the file the entries below change
    tests: tests/test_tags.py                    the test files that must kill them (required)

    * width from the stream's height             an entry: its name
    - "width": lambda: _dimension(video.width) if video else None,
    + "width": lambda: _dimension(video.height) if video else None,

An entry may add ``tests: ...`` (replacing the section's), ``timeout: <seconds>`` (for a mutant
expected to hang: a timeout counts as a kill) and ``equivalent: <why>`` (a mutant no test can kill
because the behaviour does not change; it is still run, and a kill is reported).
The ``-`` text must match exactly one line of the file once both are stripped of surrounding
white space; the ``+`` text replaces it with the original indentation. ``#`` starts a comment
line. Nothing here runs tests or touches the working tree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

CATALOGUE = Path(__file__).with_name("mutants.txt")


class CatalogueError(ValueError):
    """The list is malformed or an entry no longer applies to the code (says which and where)."""


@dataclass(frozen=True)
class Mutant:
    name: str
    path: str  # relative to the repository root
    tests: tuple[str, ...]
    original: str
    replacement: str
    equivalent: str | None = None
    line: int = 0  # where the entry starts in mutants.txt
    timeout_s: float | None = None  # instead of --timeout (a mutant expected to hang)

    @property
    def label(self) -> str:
        return f"{self.path}: {self.name}"

    def mutated(self, source: str) -> str:
        """``source`` with this entry's line replaced; CatalogueError unless it matches once."""
        lines = source.splitlines(keepends=True)
        hits = [index for index, text in enumerate(lines) if text.strip() == self.original]
        if len(hits) != 1:
            found = "not found" if not hits else f"found {len(hits)} times"
            raise CatalogueError(f"mutants.txt:{self.line} ({self.label}): line {found}")
        text = lines[hits[0]]
        indent = text[: len(text) - len(text.lstrip())]
        ending = text[len(text.rstrip("\r\n")) :]
        lines[hits[0]] = indent + self.replacement + ending
        mutated = "".join(lines)
        try:
            compile(mutated, self.path, "exec")
        except SyntaxError as exc:
            raise CatalogueError(f"mutants.txt:{self.line} ({self.label}): {exc}") from exc
        return mutated


@dataclass
class _Draft:
    name: str
    line: int
    fields: dict[str, str] = field(default_factory=dict)


@dataclass
class _Reader:
    mutants: list[Mutant] = field(default_factory=list)
    path: str | None = None
    tests: tuple[str, ...] = ()
    draft: _Draft | None = None

    def close_entry(self) -> None:
        draft, self.draft = self.draft, None
        if draft is None:
            return
        where = f"mutants.txt:{draft.line} ({draft.name})"
        missing = [sign for sign in ("-", "+") if sign not in draft.fields]
        if missing or self.path is None:
            raise CatalogueError(f"{where}: needs a section and both '-' and '+' lines")
        tests = tuple(draft.fields["tests"].split()) if "tests" in draft.fields else self.tests
        if not tests:
            raise CatalogueError(f"{where}: no tests named for it or its section")
        if draft.fields["-"] == draft.fields["+"]:
            raise CatalogueError(f"{where}: the '+' line does not change anything")
        self.mutants.append(
            Mutant(
                draft.name,
                self.path,
                tests,
                draft.fields["-"],
                draft.fields["+"],
                draft.fields.get("equivalent"),
                draft.line,
                float(draft.fields["timeout"]) if "timeout" in draft.fields else None,
            )
        )

    def feed(self, number: int, text: str) -> None:
        if text.startswith("[") and text.endswith("]"):
            self.close_entry()
            self.path, self.tests = text[1:-1].strip(), ()
        elif text.startswith("* "):
            self.close_entry()
            self.draft = _Draft(text[2:].strip(), number)
        elif text[:2] in ("- ", "+ ") and self.draft is not None:
            self.draft.fields[text[0]] = text[2:].strip()
        elif text.startswith(("tests:", "equivalent:", "timeout:")):
            name, _, value = text.partition(":")
            if self.draft is not None:
                self.draft.fields[name] = value.strip()
            elif name == "tests":
                self.tests = tuple(value.split())
            else:
                raise CatalogueError(f"mutants.txt:{number}: '{name}:' outside an entry")
        else:
            raise CatalogueError(f"mutants.txt:{number}: cannot read {text[:60]!r}")


def parse_catalogue(text: str) -> list[Mutant]:
    reader = _Reader()
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if stripped and not stripped.startswith("#"):
            reader.feed(number, stripped)
    reader.close_entry()
    return reader.mutants


def check_applies(mutants: list[Mutant], root: Path) -> None:
    """Every entry matches its file once and compiles; every named test file (or folder)
    exists."""
    for mutant in mutants:
        source = root / mutant.path
        if not source.is_file():
            raise CatalogueError(f"mutants.txt:{mutant.line}: no file {mutant.path}")
        mutant.mutated(source.read_text(encoding="utf-8"))
        for test in mutant.tests:
            if test.startswith("-"):  # a pytest option, e.g. --deselect
                continue
            if not (root / test.split("::")[0]).exists():
                raise CatalogueError(f"mutants.txt:{mutant.line}: no test file {test}")
