"""One invocation of the upload function: every record of the event, concurrently, within the
deadline; what could not be submitted is handed on, never dropped silently.

The event is a COS trigger event or a hand-on (``shared.upload.handon_event``). Records go through
``UploadService.handle_object`` on a bounded pool (``concurrency`` at once); no record starts after
the deadline, and once CI answers that its queue is full or paused the rest of this invocation's
records are not tried. Records left over (deadline, full or paused queue, throttling, 5xx,
timeouts) are handed on: the function invokes itself asynchronously with them and a ``notBefore``
(``ports.RecordHandOn``; no wait after a deadline, a growing pause after a queue or transient
signal). A chain gives up, with one ERROR line per key naming the recovery command, when it is
older than ``max_age_s`` (queue signals may take hours) or when ``max_fruitless`` generations in
a row resolved nothing for another reason (CI or COS unreachable). Without a hand-on port, or when
the self-invocation fails, ``TransientSubmitError`` makes SCF retry the event as before. Every
record's fate is one decision line. No HTTP here (ports only).
"""

from __future__ import annotations

import logging
import random
import shlex
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, NoReturn

from shared.errors import EventError, MediaTaggerError
from shared.ports import RecordHandOn
from shared.records import record, replace
from shared.upload.cos_event import RecordError, UploadRecord, parse_cos_event
from shared.upload.filters import event_skip
from shared.upload.handon_event import HandOnState, hand_on_events, parse_hand_on_event
from shared.upload.service import (
    DEADLINE_CODE,
    QUEUE_SIGNALS,
    Failed,
    RecordOutcome,
    Skipped,
    Submitted,
    UploadService,
)

# A record is not started later than this before the deadline (at most half the time the
# invocation had): the transport never cuts a read timeout below 0.5 s
# (shared.tencent.transport.MIN_READ_TIMEOUT_S), so a request started later would end past the
# deadline and could push the invocation past its limit, after which SCF runs the event again
# (two chains for the same records). Such a record is handed on at once instead.
MIN_START_S = 0.5

RECOVER_COMMAND = "python -m shared backfill --bucket {bucket} --region {region} --key {key}"


@record
class HandOnPolicy:
    concurrency: int = 8
    max_age_s: float = 24 * 3600.0
    backoff_first_s: float = 2.0
    backoff_max_s: float = 300.0
    max_fruitless: int = 4


class TransientSubmitError(MediaTaggerError):
    """Records could not be submitted nor handed on: SCF's async retry runs the event again."""

    http_status = 503
    retryable = True

    def __init__(self, failed_keys: tuple[str, ...], summary: dict[str, Any]) -> None:
        super().__init__(
            f"{len(failed_keys)} record(s) not submitted, SCF will retry: "
            + ", ".join(repr(key) for key in failed_keys)
        )
        self.failed_keys = failed_keys
        self.summary = summary


def _summary() -> dict[str, Any]:
    names = ("submitted", "skipped", "failed", "handed_on", "unsubmitted")
    return {name: [] for name in names}


