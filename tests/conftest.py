"""Suite-wide pytest settings: the tool gate, its summary and the loopback-only network guard.

Tests marked ``e2e`` need ffprobe (the emulator runs it to produce CI MediaInfo); tests that build
zips or run code on an SCF Python need that interpreter (tests/runtimes.py). When
MEDIA_TAGGER_REQUIRE_TOOLS (or CI) requires a tool, its absence fails the run; otherwise the tests
that need it are skipped with the reason, and the terminal summary lists the runtimes not run.
"""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from tests.runtimes import MISSING_RUNTIMES, REQUIRE_TOOLS, required_tools

_LOOPBACK_PREFIXES = ("127.", "::1", "localhost")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if shutil.which("ffprobe") and shutil.which("ffmpeg"):
        return
    needing = [item for item in items if item.get_closest_marker("e2e")]
    if not needing:
        return
    if "ffprobe" in required_tools(os.environ):
        raise pytest.UsageError(
            f"{len(needing)} end-to-end tests need ffmpeg/ffprobe, which is not installed; "
            "run `make ffmpeg` (or apt-get install ffmpeg)"
        )
    skip = pytest.mark.skip(reason="ffmpeg/ffprobe not installed (make ffmpeg installs it)")
    for item in needing:
        item.add_marker(skip)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Name every SCF runtime whose tests did not run, and why (skipped or failed)."""
    if not MISSING_RUNTIMES:
        return
    required = "runtimes" in required_tools(os.environ)
    terminalreporter.section("SCF runtimes not run", sep="=", yellow=not required, red=required)
    for name, reason in sorted(MISSING_RUNTIMES.items(), key=lambda item: _version_key(item[0])):
        terminalreporter.line(f"{name}: {reason}")
    verdict = (
        f"required here ({REQUIRE_TOOLS} or CI): their tests FAILED"
        if required
        else f"their tests were skipped; {REQUIRE_TOOLS}=runtimes (or CI=true) makes this fail"
    )
    terminalreporter.line(verdict)


def _version_key(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in name.rsplit(maxsplit=1)[-1].split("."))


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Refuse any socket connection to a non-loopback address during tests."""
    real_connect = socket.socket.connect

    def guarded_connect(self: socket.socket, address: Any) -> Any:
        host = address[0] if isinstance(address, tuple) else str(address)
        is_ip_family = self.family in (socket.AF_INET, socket.AF_INET6)
        if is_ip_family and not str(host).startswith(_LOOPBACK_PREFIXES):
            raise OSError(f"test tried to reach non-loopback address {host!r}")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    yield
