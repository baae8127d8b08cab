"""Build tooling (deploy/): zip determinism, pruning, interpreter lookup, the CAM policy.

Everything here runs on small synthetic trees in tmp_path; no network, no pip.
"""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import pytest

from deploy import vendor
from deploy.archive import ZIP_DATE_TIME, write_deterministic_zip
from deploy.runtime import BuildError, find_interpreter, runtime_version

ROOT = Path(__file__).resolve().parent.parent


def _write(path: Path, text: str = "") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _tree(base: Path) -> Path:
    _write(base / "index.py", "def main_handler(event, context):\n    return {}\n")
    _write(base / "shared" / "__init__.py", '"""x"""\n')
    _write(base / "shared" / "b.py", "B = 1\n")
    _write(base / "shared" / "a.py", "A = 1\n")
    (base / "tool.so").write_bytes(b"\x7fELF")
    (base / "tool.so").chmod(0o755)
    return base


def test_zip_bytes_do_not_depend_on_mtimes_or_creation_order(tmp_path: Path) -> None:
    first = _tree(tmp_path / "one")
    second = tmp_path / "two"
    for name in ("shared/a.py", "tool.so", "shared/b.py", "index.py", "shared/__init__.py"):
        _write(second / name).write_bytes((first / name).read_bytes())
    (second / "tool.so").chmod(0o755)
    os.utime(second / "index.py", (1_700_000_000, 1_700_000_000))
    write_deterministic_zip(first, tmp_path / "one.zip")
    write_deterministic_zip(second, tmp_path / "two.zip")
    assert (tmp_path / "one.zip").read_bytes() == (tmp_path / "two.zip").read_bytes()
    with zipfile.ZipFile(tmp_path / "one.zip") as archive:
        infos = archive.infolist()
    assert [info.filename for info in infos] == [
        "index.py", "shared/", "shared/__init__.py", "shared/a.py", "shared/b.py", "tool.so",
    ]  # fmt: skip
    assert {info.date_time for info in infos} == {ZIP_DATE_TIME}
    modes = {info.filename: (info.external_attr >> 16) & 0o777 for info in infos}
    assert modes["index.py"] == 0o644 and modes["tool.so"] == 0o755 and modes["shared/"] == 0o755


def test_imported_names_resolve_relative_and_lazy_imports() -> None:
    source = (
        "from . import sibling\n"
        "from ..exception import err\n"
        "import json\n"
        "def later():\n"
        "    from .http import request\n"
    )
    names = vendor.imported_names(source, "pkg.common.client", is_package=False)
    assert {"pkg.common.sibling", "pkg.exception", "pkg.exception.err", "json"} <= names
    assert {"pkg.common.http", "pkg.common.http.request"} <= names
    assert vendor.imported_names("from . import a\n", "pkg.sub", is_package=True) >= {"pkg.sub.a"}


