"""The layout's import rules, checked over every import statement (module level and inside
functions): functions -> use cases -> tencent/media -> root, and the emulator's packages apart.

Each package's ``__init__`` docstring states its rule; ``ALLOWED`` below is the same rule as data.
A new import that crosses a floor the wrong way fails here with the module and the import named.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED_FLOORS = ("media", "contract", "tencent", "settings", "results", "upload", "callback")
# package -> packages of ``shared`` it may import ("root" = the modules directly in shared/).
ALLOWED: dict[str, frozenset[str]] = {
    "root": frozenset({"root"}),
    "media": frozenset({"root", "media"}),
    "contract": frozenset({"root", "contract"}),
    "tencent": frozenset({"root", "media", "tencent"}),
    "settings": frozenset({"root", "media", "tencent", "settings"}),
    "results": frozenset({"root", "media", "contract", "results"}),
    "upload": frozenset({"root", "media", "contract", "settings", "upload"}),
    "callback": frozenset(
        {"root", "media", "contract", "settings", "tencent", "results", "callback"}
    ),
    "scf": frozenset({"root", "settings", "tencent", "scf"}),
    "reconcile": frozenset(
        {
            "root",
            "media",
            "contract",
            "settings",
            "tencent",
            "results",
            "scf",
            "upload",
            "reconcile",
        }
    ),
    "ops": frozenset({*SHARED_FLOORS, "root", "scf", "reconcile", "ops"}),
}
# Third-party libraries a package may not touch (HTTP belongs to the wire).
FORBIDDEN_LIBRARIES: dict[str, frozenset[str]] = {
    "root": frozenset({"requests", "urllib3", "tencentcloud", "defusedxml"}),
    "media": frozenset({"requests", "urllib3", "tencentcloud", "defusedxml"}),
    "contract": frozenset({"requests", "urllib3", "tencentcloud", "defusedxml"}),
    "results": frozenset({"requests", "urllib3", "defusedxml"}),
    "upload": frozenset({"requests", "urllib3", "defusedxml"}),
}
PROJECT_TOPS = frozenset({"shared", "functions", "emulator", "deploy", "benchmarks", "tests"})
EMULATOR_ALLOWED: dict[str, frozenset[str]] = {
    "root": frozenset({"root", "cos", "ci", "scf"}),
    "cos": frozenset({"root", "cos"}),
    "ci": frozenset({"root", "ci"}),
    "scf": frozenset({"root", "scf"}),
    "soak": frozenset({"root", "cos", "ci", "scf", "soak"}),
}
EMULATOR_COMMAND_LINE = "emulator/cli.py"  # the top: it dispatches to every subcommand


def imported_modules(path: Path) -> Iterator[tuple[int, str]]:
    """(line, dotted module) of every import in ``path``, absolute (relative ones are banned)."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.lineno, node.module
            for alias in node.names:  # ``from shared import media`` names a package
                yield node.lineno, f"{node.module}.{alias.name}"


def package_of(path: Path, top: str) -> str:
    parts = path.relative_to(ROOT / top).parts
    return parts[0] if len(parts) > 1 else "root"


def floor_of(module: str, top: str) -> str | None:
    parts = module.split(".")
    if parts[0] != top:
        return None
    if len(parts) == 1:
        return "root"
    base = ROOT / top / parts[1]
    return parts[1] if base.is_dir() else "root"


def _modules(top: str) -> list[Path]:
    return sorted(path for path in (ROOT / top).rglob("*.py") if path.name != "__main__.py")


@pytest.mark.parametrize("path", _modules("shared"), ids=lambda p: str(p.relative_to(ROOT)))
def test_shared_imports_keep_one_direction(path: Path) -> None:
    package = package_of(path, "shared")
    allowed = ALLOWED[package]
    forbidden = FORBIDDEN_LIBRARIES.get(package, frozenset())
    for line, module in imported_modules(path):
        top = module.split(".")[0]
        assert top not in PROJECT_TOPS - {"shared"}, f"{path}:{line} imports {module}"
        assert top not in forbidden, f"{path}:{line}: {package} must not import {top}"
        floor = floor_of(module, "shared")
        if floor is not None:
            assert floor in allowed, f"{path}:{line}: shared.{package} imports {module}"


@pytest.mark.parametrize("path", _modules("emulator"), ids=lambda p: str(p.relative_to(ROOT)))
def test_emulator_packages_stay_apart(path: Path) -> None:
    package = package_of(path, "emulator")
    if path.relative_to(ROOT).as_posix() == EMULATOR_COMMAND_LINE:
        package = "soak"
    for line, module in imported_modules(path):
        floor = floor_of(module, "emulator")
        if floor is not None:
            assert floor in EMULATOR_ALLOWED[package], f"{path}:{line} imports {module}"
        if package == "scf":
            assert not module.startswith("shared"), f"{path}:{line} imports {module}"
        assert module.split(".")[0] not in {"functions", "deploy", "benchmarks"}, (
            f"{path}:{line} imports {module}"
        )


def test_functions_import_only_shared_and_libraries() -> None:
    for path in sorted((ROOT / "functions").rglob("*.py")):
        for line, module in imported_modules(path):
            top = module.split(".")[0]
            assert top not in PROJECT_TOPS - {"shared"}, f"{path}:{line} imports {module}"


def test_the_rule_catches_a_wrong_import(tmp_path: Path) -> None:
    """The checker itself: a media module importing the wire is found."""
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from shared.tencent.transport import Transport\n")
    found = [module for _, module in imported_modules(bad)]
    assert "shared.tencent.transport" in found
    assert floor_of("shared.tencent.transport", "shared") == "tencent"
    assert "tencent" not in ALLOWED["media"]


def test_every_package_says_what_it_may_import() -> None:
    for init in sorted((ROOT / "shared").glob("*/__init__.py")) + sorted(
        (ROOT / "emulator").glob("*/__init__.py")
    ):
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))) or ""
        assert "import" in doc, f"{init}: the docstring must say what the package may import"