class EventRun:
    """Runs one event; one instance per invocation."""

    def __init__(
        self,
        service: UploadService,
        hand_on: RecordHandOn | None,
        policy: HandOnPolicy,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self._service = service
        self._hand_on = hand_on
        self._policy = policy
        self._clock = clock
        self._sleep = sleep
        self._jitter = jitter
        self._log = service.log
        self._blocked: str | None = None  # the queue signal that stopped this invocation
        self._latest_start: float | None = None  # no record starts after this (set by run)
        self._lock = threading.Lock()

    def run(self, event: object, *, deadline: float | None) -> dict[str, Any]:
        """The summary; raises TransientSubmitError when records could not be handed on."""
        started, summary = self._clock(), _summary()
        if deadline is not None:
            self._latest_start = deadline - min(MIN_START_S, max(0.0, deadline - started) / 2)
        try:
            parsed = self._records(event, summary)
            if parsed is not None:
                self._run(*parsed, deadline, summary)
        finally:
            counts: dict[str, Any] = {name: len(items) for name, items in summary.items()}
            ms = round((self._clock() - started) * 1000)
            self._log.decision("invocation-summary", ms=ms, **counts)
        return summary

    def _run(
        self,
        state: HandOnState,
        records: Sequence[UploadRecord],
        deadline: float | None,
        summary: dict[str, Any],
    ) -> None:
        state = self._bounded(state)
        if self._wait_until(state.not_before, deadline):
            self._settle(state, self._submit_all(records, deadline), summary)
            return
        waiting = Failed(state.reason or DEADLINE_CODE, False, "waiting for notBefore")
        following = replace(state, generation=state.generation + 1)  # untried: passed on
        self._hand(following, [(item, waiting) for item in records], summary)

    def _bounded(self, state: HandOnState) -> HandOnState:
        """``state`` with times no later than this chain can have set them: a hand-on event with
        a future ``since`` or a ``notBefore`` beyond the longest pause (a forged or corrupted
        event) would otherwise never expire, or wait forever, one invocation after another."""
        now = self._clock()
        since = min(state.since, now)
        not_before = min(state.not_before, now + self._policy.backoff_max_s)
        if (since, not_before) == (state.since, state.not_before):
            return state
        self._log.decision(
            "hand-on-clamped",
            reason="since or notBefore lies beyond what this function sets",
            level=logging.WARNING,
            generation=state.generation,
        )
        return replace(state, since=since, not_before=not_before)

    # -- intake ------------------------------------------------------------------------------
    def _records(
        self, event: object, summary: dict[str, Any]
    ) -> tuple[HandOnState, tuple[UploadRecord, ...]] | None:
        try:
            handed = parse_hand_on_event(event)
            if handed is not None:
                return handed
            parsed = parse_cos_event(event)
        except EventError as exc:
            reason = f"not-a-cos-event: {exc}"
            summary["skipped"].append({"key": None, "reason": reason})
            self._log.decision("skipped", reason=reason, level=logging.WARNING)
            return None
        records: list[UploadRecord] = []
        for item in parsed:
            if isinstance(item, RecordError):
                reason = f"unreadable-record: {item.problem}"
                summary["skipped"].append({"key": item.key, "reason": reason})
                self._log.decision("skipped", key=item.key, reason=reason, level=logging.WARNING)
                continue
            skip = event_skip(item.event_name)
            if skip is not None:
                self._service.log_outcome(item, Skipped(skip.reason), 0)
                summary["skipped"].append({"key": item.key, "reason": skip.reason})
                continue
            records.append(item)
        return (HandOnState(0, self._clock()), tuple(records)) if records else None

    def _wait_until(self, not_before: float, deadline: float | None) -> bool:
        """Sleep until ``not_before`` if this invocation lasts that long; False when it does not
        (it then sleeps until its deadline, so a chain never spins)."""
        now = self._clock()
        if not_before <= now:
            return True
        if deadline is None or not_before <= deadline:
            self._sleep(not_before - now)
            return True
        self._sleep(max(0.0, deadline - now))
        return False

    # -- submitting ----------------------------------------------------------------------------
    def _submit_all(
        self, records: Sequence[UploadRecord], deadline: float | None
    ) -> list[tuple[UploadRecord, RecordOutcome]]:
        workers = max(1, min(self._policy.concurrency, len(records)))
        if workers == 1:
            return [(item, self._one(item, deadline)) for item in records]
        with ThreadPoolExecutor(workers, thread_name_prefix="submit") as pool:
            outcomes = list(pool.map(lambda item: self._one(item, deadline), records))
        return list(zip(records, outcomes))

    def _one(self, item: UploadRecord, deadline: float | None) -> RecordOutcome:
        blocked = self._blocked
        if blocked is not None:
            return Failed(blocked, False, f"not tried: CI answered {blocked} in this invocation")
        if self._latest_start is not None and self._clock() > self._latest_start:
            return Failed(DEADLINE_CODE, False, "too little time left to start before the deadline")
        outcome = self._service.handle_object(item, deadline=deadline, log_transient=False)
        if isinstance(outcome, Failed) and outcome.code in QUEUE_SIGNALS:
            with self._lock:
                self._blocked = self._blocked or outcome.code
        return outcome

    # -- what is left --------------------------------------------------------------------------
    def _settle(
        self,
        state: HandOnState,
        outcomes: list[tuple[UploadRecord, RecordOutcome]],
        summary: dict[str, Any],
    ) -> None:
        left: list[tuple[UploadRecord, Failed]] = []
        for item, outcome in outcomes:
            if isinstance(outcome, Submitted):
                summary["submitted"].append({"key": item.key, "job_id": outcome.job_id})
            elif isinstance(outcome, Skipped):
                summary["skipped"].append({"key": item.key, "reason": outcome.reason})
            elif outcome.permanent:
                summary["failed"].append({"key": item.key, "code": outcome.code, "permanent": True})
            else:
                left.append((item, outcome))
        if not left:
            return
        codes = {outcome.code for _, outcome in left}
        queue = sorted(codes & QUEUE_SIGNALS)
        progress = len(left) < len(outcomes)
        fruitless = 0 if progress or queue else state.fruitless + 1
        reason = queue[0] if queue else DEADLINE_CODE if codes == {DEADLINE_CODE} else min(codes)
        why = self._give_up_reason(state, fruitless, bool(queue))
        if why is not None:
            self._unsubmitted(state, left, f"{why}:{reason}", summary)
            return
        pause = 0.0 if codes == {DEADLINE_CODE} else self._pause(state.generation)
        last_try = state.since + self._policy.max_age_s  # the chain's last try is at its max age
        not_before = min(self._clock() + pause, last_try)
        following = HandOnState(state.generation + 1, state.since, not_before, fruitless, reason)
        self._hand(following, left, summary)

    def _give_up_reason(self, state: HandOnState, fruitless: int, queue: bool) -> str | None:
        if self._clock() - state.since >= self._policy.max_age_s:
            return "hand-on-expired"
        if not queue and fruitless > self._policy.max_fruitless:
            return "no-progress"
        return None

    def _pause(self, generation: int) -> float:
        """Before the next try: doubling per generation, capped, half of it jittered."""
        policy = self._policy
        base = min(policy.backoff_max_s, policy.backoff_first_s * 2.0 ** min(generation, 20))
        return base * (0.5 + self._jitter() / 2)

    def _hand(
        self,
        following: HandOnState,
        left: Sequence[tuple[UploadRecord, Failed]],
        summary: dict[str, Any],
    ) -> None:
        records = [item for item, _ in left]
        if self._hand_on is None:
            self._retry_by_scf(left, summary, None)
        for event in hand_on_events(following, records):
            try:
                self._hand_on.hand_on(event)
            except MediaTaggerError as exc:
                self._retry_by_scf(left, summary, exc)
        for item in records:
            summary["handed_on"].append({"key": item.key, "generation": following.generation})
            self._log.decision(
                "handed-on",
                bucket=item.bucket,
                key=item.key,
                reason=following.reason,
                generation=following.generation,
                not_before=round(following.not_before, 3),
            )

    def _retry_by_scf(
        self,
        left: Sequence[tuple[UploadRecord, Failed]],
        summary: dict[str, Any],
        cause: MediaTaggerError | None,
    ) -> NoReturn:
        """No hand-on (or it failed): log each record and make SCF retry the whole event."""
        for item, outcome in left:
            summary["failed"].append({"key": item.key, "code": outcome.code, "permanent": False})
            self._service.log_outcome(item, outcome, 0)
        if cause is not None:
            self._log.decision(
                "hand-on-failed",
                reason=f"{type(cause).__name__}: {cause}"[:200],
                level=logging.ERROR,
                keys=[item.key for item, _ in left][:50],
            )
        error = TransientSubmitError(tuple(item.key for item, _ in left), summary)
        raise error from cause

    def _unsubmitted(
        self,
        state: HandOnState,
        left: Sequence[tuple[UploadRecord, Failed]],
        reason: str,
        summary: dict[str, Any],
    ) -> None:
        for item, outcome in left:
            summary["unsubmitted"].append({"key": item.key, "code": outcome.code})
            self._log.decision(
                "unsubmitted",
                bucket=item.bucket,
                key=item.key,
                reason=reason,
                level=logging.ERROR,
                etag=item.etag,
                size=item.size,
                generation=state.generation,
                since=round(state.since, 3),
                recover=recover_command(item),
            )


def recover_command(item: UploadRecord) -> str:
    """The command that submits ``item`` again (the key quoted for a POSIX shell)."""
    return RECOVER_COMMAND.format(bucket=item.bucket, region=item.region, key=shlex.quote(item.key))
