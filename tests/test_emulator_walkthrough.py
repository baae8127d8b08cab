"""docs/emulator.md's backfill/reconcile walkthrough, run line for line, tags every object.

The shell lines between the page's ``walkthrough:start``/``end`` markers are extracted and run
with ``bash -euo pipefail`` from the repository root, so the page cannot drift from what works.
The harness adds only what a test needs around them: TMPDIR and XDG_STATE_HOME inside the test's
folder (``mktemp -d`` and backfill's state land there), a trap that stops the emulator if a line
fails, and, when the repository has no .venv, this interpreter for ``.venv/bin/python``. Then
the emulator's store, on disk, must hold every uploaded object with a complete set of tags.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from emulator.cos.store import ObjectStore

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "emulator.md"
BLOCK = re.compile(r"<!-- walkthrough:start -->\s*```sh\n(.*?)```\s*<!-- walkthrough:end -->", re.S)
pytestmark = pytest.mark.e2e


def walkthrough_lines() -> str:
    match = BLOCK.search(PAGE.read_text(encoding="utf-8"))
    assert match, "docs/emulator.md lost its walkthrough markers"
    return match.group(1)


def test_the_walkthrough_has_backfill_and_reconcile() -> None:
    lines = walkthrough_lines()
    for needed in ("emulator serve --detach", "shared backfill", "shared reconcile", "kill "):
        assert needed in lines


def test_the_documented_lines_tag_every_object(tmp_path: Path) -> None:
    script = walkthrough_lines()
    if not (ROOT / ".venv" / "bin" / "python").is_file():
        script = script.replace(".venv/bin/python", sys.executable)
    harness = "trap 'kill \"${MEDIA_TAGGER_EMULATOR_PID:-0}\" 2>/dev/null || true' EXIT\n"
    environ = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "TMPDIR": str(tmp_path),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "LANG": "C.UTF-8",
    }
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", harness + script],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    assert "3 written, 0 missing, 0 jobs not finished" in done.stderr
    assert "reconcile: 3 finished jobs, 3 objects: unchanged 3" in done.stderr
    (data,) = tmp_path.glob("tmp.*/emulator")
    store = ObjectStore(data)
    for n in (1, 2, 3):
        stored = store.head("demo-1250000000", f"before/clip {n}.mp4")
        assert stored is not None, n
        tags = dict(stored.tags)
        assert tags["media:status"] == "ok"
        assert tags["media:etag"].split("/")[0] == stored.etag.strip('"')  # ETag/job time/job id
        assert tags["media:resolution"] == "320x240" and tags["media:vcodec"] == "h264"
    assert list((tmp_path / "state" / "cos-media-tagger").glob("backfill-*.state.json"))
