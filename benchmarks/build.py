"""Both implementations' deploy zips, built the same way for the SCF runtime, with .pyc.

Ours comes from ``deploy.package.build_all`` (exactly what ``make package`` ships). The SDK-based
reference is built here with the same machinery (deploy.vendor's wheel install flags and pruning,
deploy.bytecode's pycs by the runtime's own Python, deploy.archive's deterministic zip), because
``build_all`` reads the project's own requirements. One difference is forced: crcmod is published
as an sdist only, so it is compiled by the runtime's Python instead of fetched as a wheel.
Results are cached under build/bench/ keyed by a hash of every input. ``unpack`` extracts a zip
the way SCF does into /var/user. This module never edits the project's sources or build/ zips.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

from deploy import package, vendor
from deploy.archive import write_deterministic_zip
from deploy.bytecode import DEPENDENCY_PYC_MODE, PROJECT_PYC_MODE, compile_tree
from deploy.runtime import BuildError, dotted, find_interpreter, load_manifest, runtime_version

ROOT = Path(__file__).resolve().parent.parent
SDK_DIR = Path(__file__).resolve().parent / "sdk_reference"
FUNCTIONS = ("submit_on_upload", "tag_on_callback")
IMPLEMENTATIONS = ("ours", "sdk")
SDK_HANDLERS = {"submit_on_upload": "submit_index.py", "tag_on_callback": "callback_index.py"}
SOURCE_ONLY = frozenset({"crcmod"})  # no wheel on PyPI: built by the runtime's interpreter
_MARKER = ".bench-build-key"


@dataclass(frozen=True)
class Runtime:
    """The SCF runtime's Python (serverless.yml) and a local interpreter of that version."""

    version: tuple[int, int]
    python: str


@dataclass(frozen=True)
class BuiltZip:
    implementation: str  # "ours" or "sdk"
    function: str
    path: Path
    size: int


def find_runtime(root: Path = ROOT) -> Runtime:
    version = runtime_version(load_manifest(root / "serverless.yml"))
    return Runtime(version, find_interpreter(version))


def build_ours(runtime: Runtime, root: Path = ROOT) -> dict[str, BuiltZip]:
    built = package.build_all(root=root, python=runtime.python, report=lambda line: None)
    return {
        item.name: BuiltZip("ours", item.name, item.zip_path, item.size)
        for item in built
        if item.name in FUNCTIONS
    }


def _pins(requirements: Path) -> list[str]:
    lines = requirements.read_text(encoding="utf-8").splitlines()
    return [line.split("#", 1)[0].strip() for line in lines if line.split("#", 1)[0].strip()]


def _run(command: list[str], what: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BuildError(f"{what} failed:\n{done.stderr[-4000:]}")


def install_sdk_dependencies(site: Path, runtime: Runtime) -> None:
    """cos-python-sdk-v5 and its pinned dependencies into ``site``, pruned and compiled."""
    pins = _pins(SDK_DIR / "requirements.txt")
    wheels = [pin for pin in pins if pin.split("==")[0].lower() not in SOURCE_ONLY]
    sources = [pin for pin in pins if pin.split("==")[0].lower() in SOURCE_ONLY]
    common = ["--quiet", "--disable-pip-version-check", "--no-compile", "--no-deps"]
    _run(
        [sys.executable, "-m", "pip", "install", *common, "--target", str(site),
         "--platform", vendor.PLATFORM, "--python-version", dotted(runtime.version),
         "--implementation", "cp", "--only-binary=:all:", *wheels],
        "pip install of the SDK's wheels",
    )  # fmt: skip
    if sources:
        _run(
            [runtime.python, "-m", "pip", "install", *common, "--target", str(site), *sources],
            f"building {', '.join(sources)} with {runtime.python}",
        )
    vendor.prune_distribution_files(site)
    vendor.prune_platform_only(site)
    vendor.drop_accelerators_with_pure_twin(site)
    tops = sorted(path.name for path in site.iterdir() if not path.name.endswith(".dist-info"))
    compile_tree(runtime.python, site, tops, DEPENDENCY_PYC_MODE)


def _sdk_key(runtime: Runtime) -> str:
    hasher = hashlib.sha256()
    inputs = [SDK_DIR / "requirements.txt", Path(__file__)]
    inputs += sorted(SDK_DIR.glob("*.py")) + sorted((ROOT / "deploy").glob("*.py"))
    for path in inputs:
        hasher.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    hasher.update(dotted(runtime.version).encode())
    return hasher.hexdigest()[:20]


def build_sdk(runtime: Runtime, out: Path | None = None) -> dict[str, BuiltZip]:
    """build/bench/sdk/<function>.zip for both reference handlers (cached by input hash)."""
    folder = out or ROOT / "build" / "bench" / "sdk"
    key = _sdk_key(runtime)
    zips = {name: folder / f"{name}.zip" for name in FUNCTIONS}
    marker = folder / _MARKER
    current = marker.is_file() and marker.read_text() == key
    if not (current and all(path.is_file() for path in zips.values())):
        shutil.rmtree(folder, ignore_errors=True)
        site = folder / "deps"
        site.mkdir(parents=True)
        install_sdk_dependencies(site, runtime)
        for name, zip_path in zips.items():
            tree = folder / name
            shutil.copytree(site, tree)
            shutil.copyfile(SDK_DIR / SDK_HANDLERS[name], tree / "index.py")
            compile_tree(runtime.python, tree, ["index.py"], PROJECT_PYC_MODE)
            write_deterministic_zip(tree, zip_path)
        marker.write_text(key, encoding="utf-8")
    return {name: BuiltZip("sdk", name, path, path.stat().st_size) for name, path in zips.items()}


def unpack(zip_path: Path, destination: Path) -> Path:
    """Extract a function zip into ``destination`` (like SCF into /var/user); returns it."""
    shutil.rmtree(destination, ignore_errors=True)
    destination.mkdir(parents=True)
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(destination)
    return destination
