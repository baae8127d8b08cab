"""The runtime code works on every SCF Python from 3.9 to 3.13, not just the one running pytest.

For each version: the runtime dependencies are vendored for it exactly as ``make package`` does
(deploy.package.build_dependencies), then that interpreter, isolated (-I -S: no site-packages, no
environment), imports every module of ``shared`` and every ``functions/*/index.py`` and runs a
smoke of the wire core: every signing vector, both callback fixtures, the tag formatting and the
settings loaders. A missing interpreter is skipped with its reason and named in the terminal
summary, or fails the run where runtimes are required (CI, MEDIA_TAGGER_REQUIRE_TOOLS:
tests/runtimes.py), so a missing tool never hides these tests silently.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from deploy.package import build_dependencies
from deploy.runtime import SCF_PYTHONS
from tests.runtimes import require_python

ROOT = Path(__file__).resolve().parent.parent
VERSIONS = list(SCF_PYTHONS)

SMOKE = r"""
import importlib, json, pathlib, sys
deps, root = sys.argv[1], sys.argv[2]
sys.path[:0] = [deps, root]
root = pathlib.Path(root)
modules = sorted(
    ".".join(p.relative_to(root).with_suffix("").parts).removesuffix(".__init__")
    for p in (root / "shared").rglob("*.py")
    if p.stem != "__main__"
)
functions = (root / "functions").glob("*/index.py")
modules += sorted("functions.%s.index" % p.parent.name for p in functions)
for name in modules:
    importlib.import_module(name)

from shared.tencent.signing import authorization
vectors = json.loads((root / "tests/fixtures/sign_vectors.json").read_text(encoding="utf-8"))
signed = 0
for v in vectors["vectors"] + vectors["doc_examples"]:
    wanted = {h.lower() for h in v["signed_headers"]}
    headers = {k: val for k, val in v["headers"].items() if k.lower() in wanted}
    got = authorization(v["secret_id"], v["secret_key"], v["method"], v["path"], v["params"],
                        headers, v["start"], v["end"])
    assert got == v["authorization"], (v["name"], got)
    signed += 1

from shared.callback.notice import parse_callback_body
notices = [parse_callback_body((root / "tests/fixtures" / name).read_bytes())
           for name in ("ci_callback_mediainfo.json", "ci_callback_mediainfo.xml")]
assert notices[0] == notices[1], "JSON and XML callbacks differ"
info = notices[0].jobs[0].operation.media_info

from shared.media.tag_format import DEFAULT_TAG_FIELDS, media_tags
tags = dict(media_tags(info, DEFAULT_TAG_FIELDS, "media:"))
assert tags["media:resolution"] == "1920x1080", tags

from shared.settings.functions import load_callback_settings
settings = load_callback_settings({"MEDIA_TAGGER_CALLBACK_SECRET": "s" * 32})
assert settings.tag_prefix == "media:"
print("ok %d modules %d vectors %s" % (len(modules), signed, sys.version.split()[0]))
"""


@pytest.mark.parametrize("version", VERSIONS, ids=lambda v: f"py{v[0]}{v[1]}")
def test_runtime_code_runs_on(
    version: tuple[int, int], tmp_path_factory: pytest.TempPathFactory
) -> None:
    python = require_python(version)
    out = tmp_path_factory.mktemp(f"deps{version[0]}{version[1]}")
    deps = build_dependencies(ROOT, out, version, python)
    result = subprocess.run(
        [python, "-I", "-S", "-B", "-c", SMOKE, str(deps), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": os.environ.get("PATH", ""), "PYTHONDONTWRITEBYTECODE": "1"},
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.startswith("ok "), result.stdout
    assert f"{version[0]}.{version[1]}." in result.stdout
