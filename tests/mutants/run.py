"""`make mutants`: plant each bug of tests/mutants/mutants.txt in a throwaway copy and report which
ones the tests let through.

Why not mutmut or cosmic-ray: both generate every operator swap they can in the files they are
pointed at (thousands for ``shared/``), run a test command per mutant and keep their own state;
what this project wants is a short, reviewed list of realistic bugs (a check dropped, a limit moved
by one, a field read from the wrong place) that stays meaningful when the code moves, and that runs
in minutes on two cores. So: a list kept next to the tests and about 200 lines of standard library.

How: the working tree (git's tracked and untracked-but-not-ignored files, else every file outside
``.venv``, ``build`` and caches) is copied once per worker into a temporary folder; each mutant's
file is rewritten there, only the test files its section names are run (``pytest -x``, this
interpreter, no bytecode written so an edit within the same second is never masked by a stale
``.pyc``, a ``--basetemp`` of its own), and the file is restored. First the named test files run
once unmutated: a red baseline would make every mutant look killed. A mutant is killed when
pytest reports a failure or a collection error, or when it runs past ``--timeout`` (an infinite
loop is a failure too); it survives when its tests pass. The score line counts killed mutants
over all that are not marked equivalent. Exit status 1 when a mutant survives (or an "equivalent"
one is killed), 2 when the list does not apply. It never changes the working tree.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from queue import Queue

from tests.mutants.catalogue import CATALOGUE, CatalogueError, Mutant, check_applies
from tests.mutants.catalogue import parse_catalogue as parse

ROOT = Path(__file__).resolve().parents[2]
SKIPPED_DIRS = frozenset({".git", ".venv", "build", "__pycache__", ".hypothesis"})
SKIPPED_SUFFIXES = (".pyc",)
_FAILED = re.compile(r"^(?:FAILED|ERROR) (\S+)", re.MULTILINE)
PYTEST_FAILED, PYTEST_INTERRUPTED = 1, 2  # pytest's exit codes that mean "a test noticed"


@dataclass(frozen=True)
class Outcome:
    mutant: Mutant
    verdict: str  # killed | survived | timeout | error
    detail: str
    seconds: float

    @property
    def killed(self) -> bool:
        return self.verdict in ("killed", "timeout")


def tree_files(root: Path) -> list[Path]:
    """The files a fresh clone would have, plus new ones not ignored (relative paths)."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=root,
            capture_output=True,
            check=True,
        ).stdout.decode("utf-8")
        names = [Path(name) for name in listed.split("\0") if name]
    except (OSError, subprocess.CalledProcessError):
        names = [path.relative_to(root) for path in root.rglob("*") if path.is_file()]
    return [
        name
        for name in names
        if not SKIPPED_DIRS.intersection(name.parts)
        and not name.name.endswith(SKIPPED_SUFFIXES)
        and (root / name).is_file()
    ]


def make_copy(root: Path, files: Sequence[Path], target: Path) -> Path:
    for name in files:
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(root / name, target / name)
    return target


