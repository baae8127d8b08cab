"""Deterministic zip files: the same tree gives the same bytes on any machine, at any time.

Entries are sorted by archive name, directories included; every entry carries one fixed
timestamp, Unix modes (0644, or 0755 for directories and executables) and maximum deflate.
Nothing else about the build machine (owner, mtime, umask, file creation order) gets in.
"""

from __future__ import annotations

import os
import stat
import zipfile
from pathlib import Path

ZIP_DATE_TIME = (2000, 1, 1, 0, 0, 0)
_UNIX = 3
_MSDOS_DIRECTORY = 0x10


def _archive_name(tree: Path, path: Path) -> str:
    name = path.relative_to(tree).as_posix()
    return name + "/" if path.is_dir() else name


def _entry(name: str, path: Path) -> zipfile.ZipInfo:
    is_dir = path.is_dir()
    info = zipfile.ZipInfo(name, ZIP_DATE_TIME)
    info.create_system = _UNIX  # so the modes below are honoured on extraction
    mode = 0o755 if is_dir or os.access(path, os.X_OK) else 0o644
    info.external_attr = ((stat.S_IFDIR if is_dir else stat.S_IFREG) | mode) << 16
    if is_dir:
        info.external_attr |= _MSDOS_DIRECTORY
    info.compress_type = zipfile.ZIP_STORED if is_dir else zipfile.ZIP_DEFLATED
    return info


def write_deterministic_zip(tree: Path, destination: Path) -> None:
    """Zip the contents of ``tree`` into ``destination`` (written atomically)."""
    temporary = destination.with_name(destination.name + ".tmp")
    entries = sorted((_archive_name(tree, path), path) for path in tree.rglob("*"))
    with zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, path in entries:
            data = b"" if path.is_dir() else path.read_bytes()
            archive.writestr(_entry(name, path), data, compresslevel=9)
    temporary.replace(destination)
