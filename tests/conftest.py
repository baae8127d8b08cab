"""Suite-wide pytest settings: the ffprobe gate and the loopback-only network guard.

Tests marked ``e2e`` need ffprobe (the emulator runs it to produce CI MediaInfo). Outside CI a
missing ffprobe skips them with a stated reason; under CI or ``make test``
(MEDIA_TAGGER_REQUIRE_FFPROBE=1) it fails the run instead, so a missing tool never hides tests.
"""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Iterator
from typing import Any

import pytest

_LOOPBACK_PREFIXES = ("127.", "::1", "localhost")


def _ffprobe_required() -> bool:
    return bool(os.environ.get("CI")) or os.environ.get("MEDIA_TAGGER_REQUIRE_FFPROBE") == "1"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if shutil.which("ffprobe") and shutil.which("ffmpeg"):
        return
    needing = [item for item in items if item.get_closest_marker("e2e")]
    if not needing:
        return
    if _ffprobe_required():
        raise pytest.UsageError(
            f"{len(needing)} end-to-end tests need ffmpeg/ffprobe, which is not installed; "
            "run `make ffmpeg` (or apt-get install ffmpeg)"
        )
    skip = pytest.mark.skip(reason="ffmpeg/ffprobe not installed (make ffmpeg installs it)")
    for item in needing:
        item.add_marker(skip)


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
