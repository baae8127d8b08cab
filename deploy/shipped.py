"""Which of the project's own modules a function zip ships: what its entry point's imports reach.

Every import statement counts (module level, inside functions, under ``TYPE_CHECKING``), and every
package ``__init__`` on the way is kept, so what an entry point can import is in its zip, and the
operator tools (``shared.ops``, ``python -m shared``) are in none: the reconcile timer reaches
``shared.reconcile``, not the command line. The clean-interpreter import test of each zip is the
backstop. This module only reads source files.
"""

from __future__ import annotations

from pathlib import Path

from deploy import vendor

PROJECT_PACKAGE = "shared"


def entry_point(root: Path, function: str) -> Path:
    return root / "functions" / function / "index.py"


def shipped_modules(root: Path, function: str) -> list[str]:
    """Dotted names of the ``shared`` modules ``functions/<function>/index.py`` reaches, sorted."""
    modules = vendor.module_files(root, PROJECT_PACKAGE)
    starts = vendor.project_imports([entry_point(root, function)], PROJECT_PACKAGE)
    return sorted(vendor.reachable_modules(modules, starts))


def shipped_files(root: Path, function: str) -> list[Path]:
    """The source files of ``shipped_modules``, relative to ``root`` (posix order)."""
    modules = vendor.module_files(root, PROJECT_PACKAGE)
    paths = [modules[name].relative_to(root) for name in shipped_modules(root, function)]
    return sorted(paths, key=lambda path: path.as_posix())


def contents_summary(modules: list[str]) -> str:
    """'errors, models, tencent/{ci_client, cos_client}, ...': one line for the build report."""
    groups: dict[str, list[str]] = {}
    for name in modules:
        parts = name.split(".")[1:]
        if not parts:
            continue
        package, leaf = ("", parts[0]) if len(parts) == 1 else (parts[0], ".".join(parts[1:]))
        if package == "" and (Path(leaf).name in groups):
            continue  # a package name listed as its own group
        groups.setdefault(package, [])
        if leaf:
            groups[package].append(leaf)
    packages = {name for name in groups if name}
    roots = [leaf for leaf in groups.get("", []) if leaf not in packages]
    listed = [*roots, *(f"{pkg}/{{{', '.join(groups[pkg])}}}" for pkg in sorted(packages))]
    return ", ".join(listed)