def run_pytest(copy: Path, tests: Sequence[str], timeout: float) -> tuple[int | None, str]:
    """(pytest's exit code or None on timeout, its output)."""
    environ = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    # Its own --basetemp: pytest prunes old numbered folders of the shared default one, which
    # can pull a tmp_path away from another pytest running on the machine at the same time.
    basetemp = f"--basetemp={copy / '.pytest-tmp'}"
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", basetemp]
    command += tests
    try:
        done = subprocess.run(
            command,
            check=False,
            cwd=copy,
            env=environ,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return None, ""
    finally:
        shutil.rmtree(copy / ".hypothesis", ignore_errors=True)  # no examples carried over
    return done.returncode, done.stdout + done.stderr


def first_failure(output: str) -> str:
    found = _FAILED.search(output)
    return found.group(1) if found else output.strip().splitlines()[-1:][0][:120]


def try_mutant(mutant: Mutant, copy: Path, timeout: float) -> Outcome:
    target = copy / mutant.path
    original = target.read_bytes()
    started = time.monotonic()
    try:
        target.write_text(mutant.mutated(original.decode("utf-8")), encoding="utf-8")
        code, output = run_pytest(copy, mutant.tests, mutant.timeout_s or timeout)
    finally:
        target.write_bytes(original)
    seconds = time.monotonic() - started
    if code is None:
        return Outcome(mutant, "timeout", f"ran past {mutant.timeout_s or timeout:.0f} s", seconds)
    if code in (PYTEST_FAILED, PYTEST_INTERRUPTED):
        return Outcome(mutant, "killed", first_failure(output), seconds)
    if code == 0:
        return Outcome(mutant, "survived", "its tests pass", seconds)
    return Outcome(mutant, "error", f"pytest exit {code}: {first_failure(output)}", seconds)


def baseline(copies: Sequence[Path], mutants: Sequence[Mutant], timeout: float) -> str | None:
    """None when every named test file passes unmutated (split over the copies), else why not."""
    files = sorted({test for mutant in mutants for test in mutant.tests})
    chunks = [files[index :: len(copies)] for index in range(len(copies))]
    with ThreadPoolExecutor(len(copies)) as pool:
        results = list(pool.map(lambda pair: run_pytest(*pair, timeout * 4), zip(copies, chunks)))
    for code, output in results:
        if code != 0:
            return f"the unmutated tests do not pass (exit {code}): {first_failure(output)}"
    return None


def run_all(mutants: Sequence[Mutant], copies: Sequence[Path], timeout: float) -> Iterator[Outcome]:
    free: Queue[Path] = Queue()
    for copy in copies:
        free.put(copy)

    def one(mutant: Mutant) -> Outcome:
        copy = free.get()
        try:
            return try_mutant(mutant, copy, timeout)
        finally:
            free.put(copy)

    with ThreadPoolExecutor(len(copies)) as pool:
        yield from (
            future.result()
            for future in as_completed(map(pool.submit, [one] * len(mutants), mutants))
        )


def describe(outcome: Outcome) -> str:
    mark = {
        "killed": "killed  ",
        "timeout": "killed  ",
        "survived": "SURVIVED",
        "error": "ERROR   ",
    }
    flag = mark[outcome.verdict]
    if outcome.mutant.equivalent:
        flag = "EQUIV-KILLED" if outcome.killed else "equivalent"
    return f"{flag} {outcome.mutant.label} [{outcome.seconds:.1f} s] {outcome.detail}"


def score_line(outcomes: Sequence[Outcome], seconds: float, workers: int) -> str:
    counted = [o for o in outcomes if not o.mutant.equivalent]
    killed = sum(o.killed for o in counted)
    survived = sum(o.verdict == "survived" for o in counted)
    equivalent = len(outcomes) - len(counted)
    percent = 100.0 * killed / len(counted) if counted else 100.0
    return (
        f"mutants: {killed} killed, {survived} survived, {equivalent} equivalent, "
        f"{len(counted) - killed - survived} errors of {len(outcomes)}: "
        f"score {killed}/{len(counted)} = {percent:.1f} % in {seconds:.0f} s ({workers} workers)"
    )


def _arguments(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.mutants", description=__doc__)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="workers")
    parser.add_argument("--only", default="", help="run the entries whose label contains this")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per mutant")
    parser.add_argument("--list", action="store_true", help="check the list and print it")
    parser.add_argument("--catalogue", type=Path, default=CATALOGUE, help="another list")
    parser.add_argument("--no-baseline", action="store_true", help="skip the unmutated run")
    return parser.parse_args(argv)


def main(argv: Sequence[str]) -> int:
    options = _arguments(argv)
    started = time.monotonic()
    try:
        listed = parse(options.catalogue.read_text("utf-8"))
        mutants = [m for m in listed if options.only in m.label]
        check_applies(mutants, ROOT)
    except CatalogueError as exc:
        print(f"mutants: {exc}", file=sys.stderr)
        return 2
    if options.list or not mutants:
        print("\n".join(m.label for m in mutants) + f"\n{len(mutants)} mutants apply")
        return 0
    workers = max(1, min(options.jobs, len(mutants)))
    with tempfile.TemporaryDirectory(prefix="mutants-") as scratch:
        files = tree_files(ROOT)
        copies = [make_copy(ROOT, files, Path(scratch, f"w{n}")) for n in range(workers)]
        problem = None if options.no_baseline else baseline(copies, mutants, options.timeout)
        if problem is not None:
            print(f"mutants: {problem}", file=sys.stderr)
            return 2
        outcomes = []
        for outcome in run_all(mutants, copies, options.timeout):
            print(describe(outcome), flush=True)
            outcomes.append(outcome)
    print(score_line(outcomes, time.monotonic() - started, workers))
    return 1 if any(map(unexpected, outcomes)) else 0


def unexpected(outcome: Outcome) -> bool:
    """A mutant that survived or could not be judged, or an "equivalent" one that was killed."""
    if outcome.mutant.equivalent:
        return outcome.killed
    return not outcome.killed
