"""Backfill's vocabulary: what it works on, how it counts outcomes, and what a run returns.

``category_of`` maps the upload path's outcome of one object to a backfill category
(``retry``: failed transiently, kept in the state file and tried again first next run);
``log_summary`` writes the run's one summary decision line. Plain values otherwise: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shared.decision_log import DecisionLog
from shared.ops.checkpoint import BackfillState
from shared.ops.progress import ProgressPoint
from shared.ops.wait import SubmittedJob, WaitReport
from shared.records import record
from shared.upload.service import DRY_RUN_REASON, RecordOutcome, Skipped, Submitted

CATEGORIES = ("submitted", "would_submit", "already_tagged", "filtered", "gone", "failed", "retry")


def category_of(outcome: RecordOutcome) -> str:
    if isinstance(outcome, Submitted):
        return "submitted"
    if isinstance(outcome, Skipped):
        named = {DRY_RUN_REASON: "would_submit", "already-tagged": "already_tagged"}
        return named.get(outcome.reason, "gone" if outcome.reason == "object-gone" else "filtered")
    return "failed" if outcome.permanent else "retry"


@dataclass
class BackfillTally:
    """What this run did, per category (``retry``: failed transiently, tried again next run)."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(CATEGORIES, 0))

    @property
    def handled(self) -> int:
        return sum(self.counts.values())

    def add(self, category: str) -> None:
        self.counts[category] += 1

    def point(self, total: int | None) -> ProgressPoint:
        shown = [(name.replace("_", " "), n) for name, n in self.counts.items() if n]
        return ProgressPoint(self.handled, total, self.counts["submitted"], shown)


@record
class BackfillTarget:
    """A bucket (and prefix) to list, or ``keys`` to handle by name (no listing, no checkpoint)."""

    bucket: str
    region: str
    prefix: str = ""
    keys: tuple[str, ...] = ()


@record
class BackfillResult:
    tally: BackfillTally
    state: BackfillState
    interrupted: bool = False
    stopped_early: bool = False  # --max-objects reached
    already_complete: bool = False
    submitted: tuple[SubmittedJob, ...] = ()  # this run's jobs, for the wait
    wait: WaitReport | None = None  # None: not waited (--no-wait, dry run, interrupted)


def log_summary(
    log: DecisionLog,
    target: BackfillTarget,
    tally: BackfillTally,
    state: BackfillState,
    *,
    reason: str | None,
    ms: int,
) -> None:
    """The run's last decision line: what it did, where it stopped and why."""
    counts: dict[str, Any] = dict(tally.counts)
    log.decision(
        "backfill-summary",
        bucket=target.bucket,
        reason=reason,
        ms=ms,
        prefix=target.prefix,
        complete=state.complete,
        last_key=state.last_key,
        retry_keys=len(state.retry_keys),
        **counts,
    )
