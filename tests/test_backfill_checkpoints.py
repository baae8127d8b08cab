"""Batched checkpoints lose at most ``max_redone(concurrency)`` objects to a kill.

A kill (SIGKILL, a crash) leaves exactly the state file as last renamed into place: nothing of the
process survives. So a kill at any instant is modelled by reading the state file at that instant.
Here every object's first request (its duplicate check, GET ?tagging) reads the file: the objects
already started whose key lies beyond the file's ``last_key`` are the ones a resumed run would
handle again. Over a 600-object bucket with 16 threads the worst instant must stay within the
documented bound, and must show that checkpoints are batched (more than the threads alone).
A real kill -9 of the command is in tests/test_backfill_e2e.py.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from shared.models import ObjectRef, TagSet
from shared.ops import backfill as backfill_module
from shared.ops.backfill import max_redone
from shared.ops.checkpoint import load_state
from tests.fakes import FakeObjectStore
from tests.test_backfill_run import backfill_jobs, etag_of, make_backfill

KEYS = [f"videos/{number:04d}.mp4" for number in range(600)]
CONCURRENCY = 16


class KillWatch(FakeObjectStore):
    """A bucket of KEYS that, at each object's first request, reads what a kill would leave."""

    def __init__(self, state_file: Path) -> None:
        super().__init__(page_size=50, forbid=("put_tagging",))
        self.state_file = state_file
        self.started: list[str] = []
        self.worst_redone = 0
        self._lock = threading.Lock()
        for key in KEYS:
            self.add(key, etag_of(key), 100)

    def get_object_tagging(self, obj: ObjectRef, *, deadline: float | None = None) -> TagSet:
        with self._lock:
            self.started.append(obj.key)
            saved = load_state(self.state_file)
            last = saved.last_key if saved is not None else None
            redone = sum(1 for key in self.started if last is None or key > last)
            self.worst_redone = max(self.worst_redone, redone)
        return super().get_object_tagging(obj, deadline=deadline)


def test_a_kill_at_any_instant_redoes_at_most_the_documented_number(tmp_path: Path) -> None:
    state_file = tmp_path / "state.json"
    store = KillWatch(state_file)
    result = make_backfill(store, backfill_jobs(), state_file, concurrency=CONCURRENCY).run()
    assert result.state.complete and result.tally.counts["submitted"] == len(KEYS)
    assert sorted(store.started) == KEYS  # each object started once
    bound = max_redone(CONCURRENCY)
    assert bound == backfill_module.SAVE_EVERY_OBJECTS + 2 * CONCURRENCY == 132
    assert store.worst_redone <= bound
    # Batched: between two writes more objects start than the threads hold at once.
    assert store.worst_redone > 2 * CONCURRENCY


@pytest.mark.parametrize("concurrency", [1, 4])
def test_the_bound_holds_for_other_thread_counts(tmp_path: Path, concurrency: int) -> None:
    state_file = tmp_path / "state.json"
    store = KillWatch(state_file)
    make_backfill(store, backfill_jobs(), state_file, concurrency=concurrency).run()
    assert 2 * concurrency < store.worst_redone <= max_redone(concurrency)
