"""An opt-in cache of ffprobe answers by content, so many copies of one file cost one ffprobe.

ffprobe is the emulator's cost per MediaInfo job (a process start, tens of milliseconds); a batch
of thousands of objects that share a few sample files would spend minutes on identical answers.
The answer depends on the bytes alone (ffprobe reads the content, never the name: see
``emulator.ci.probe``), so it is kept per SHA-256 of the object's bytes, failures included, and a
job sees exactly what a fresh ffprobe run would have printed. Off by default (the server's
``probe_cache`` option); no HTTP and no job state here.
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path
from typing import Union

from emulator.ci.probe import MediaProbeError, probe_media_info
from emulator.xmlreply import XmlNode

_Answer = Union[list[XmlNode], MediaProbeError]
_CHUNK = 1024 * 1024


def _digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while chunk := source.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class ProbeCache:
    """``probe`` has ``probe_media_info``'s signature; ``hits`` counts answers from the cache.
    Concurrent jobs on one content wait for the one ffprobe run instead of starting their own."""

    def __init__(self) -> None:
        self._answers: dict[str, _Answer] = {}
        self._running: dict[str, threading.Event] = {}
        self._lock = threading.Lock()
        self.hits = 0

    def probe(self, ffprobe: str, media: Path, timeout_s: float) -> list[XmlNode]:
        key = _digest(media)
        while True:
            with self._lock:
                known = self._answers.get(key)
                running = self._running.get(key)
                if known is not None:
                    self.hits += 1
                    break
                if running is None:
                    self._running[key] = threading.Event()
                    break
            running.wait(timeout_s)
        if known is None:
            known = self._run(key, ffprobe, media, timeout_s)
        if isinstance(known, MediaProbeError):
            raise MediaProbeError(known.code, known.message)
        return list(known)

    def _run(self, key: str, ffprobe: str, media: Path, timeout_s: float) -> _Answer:
        """One ffprobe run for ``key``; whatever happens, the jobs waiting for it go on."""
        try:
            answer: _Answer
            try:
                answer = probe_media_info(ffprobe, media, timeout_s)
            except MediaProbeError as exc:
                answer = exc
            with self._lock:
                self._answers[key] = answer
            return answer
        finally:
            with self._lock:
                self._running.pop(key).set()
