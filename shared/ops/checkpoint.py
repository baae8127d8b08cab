"""Backfill's state file: where a run stopped, so the same command continues after it.

JSON: the bucket, region and prefix it belongs to, ``last_key`` (the last object in listing order
that was fully handled: everything up to and including it is done), ``retry_keys`` (objects that
failed transiently and are tried again first), ``complete`` and cumulative ``totals``. Writes are
atomic: a temporary file in the same folder, then renamed over the old one, so Ctrl-C or a crash
of the process leaves either the old or the new state, never a torn file. ``durable`` adds an
fsync before the rename (survives a power loss too; backfill asks for it about once a second,
as an fsync costs milliseconds and the rename alone is enough against interrupts). A file that is
not a state file, or belongs to another bucket/prefix, is a ConfigError naming it (never guessed
around). No logging here.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from shared.errors import ConfigError
from shared.records import field, record, replace

STATE_FORMAT = "media-tagger-backfill/1"


@record
class BackfillState:
    bucket: str
    region: str
    prefix: str
    last_key: str | None = None
    retry_keys: tuple[str, ...] = ()
    complete: bool = False
    totals: Mapping[str, int] = field(default_factory=dict)

    def after(self, key: str, *, retry: bool) -> BackfillState:
        """The state once ``key`` (the next listed object) is handled; ``retry``: try it again."""
        keys = (*self.retry_keys, key) if retry and key not in self.retry_keys else self.retry_keys
        return replace(self, last_key=key, retry_keys=keys)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": STATE_FORMAT,
            "bucket": self.bucket,
            "region": self.region,
            "prefix": self.prefix,
            "last_key": self.last_key,
            "retry_keys": list(self.retry_keys),
            "complete": self.complete,
            "totals": dict(self.totals),
        }


def _option(path: Path) -> str:
    return f"--state-file {path}"


def _from_json(data: Any) -> BackfillState:
    """ValueError when ``data`` is not a state this version wrote."""
    if not isinstance(data, dict) or data.get("format") != STATE_FORMAT:
        raise ValueError(f"not a {STATE_FORMAT} file")
    text = {name: data.get(name) for name in ("bucket", "region", "prefix")}
    last_key, retry, totals = data.get("last_key"), data.get("retry_keys"), data.get("totals")
    if not all(isinstance(value, str) for value in text.values()):
        raise ValueError("bucket, region and prefix must be strings")
    if last_key is not None and not isinstance(last_key, str):
        raise ValueError("last_key must be a string or null")
    if not isinstance(retry, list) or not all(isinstance(key, str) for key in retry):
        raise ValueError("retry_keys must be a list of strings")
    if not isinstance(totals, dict) or not all(isinstance(n, int) for n in totals.values()):
        raise ValueError("totals must map names to whole numbers")
    return BackfillState(
        bucket=str(text["bucket"]),
        region=str(text["region"]),
        prefix=str(text["prefix"]),
        last_key=last_key,
        retry_keys=tuple(retry),
        complete=data.get("complete") is True,
        totals={str(name): int(n) for name, n in totals.items()},
    )


def load_state(path: Path) -> BackfillState | None:
    """The saved state, or None when there is no file; ConfigError when it is unusable."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(_option(path), f"cannot be read ({exc.strerror})") from exc
    try:
        return _from_json(json.loads(raw.decode("utf-8")))
    except (UnicodeDecodeError, json.JSONDecodeError, ValueError) as exc:
        problem = f"is not a usable backfill state file ({exc}); move it away or delete it"
        raise ConfigError(_option(path), problem) from exc


def check_state_matches(
    path: Path, state: BackfillState, bucket: str, region: str, prefix: str
) -> None:
    """A state file continues only the run it was written for."""
    if (state.bucket, state.region, state.prefix) != (bucket, region, prefix):
        raise ConfigError(
            _option(path),
            f"belongs to bucket {state.bucket} in {state.region} with prefix {state.prefix!r}; "
            "use another state file for this bucket/prefix",
        )


def save_state(path: Path, state: BackfillState, *, durable: bool = True) -> None:
    """Atomically replace ``path`` with ``state`` (temp file [+ fsync] + rename)."""
    save_json_atomically(path, state.to_json(), durable=durable)


def save_json_atomically(path: Path, document: Any, *, durable: bool = True) -> None:
    """Atomically replace ``path`` with ``document`` as JSON (temp file [+ fsync] + rename)."""
    directory = path.parent if str(path.parent) else Path(".")
    directory.mkdir(parents=True, exist_ok=True)  # the per-user state directory on first use
    fd, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(document, out, ensure_ascii=False, indent=1)
            out.write("\n")
            out.flush()
            if durable:
                os.fsync(out.fileno())
        os.replace(temp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        raise
