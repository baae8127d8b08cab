"""tests/mutants (``make mutants``): reading the list, planting one entry, scoring the outcomes.

Only the tool's own logic: whether the entries of tests/mutants/mutants.txt still apply to the
code is ``make mutants``'s business (it stops, naming the entry, when one does not).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.mutants.catalogue import CatalogueError, Mutant, check_applies, parse_catalogue
from tests.mutants.run import Outcome, first_failure, score_line, tree_files, unexpected

LIST = """
# a comment
[pkg/mod.py]
tests: tests/test_a.py tests/test_b.py

* limit moved by one
- if size > LIMIT:
+ if size >= LIMIT:

* check dropped
- return check(value)
+ return True
tests: tests/test_c.py
timeout: 30
equivalent: only a log line changes
"""

SOURCE = (
    "def f(size, value):\n    if size > LIMIT:\n        raise ValueError\r\n"
    "    return check(value)\n"
)


def test_entries_take_their_sections_file_and_tests_unless_they_name_their_own() -> None:
    first, second = parse_catalogue(LIST)
    assert first == Mutant(
        "limit moved by one",
        "pkg/mod.py",
        ("tests/test_a.py", "tests/test_b.py"),
        "if size > LIMIT:",
        "if size >= LIMIT:",
        None,
        6,
    )
    assert (second.tests, second.timeout_s, second.equivalent, second.line) == (
        ("tests/test_c.py",),
        30.0,
        "only a log line changes",
        10,
    )
    assert first.label == "pkg/mod.py: limit moved by one"


def test_a_mutant_replaces_its_one_line_keeping_indentation_and_line_ending() -> None:
    first, second = parse_catalogue(LIST)
    assert first.mutated(SOURCE) == SOURCE.replace("if size > LIMIT:", "if size >= LIMIT:")
    assert second.mutated(SOURCE).splitlines()[-1] == "    return True"


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ("x = 1\n", r"mutants\.txt:6 \(pkg/mod\.py: limit moved by one\): line not found"),
        ("if size > LIMIT:\n    pass\nif size > LIMIT:\n    pass\n", "line found 2 times"),
    ],
)
def test_a_line_that_is_gone_or_ambiguous_is_an_error(source: str, problem: str) -> None:
    first, _ = parse_catalogue(LIST)
    with pytest.raises(CatalogueError, match=problem):
        first.mutated(source)


def test_a_mutant_that_does_not_compile_is_an_error() -> None:
    broken = parse_catalogue(LIST.replace("+ if size >= LIMIT:", "+ if size >=:"))[0]
    with pytest.raises(CatalogueError, match=r"mutants\.txt:6 .*invalid syntax"):
        broken.mutated(SOURCE)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("* orphan\n- a\n+ b\n", r"mutants\.txt:1 \(orphan\): needs a section"),
        ("[m.py]\n* no tests\n- a\n+ b\n", "no tests named"),
        ("[m.py]\ntests: t.py\n* same\n- a\n+ a\n", "does not change anything"),
        ("[m.py]\nequivalent: why\n", r"mutants\.txt:2: 'equivalent:' outside an entry"),
        ("[m.py]\nwhat is this\n", r"mutants\.txt:2: cannot read 'what is this'"),
    ],
)
def test_a_malformed_list_says_where(text: str, problem: str) -> None:
    with pytest.raises(CatalogueError, match=problem):
        parse_catalogue(text)


def test_check_applies_names_a_missing_file_or_test(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "mod.py").write_text(SOURCE, encoding="utf-8")
    first, _ = parse_catalogue(LIST)
    with pytest.raises(CatalogueError, match=r"no test file tests/test_a\.py"):
        check_applies([first], tmp_path)
    (tmp_path / "tests").mkdir()
    for name in ("test_a.py", "test_b.py"):
        (tmp_path / "tests" / name).write_text("", encoding="utf-8")
    check_applies([first], tmp_path)
    with pytest.raises(CatalogueError, match=r"no file other\.py"):
        check_applies(parse_catalogue(LIST.replace("[pkg/mod.py]", "[other.py]")), tmp_path)


def test_the_copy_leaves_out_caches_and_bytecode(tmp_path: Path) -> None:
    for name in ("a.py", "pkg/__pycache__/a.cpython-311.pyc", ".venv/x.py", "build/z", "b.pyc"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("", encoding="utf-8")
    assert tree_files(tmp_path) == [Path("a.py")]  # not a git work tree: every other file


def test_the_first_failing_test_is_named() -> None:
    output = "....F\nFAILED tests/test_x.py::test_y[1] - assert 1 == 2\nFAILED tests/test_z.py::t\n"
    assert first_failure(output) == "tests/test_x.py::test_y[1]"
    assert first_failure("ERROR tests/test_x.py - ImportError\n") == "tests/test_x.py"
    assert first_failure("no tests ran in 0.01s\n") == "no tests ran in 0.01s"


def outcome(verdict: str, equivalent: str | None = None) -> Outcome:
    mutant = Mutant("m", "f.py", ("t.py",), "a", "b", equivalent)
    return Outcome(mutant, verdict, "", 1.0)


def test_the_score_counts_kills_over_the_mutants_not_marked_equivalent() -> None:
    outcomes = [
        outcome("killed"),
        outcome("timeout"),
        outcome("survived"),
        outcome("error"),
        outcome("survived", "same behaviour"),
    ]
    assert score_line(outcomes, 61.4, 2) == (
        "mutants: 2 killed, 1 survived, 1 equivalent, 1 errors of 5: "
        "score 2/4 = 50.0 % in 61 s (2 workers)"
    )
    assert [unexpected(o) for o in outcomes] == [False, False, True, True, False]
    assert unexpected(outcome("killed", "claimed equivalent"))