def test_prune_unreachable_keeps_every_imported_module_and_drops_the_rest(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    _write(pkg / "__init__.py")
    _write(pkg / "common" / "__init__.py")
    _write(pkg / "common" / "credential.py", "from pkg.common.client import Client\n")
    _write(pkg / "common" / "client.py", "def go():\n    from .http.lazy import x\n")
    _write(pkg / "common" / "http" / "__init__.py")
    _write(pkg / "common" / "http" / "lazy.py", "x = 1\n")
    _write(pkg / "common" / "client_async.py", "import asyncio\n")
    _write(pkg / "other" / "__init__.py")
    removed = vendor.prune_unreachable(tmp_path, "pkg", ["pkg.common.credential.Credential"])
    assert removed == ["pkg.common.client_async", "pkg.other"]
    assert (pkg / "common" / "http" / "lazy.py").is_file()
    assert not (pkg / "other").exists()


def test_project_imports_are_the_pruning_roots(tmp_path: Path) -> None:
    source = _write(
        tmp_path / "m.py",
        "import os\nfrom pkg.common.credential import Credential\n"
        "import pkg.x.y\nfrom . import z\n",
    )
    assert vendor.project_imports([source], "pkg") == [
        "pkg.common.credential", "pkg.common.credential.Credential", "pkg.x.y",
    ]  # fmt: skip


def test_distribution_pruning_keeps_licenses_and_pure_twins_only(tmp_path: Path) -> None:
    info = tmp_path / "lib-1.0.dist-info"
    for name in ("METADATA", "RECORD", "LICENSE", "licenses/NOTICE.txt", "entry_points.txt"):
        _write(info / name, "x")
    _write(tmp_path / "bin" / "tool", "#!/bin/sh")
    _write(tmp_path / "lib" / "__init__.pyi", "")
    _write(tmp_path / "lib" / "md.py", "")
    (tmp_path / "lib" / "md.cpython-312-x86_64-linux-gnu.so").write_bytes(b"")
    (tmp_path / "lib" / "fast.cpython-312-x86_64-linux-gnu.so").write_bytes(b"")
    vendor.prune_distribution_files(tmp_path)
    removed = vendor.drop_accelerators_with_pure_twin(tmp_path)
    left = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert left == [
        "lib-1.0.dist-info/LICENSE", "lib-1.0.dist-info/licenses/NOTICE.txt",
        "lib/fast.cpython-312-x86_64-linux-gnu.so", "lib/md.py",
    ]  # fmt: skip
    assert removed == ["lib/md.cpython-312-x86_64-linux-gnu.so"]


def test_runtime_version_needs_one_scf_python_runtime() -> None:
    def manifest(*runtimes: str) -> dict[str, object]:
        return {"instances": {f"f{i}": {"inputs": {"runtime": r}} for i, r in enumerate(runtimes)}}

    assert runtime_version(manifest("Python3.12", "Python3.12")) == (3, 12)
    with pytest.raises(BuildError, match="one runtime"):
        runtime_version(manifest("Python3.12", "Python3.10"))
    with pytest.raises(BuildError, match="not an SCF Python runtime"):
        runtime_version(manifest("Nodejs18.15"))


def test_find_interpreter_order_and_a_clear_error(tmp_path: Path) -> None:
    for patch in ("3.12.1", "3.12.10", "3.12.2", "3.11.7"):
        (tmp_path / "versions" / patch / "bin").mkdir(parents=True)
    versions = {"/usr/bin/python3.12": None, "/custom/py": (3, 11)}
    probed: list[str] = []

    def probe(path: str) -> tuple[int, int] | None:
        probed.append(path)
        return versions.get(path, (3, 12) if "3.12.10" in path else None)

    env = {"PYENV_ROOT": str(tmp_path), "SCF_PYTHON": "/custom/py"}
    found = find_interpreter(
        (3, 12), environ=env, which=lambda name: "/usr/bin/" + name, probe=probe
    )
    assert found == str(tmp_path / "versions" / "3.12.10" / "bin" / "python3.12")
    assert probed[:3] == ["/custom/py", "/usr/bin/python3.12", found]
    hermetic = {"PYENV_ROOT": str(tmp_path), "UV_PYTHON_INSTALL_DIR": str(tmp_path / "uv")}
    with pytest.raises(BuildError, match=r"Python 3\.13 is needed") as error:
        find_interpreter((3, 13), environ=hermetic, which=lambda _: None)
    assert "Python 3.13" in str(error.value) and "SCF_PYTHON" in str(error.value)
    assert "make pythons" in str(error.value)


def test_find_interpreter_takes_what_uv_installed_last(tmp_path: Path) -> None:
    for name in ("cpython-3.13.0-linux-x86_64-gnu", "cpython-3.13.9-linux-x86_64-gnu"):
        (tmp_path / name / "bin").mkdir(parents=True)
    wanted = str(tmp_path / "cpython-3.13.9-linux-x86_64-gnu" / "bin" / "python3.13")
    env = {"PYENV_ROOT": str(tmp_path / "none"), "UV_PYTHON_INSTALL_DIR": str(tmp_path)}
    found = find_interpreter(
        (3, 13), environ=env, which=lambda _: None, probe=lambda p: (3, 13) if p == wanted else None
    )
    assert found == wanted


def test_cam_policy_is_least_privilege_on_placeholders() -> None:
    policy = json.loads((ROOT / "deploy" / "cam-policy.json").read_text(encoding="utf-8"))
    assert policy["version"] == "2.0"
    grants = {
        action: statement["resource"]
        for statement in policy["statement"]
        for action in statement["action"]
        if statement["effect"] == "allow"
    }
    cos = ["qcs::cos:<region>:uid/<appid>:<bucket>/*"]
    ci = ["qcs::ci:<region>:uid/<appid>:bucket/<bucket>/*"]
    batches = ["qcs::cos:<region>:uid/<appid>:<bucket>/.media-tagger/batches/*"]
    assert grants == {
        "ci:CreateMediaJobs": ci, "ci:DescribeMediaJob": ci, "ci:DescribeMediaJobs": ci,
        "ci:DescribeMediaQueues": ci,  # the QueueId hedge's one lookup (GET /queue)
        "ci:DescribeInventoryTriggerJob": ci,  # the timer drains batch backfills
        "cos:GetObject": batches, "cos:PutObject": batches,  # their records, nothing else
        "cos:HeadObject": cos, "cos:GetObjectTagging": cos, "cos:PutObjectTagging": cos,
        "cos:GetBucket": cos, "cam:PassRole": ["qcs::cam::uin/<owner-uin>:roleName/CI_QCSRole"],
        # the upload function hands records on by invoking itself, and nothing else
        "scf:InvokeFunction": [
            "qcs::scf:<region>:uin/<owner-uin>:namespace/<namespace>/function/<upload-function>"
        ],
    }  # fmt: skip
