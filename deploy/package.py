"""``make package``: one deployable zip per SCF function (build/<function>.zip), sizes printed.

A zip holds functions/<function>/index.py at its root, the modules of the project's ``shared``
package that its imports reach beside it (deploy/shipped.py; listed by the build), and the runtime
dependencies (deploy/vendor.py), every module compiled to a hash-based pyc by the runtime's own
Python (deploy/bytecode.py, deploy/runtime.py); the zip is deterministic (deploy/archive.py).
build/<function>/ also gets the unpacked tree (src/) and the function's rendered serverless.yml, so
``scf deploy`` runs from build/ (see the root serverless.yml). Results are cached in build/ keyed by
a hash of every input, so an unchanged rebuild only checks hashes. A zip over MAX_ZIP_BYTES fails
the build. This module never edits the project's sources.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import shutil
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

try:
    import fcntl
except ImportError:  # pragma: no cover -- not POSIX: builds are not serialised
    fcntl = None  # type: ignore[assignment]

from deploy import lockfile, pins, vendor
from deploy.archive import write_deterministic_zip
from deploy.bytecode import DEPENDENCY_PYC_MODE, PROJECT_PYC_MODE, compile_tree
from deploy.runtime import (
    BuildError,
    dotted,
    find_interpreter,
    load_manifest,
    render_instance,
    runtime_version,
)
from deploy.shipped import contents_summary, entry_point, shipped_files, shipped_modules

ROOT = Path(__file__).resolve().parent.parent
MAX_ZIP_BYTES = 1_500_000  # "1.5 MB" read as decimal megabytes: stricter than 1.5 MiB
BUILD_FORMAT = "1"  # bump when the zip layout or the pruning rules change
DEPLOY_SOURCE_DIR = "src"  # build/<function>/src, the `src` of the rendered scf instance
_MARKER = ".build-key"


@dataclass(frozen=True)
class BuiltFunction:
    """One function's build result."""

    name: str
    zip_path: Path
    tree: Path
    size: int
    python: str
    version: tuple[int, int]
    rebuilt: bool


@dataclass(frozen=True)
class BuildContext:
    """What every function's build shares: paths, the manifest and the target interpreter."""

    root: Path
    out: Path
    manifest: dict[str, Any]
    version: tuple[int, int]
    python: str
    deps: Path
    deps_key: str


def discover_functions(root: Path) -> list[str]:
    """Every functions/<name>/index.py, by folder name."""
    return sorted(path.parent.name for path in (root / "functions").glob("*/index.py"))


def digest(parts: Iterable[bytes]) -> str:
    """A short stable hash of byte strings (length-prefixed so boundaries count)."""
    hasher = hashlib.sha256()
    for part in parts:
        hasher.update(len(part).to_bytes(8, "big") + part)
    return hasher.hexdigest()[:20]


def _roots(root: Path, functions: Sequence[str]) -> list[str]:
    shipped = {root / path for name in functions for path in shipped_files(root, name)}
    python_sources = sorted(shipped) + [entry_point(root, name) for name in functions]
    return [
        name
        for package in vendor.CLOSURE_PRUNED_PACKAGES
        for name in vendor.project_imports(python_sources, package)
    ]


def _tool_sources() -> list[bytes]:
    """This build tool's own code: a change to it invalidates every cached result."""
    return [path.read_bytes() for path in sorted(Path(__file__).parent.glob("*.py"))]


def build_dependencies(root: Path, out: Path, version: tuple[int, int], python: str) -> Path:
    """Pruned, compiled runtime dependencies in build/.cache/deps-<key>/ (reused when current)."""
    roots = _roots(root, discover_functions(root))
    key = digest(
        [
            BUILD_FORMAT.encode(),
            (root / lockfile.REQUIREMENTS_FILE).read_bytes(),
            (root / lockfile.LOCK_FILE).read_bytes(),
            *_tool_sources(),
            dotted(version).encode(),
            "\n".join(roots).encode(),
        ]
    )
    site = out / ".cache" / f"deps-{key}"
    if (site / _MARKER).is_file() and pins.vendored_file(site).is_file():
        return site
    shutil.rmtree(out / ".cache", ignore_errors=True)  # drop stale keys
    site.mkdir(parents=True)
    report = site.with_name(site.name + ".report.json")
    vendor.install_dependencies(root / lockfile.LOCK_FILE, site, version, sys.executable, report)
    vendored = lockfile.vendored_from_report(json.loads(report.read_text(encoding="utf-8")))
    pins.check_pins(root, vendored)
    lockfile.save_vendored(pins.vendored_file(site), vendored)
    vendor.prune_distribution_files(site)
    vendor.prune_platform_only(site)
    vendor.drop_accelerators_with_pure_twin(site)
    for package in vendor.CLOSURE_PRUNED_PACKAGES:
        vendor.prune_unreachable(site, package, [r for r in roots if r.startswith(package)])
    tops = sorted(path.name for path in site.iterdir() if not path.name.endswith(".dist-info"))
    compile_tree(python, site, tops, DEPENDENCY_PYC_MODE)
    (site / _MARKER).write_text(key, encoding="utf-8")
    return site


