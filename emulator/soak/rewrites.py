"""Objects the soak rewrites while their first job is queued (issue 10's orderings).

Some media objects of the plan are written more than once, back to back by the same uploader
thread, so the job submitted for an earlier write usually runs after a later one (CI reads the
object when the job runs, not when it was submitted):

- ``recreate-same``: A, delete, A again (the same bytes: the same ETag and size);
- ``recreate-other``: B (other media), delete, A;
- ``aba``: A, B, A (overwrites: the last ETag equals the first).

The object's last content is always the planned sample A, so its expected tags stay the ones
computed from ffprobe's JSON of A (``emulator.soak.plan``): the oracle expects the tags of the
current content, whatever the earlier jobs read or in which order their callbacks come. Pure
planning: no I/O.
"""

from __future__ import annotations

from dataclasses import replace

from emulator.soak.plan import MEDIA, PlannedObject

EVERY = 20
SLOTS = {1: "recreate-same", 5: "recreate-other", 9: "aba"}  # index % EVERY -> rewrite


def _other(data: bytes, candidates: list[bytes]) -> bytes:
    """The first candidate whose bytes differ from ``data``."""
    return next(candidate for candidate in candidates if candidate != data)


def history_for(rewrite: str, data: bytes, other: bytes) -> tuple[bytes | None, ...]:
    """The writes before the last write of ``data`` (None = DELETE Object)."""
    if rewrite == "recreate-same":
        return (data, None)
    if rewrite == "recreate-other":
        return (other, None)
    if rewrite == "aba":
        return (data, other)
    raise ValueError(f"unknown rewrite {rewrite!r}")


def with_rewrites(planned: list[PlannedObject]) -> list[PlannedObject]:
    """``planned`` with the rewrites applied to the media objects in the ``SLOTS`` (multipart
    objects stay single writes); the others unchanged."""
    media = [item.data for item in planned if item.kind == MEDIA and not item.parts]
    distinct = list(dict.fromkeys(media))
    if len(distinct) < 2:
        return planned  # no "other bytes" to write
    rewritten = []
    for index, item in enumerate(planned):
        rewrite = SLOTS.get(index % EVERY)
        if rewrite is None or item.kind != MEDIA or item.parts:
            rewritten.append(item)
            continue
        history = history_for(rewrite, item.data, _other(item.data, distinct))
        rewritten.append(replace(item, history=history, rewrite=rewrite))
    return rewritten


def rewrite_counts(planned: list[PlannedObject]) -> dict[str, int]:
    """How many objects got each rewrite (for the report)."""
    counts: dict[str, int] = {}
    for item in planned:
        if item.rewrite:
            counts[item.rewrite] = counts.get(item.rewrite, 0) + 1
    return counts
