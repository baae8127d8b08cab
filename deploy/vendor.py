"""Runtime dependencies for an SCF zip: installed for manylinux x86_64 and the runtime's Python.

``pip install --target`` with ``--platform/--python-version/--only-binary`` fetches the wheels the
SCF runtime needs whatever this machine is. Pruning removes only what cannot matter at run time:
console scripts, installer metadata (license files are kept), type stubs, sub-packages guarded by
a platform SCF is not, compiled accelerators that have their pure-Python module beside them, and
the modules of ``CLOSURE_PRUNED_PACKAGES`` that no import statement reaches from our code. That
reachability counts every import statement (module level and inside functions), so a lazy import
keeps its module; the clean-interpreter test of each zip is the backstop. This module never
touches the project's own sources."""

from __future__ import annotations

import ast
import shutil
import subprocess
from collections.abc import Iterable, Sequence
from pathlib import Path

from deploy.runtime import BuildError, dotted

PLATFORM = "manylinux2014_x86_64"
# Packages big enough to prune by reachability; others are kept whole (they are small or
# import lazily by string, which an AST walk cannot see).
CLOSURE_PRUNED_PACKAGES = ("tencentcloud",)
# Sub-packages imported only on platforms SCF is not, with where the guard is.
PLATFORM_ONLY_PATHS = {
    "urllib3/contrib/emscripten": "urllib3/__init__.py: if sys.platform == 'emscripten'",
}
_LICENSE_HINTS = ("license", "licence", "copying", "notice", "authors")
_STUB_SUFFIXES = (".pyi",)
_STUB_FILES = ("py.typed",)


def install_dependencies(
    lock: Path,
    target: Path,
    version: tuple[int, int],
    pip_python: str,
    report: Path,
) -> None:
    """Install the hash-pinned ``lock`` for the SCF platform into ``target`` (no bytecode).

    ``--require-hashes``: a wheel whose sha256 is not in the lock is refused, and so is any
    distribution the lock does not pin. pip's installation report goes to ``report`` (the BOM).
    """
    command = [
        pip_python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
        "--no-compile", "--no-warn-script-location", "--target", str(target),
        "--platform", PLATFORM, "--python-version", dotted(version),
        "--implementation", "cp", "--only-binary=:all:",
        "--require-hashes", "-r", str(lock), "--report", str(report),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise BuildError(
            f"pip install --require-hashes of {lock.name} for the SCF runtime failed "
            f"(a changed pin needs `make lock`):\n{done.stderr[-4000:]}"
        )


def _is_license(path: Path) -> bool:
    lowered = path.name.lower()
    return any(hint in lowered for hint in _LICENSE_HINTS) or "licenses" in path.parts


def prune_distribution_files(site: Path) -> None:
    """Drop console scripts, non-license installer metadata, caches and type-only files."""
    shutil.rmtree(site / "bin", ignore_errors=True)
    for info in sorted(site.glob("*.dist-info")):
        for path in sorted(info.rglob("*"), reverse=True):
            if path.is_file() and not _is_license(path.relative_to(info)):
                path.unlink()
            elif path.is_dir() and not any(path.iterdir()):
                path.rmdir()
        if not any(info.iterdir()):
            info.rmdir()
    for cache in sorted(site.rglob("__pycache__")):
        shutil.rmtree(cache)
    for path in sorted(site.rglob("*")):
        if path.is_file() and (path.suffix in _STUB_SUFFIXES or path.name in _STUB_FILES):
            path.unlink()


def prune_platform_only(site: Path) -> None:
    """Remove the sub-packages of PLATFORM_ONLY_PATHS (missing ones are fine)."""
    for relative in PLATFORM_ONLY_PATHS:
        shutil.rmtree(site / relative, ignore_errors=True)


def drop_accelerators_with_pure_twin(site: Path) -> list[str]:
    """Delete compiled extension modules whose pure-Python module sits beside them.

    charset_normalizer ships mypyc-compiled md/cd next to md.py/cd.py; the pure modules import
    just as fast here (measured) and the pair of .so files is ~190 KB of the zip.
    """
    removed = []
    for extension in sorted(site.rglob("*.so")):
        twin = extension.with_name(extension.name.split(".", 1)[0] + ".py")
        if twin.is_file():
            extension.unlink()
            removed.append(extension.relative_to(site).as_posix())
    return removed


def module_files(site: Path, package: str) -> dict[str, Path]:
    """Dotted module name -> source file, for every module of ``package`` under ``site``."""
    modules: dict[str, Path] = {}
    for path in sorted((site / package).rglob("*.py")):
        parts = list(path.relative_to(site).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def imported_names(source: str, module: str, is_package: bool) -> set[str]:
    """Every module name an import statement in ``source`` may load (absolute, dotted)."""
    package_parts = module.split(".") if is_package else module.split(".")[:-1]
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base_parts = package_parts[: len(package_parts) - node.level + 1] if node.level else []
            base = ".".join([*base_parts, node.module] if node.module else base_parts)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def _with_parents(name: str) -> Iterable[str]:
    parts = name.split(".")
    return (".".join(parts[:index]) for index in range(1, len(parts) + 1))


def reachable_modules(modules: dict[str, Path], roots: Iterable[str]) -> set[str]:
    """The modules of ``modules`` that ``roots`` reach through import statements."""
    pending = [parent for root in roots for parent in _with_parents(root) if parent in modules]
    seen: set[str] = set()
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        path = modules[name]
        source = path.read_text(encoding="utf-8")
        for imported in imported_names(source, name, path.name == "__init__.py"):
            pending.extend(p for p in _with_parents(imported) if p in modules and p not in seen)
    return seen


def prune_unreachable(site: Path, package: str, roots: Iterable[str]) -> list[str]:
    """Delete the modules of ``package`` no root reaches; return their names (sorted)."""
    modules = module_files(site, package)
    keep = reachable_modules(modules, roots)
    removed = sorted(set(modules) - keep)
    for name in removed:
        modules[name].unlink()
    for directory in sorted((site / package).rglob("*"), reverse=True):
        if directory.is_dir() and not any(directory.iterdir()):
            directory.rmdir()
    return removed


def project_imports(sources: Sequence[Path], package: str) -> list[str]:
    """Names under ``package`` that the project's own modules import (the pruning roots)."""
    found: set[str] = set()
    for path in sources:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found.update(a.name for a in node.names if a.name.split(".")[0] == package)
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                if node.module.split(".")[0] != package:
                    continue
                found.add(node.module)
                found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return sorted(found)