def _function_key(context: BuildContext, name: str, instance_text: str) -> str:
    parts = [context.deps_key.encode(), *_tool_sources(), instance_text.encode()]
    parts.append(entry_point(context.root, name).read_bytes())
    for path in shipped_files(context.root, name):
        parts += [path.as_posix().encode(), (context.root / path).read_bytes()]
    return digest(parts)


def stage_tree(context: BuildContext, name: str, tree: Path) -> None:
    """Fill ``tree`` with deps, the ``shared`` modules index.py reaches and index.py, then
    compile our own modules."""
    shutil.rmtree(tree, ignore_errors=True)
    shutil.copytree(context.deps, tree, ignore=shutil.ignore_patterns(_MARKER))
    for path in shipped_files(context.root, name):
        target = tree / path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(context.root / path, target)
    shutil.copyfile(entry_point(context.root, name), tree / "index.py")
    compile_tree(context.python, tree, ["index.py", "shared"], PROJECT_PYC_MODE)


def build_function(context: BuildContext, name: str, force: bool = False) -> BuiltFunction:
    """build/<name>.zip and build/<name>/{serverless.yml,src/}, unless already current."""
    folder = context.out / name
    tree = folder / DEPLOY_SOURCE_DIR
    zip_path = context.out / f"{name}.zip"
    instance_text = render_instance(context.manifest, name) if _has_instance(context, name) else ""
    key = _function_key(context, name, instance_text)
    marker = folder / _MARKER
    outputs = [zip_path, marker] + ([folder / "serverless.yml"] if instance_text else [])
    current = all(path.is_file() for path in outputs) and marker.read_text() == key
    if force or not current:
        folder.mkdir(parents=True, exist_ok=True)
        stage_tree(context, name, tree)
        write_deterministic_zip(tree, zip_path)
        if instance_text:
            (folder / "serverless.yml").write_text(instance_text, encoding="utf-8")
        marker.write_text(key, encoding="utf-8")
    size = zip_path.stat().st_size
    rebuilt = force or not current
    return BuiltFunction(name, zip_path, tree, size, context.python, context.version, rebuilt)


def _has_instance(context: BuildContext, name: str) -> bool:
    return name in context.manifest["instances"]


@contextlib.contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    """One build at a time per output folder (parallel test runs share build/)."""
    with lock_path.open("a") as handle:
        if fcntl is not None:
            fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def build_all(
    root: Path = ROOT,
    out: Path | None = None,
    python: str | None = None,
    force: bool = False,
    report: Callable[[str], None] = print,
) -> list[BuiltFunction]:
    """Build every function's zip; BuildError if one is over MAX_ZIP_BYTES (after all are built)."""
    out_dir = out or root / "build"
    manifest = load_manifest(root / "serverless.yml")
    version = runtime_version(manifest)
    pins.check_pins(root)  # before any download: requirements.txt against the lock
    interpreter = find_interpreter(version, explicit=python)
    out_dir.mkdir(parents=True, exist_ok=True)
    with _exclusive(out_dir / ".lock"):
        deps = build_dependencies(root, out_dir, version, interpreter)
        context = BuildContext(root, out_dir, manifest, version, interpreter, deps, deps.name)
        built = [build_function(context, name, force) for name in discover_functions(root)]
    vendored = lockfile.load_vendored(pins.vendored_file(deps))
    for item in built:
        bom = pins.write_bom(item.zip_path, item.version, vendored)
        report(describe(item, root))
        report(f"  shared: {contents_summary(shipped_modules(root, item.name))}")
        report(f"  vendored: {lockfile.summary(vendored)} (list: {_shown(bom, root)})")
    too_big = [item for item in built if item.size > MAX_ZIP_BYTES]
    if too_big:
        names = ", ".join(f"{item.name} ({item.size:,} bytes)" for item in too_big)
        raise BuildError(f"over the {MAX_ZIP_BYTES:,}-byte budget: {names}")
    return built


def _shown(path: Path, root: Path) -> Path:
    return path.relative_to(root) if path.is_relative_to(root) else path


def describe(item: BuiltFunction, root: Path) -> str:
    """One line per zip: path, size, runtime, whether it was rebuilt."""
    path = _shown(item.zip_path, root)
    state = "built" if item.rebuilt else "up to date"
    size = f"{item.size:,} bytes ({item.size / 1e6:.2f} MB)"
    return f"{path}: {size}, Python {dotted(item.version)}, {state}"


def main(argv: Sequence[str] | None = None) -> int:
    """CLI: python -m deploy.package [--python PATH] [--out DIR] [--force]."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--python", help="interpreter of the SCF runtime's version (else looked up)"
    )
    parser.add_argument("--out", type=Path, help="output folder (default: build/)")
    parser.add_argument(
        "--force", action="store_true", help="rebuild even when inputs are unchanged"
    )
    args = parser.parse_args(argv)
    try:
        build_all(out=args.out, python=args.python, force=args.force)
    except BuildError as exc:
        print(f"make package: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
