"""The state file of ``backfill --engine ci``: what was planned, written and submitted so far.

JSON, written atomically like the local engine's (``shared.ops.checkpoint.save_state``: temp
file + rename, fsync when asked), so kill -9 leaves the old state or the new one. It records the
plan (bucket, region, where the objects come from, the options), the run id, how far the
manifest got (``after``: the last listed key, or ``<file>:<row>`` in an inventory, whose rows
are all in the ``parts`` already written to the bucket), the plan's counts, the batch being
created (``pending_name``: after a kill between POST and save, the resumed run finds it by name
instead of creating a second one) and the batches created. The drain's own cursor is not here:
it lives in each batch's record in the bucket (``shared.reconcile.batch_record``), where the
reconcile timer reads it too. No I/O beyond reading and replacing the file; ConfigError for a
file this run cannot continue.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from shared.batch_jobs import BatchInput
from shared.errors import ConfigError
from shared.ops.checkpoint import save_json_atomically
from shared.records import field, record

STATE_FORMAT = "media-tagger-batch-backfill/1"
LISTING, PREFIX, MANIFEST = "listing", "prefix", "manifest"
SOURCES = (LISTING, PREFIX, MANIFEST)


@record
class BatchPlan:
    """What the command was asked: the objects' source and the options that shape the batch."""

    bucket: str
    region: str
    source: str  # listing (GET Bucket), prefix (CI lists), manifest (a COS inventory)
    prefixes: tuple[str, ...] = ()
    manifest: str | None = None  # the inventory's manifest.json (URL, cos:// or key)
    as_is: bool = False  # submit the inventory itself, unfiltered
    skip_tagged: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "bucket": self.bucket,
            "region": self.region,
            "source": self.source,
            "prefixes": list(self.prefixes),
            "manifest": self.manifest,
            "as_is": self.as_is,
            "skip_tagged": self.skip_tagged,
        }


@record
class ManifestPart:
    key: str
    size: int
    md5: str
    rows: int


@record
class BatchBackfillState:
    plan: BatchPlan
    run_id: str
    after: str | None = None
    parts: tuple[ManifestPart, ...] = ()
    counts: Mapping[str, int] = field(default_factory=dict)
    planned: bool = False  # every object is in a written part (or none is needed)
    pending_name: str | None = None
    batches: tuple[tuple[str, BatchInput], ...] = ()  # (batch id, input)
    cancelled: bool = False
    complete: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "format": STATE_FORMAT,
            "plan": self.plan.to_json(),
            "run_id": self.run_id,
            "after": self.after,
            "parts": [[p.key, p.size, p.md5, p.rows] for p in self.parts],
            "counts": dict(self.counts),
            "planned": self.planned,
            "pending_name": self.pending_name,
            "batches": [[bid, given.kind, given.value] for bid, given in self.batches],
            "cancelled": self.cancelled,
            "complete": self.complete,
        }


def _plan(data: Any) -> BatchPlan:
    if not isinstance(data, dict) or data.get("source") not in SOURCES:
        raise ValueError("plan must be an object with a known source")
    prefixes = data.get("prefixes", [])
    if not isinstance(prefixes, list) or not all(isinstance(p, str) for p in prefixes):
        raise ValueError("plan.prefixes must be a list of strings")
    return BatchPlan(
        bucket=str(data["bucket"]),
        region=str(data["region"]),
        source=str(data["source"]),
        prefixes=tuple(prefixes),
        manifest=data.get("manifest") if isinstance(data.get("manifest"), str) else None,
        as_is=data.get("as_is") is True,
        skip_tagged=data.get("skip_tagged") is True,
    )


def _from_json(data: Any) -> BatchBackfillState:
    if not isinstance(data, dict) or data.get("format") != STATE_FORMAT:
        raise ValueError(f"not a {STATE_FORMAT} file")
    parts = tuple(ManifestPart(str(k), int(s), str(m), int(r)) for k, s, m, r in data["parts"])
    batches = tuple((str(b), BatchInput(str(k), str(v))) for b, k, v in data["batches"])
    counts = data.get("counts", {})
    if not isinstance(counts, dict) or not all(isinstance(n, int) for n in counts.values()):
        raise ValueError("counts must map names to whole numbers")
    return BatchBackfillState(
        plan=_plan(data.get("plan")),
        run_id=str(data["run_id"]),
        after=data.get("after") if isinstance(data.get("after"), str) else None,
        parts=parts,
        counts={str(name): int(n) for name, n in counts.items()},
        planned=data.get("planned") is True,
        pending_name=data.get("pending_name") or None,
        batches=batches,
        cancelled=data.get("cancelled") is True,
        complete=data.get("complete") is True,
    )


def load_batch_state(path: Path, plan: BatchPlan) -> BatchBackfillState | None:
    """The saved state of this plan, None without a file; ConfigError when it is unusable or
    was written for another plan (another bucket, source, prefixes or manifest)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(f"--state-file {path}", f"cannot be read ({exc.strerror})") from exc
    try:
        state = _from_json(json.loads(raw.decode("utf-8")))
    except (UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        problem = f"is not a usable batch backfill state file ({exc}); move it away or delete it"
        raise ConfigError(f"--state-file {path}", problem) from exc
    if state.plan != plan:
        raise ConfigError(
            f"--state-file {path}",
            f"belongs to another plan ({json.dumps(state.plan.to_json())}); use another file",
        )
    return state


def save_batch_state(path: Path, state: BatchBackfillState, *, durable: bool = True) -> None:
    save_json_atomically(path, state.to_json(), durable=durable)
