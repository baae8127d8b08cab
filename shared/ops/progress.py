"""Progress of a long command: one updating line on a terminal, plain lines otherwise.

On a terminal the line is rewritten in place (carriage return, text cut to the width, erase to
the end of the line) at most every ``redraw_s``; on anything else (a file, a CI log) a plain line
is written every ``interval_s``. Both show counts, the job rate and an ETA extrapolated from the
objects handled so far, and what ``show_also`` adds (backfill: its pace and CI's queue).
``StatusLineGuard`` wraps stdout so that JSON log lines printed while the status line is shown
do not run into it. Writes only to the streams it is given.
"""

from __future__ import annotations

import io
import math
import time
from collections.abc import Callable, Sequence
from typing import TextIO

from shared.records import record

CLEAR_LINE = "\r\x1b[K"


def format_eta(seconds: float | None) -> str:
    """'?' when unknown, else the two largest units: 45s, 3m20s, 2h05m, 3d04h."""
    if seconds is None or math.isnan(seconds) or seconds < 0:
        return "?"
    whole = round(seconds)
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d{hours:02d}h"
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"


@record
class ProgressPoint:
    """Where a run stands: objects handled of ``total`` (None: unknown), jobs sent, counts."""

    done: int
    total: int | None
    jobs: int
    counts: Sequence[tuple[str, int]] = ()


def describe(point: ProgressPoint, elapsed_s: float, extra: Sequence[str] = ()) -> str:
    """'120/480 objects (25%) | submitted 40 | ... | 4.9 jobs/s | <extra> | ETA 1m12s'."""
    if point.total:
        percent = min(100, point.done * 100 // point.total)
        parts = [f"{point.done}/{point.total} objects ({percent}%)"]
    else:
        parts = [f"{point.done} objects"]
    parts += [f"{name} {count}" for name, count in point.counts]
    rate = point.jobs / elapsed_s if elapsed_s > 0 else 0.0
    eta: float | None = None
    if point.total is not None and point.done > 0 and elapsed_s > 0:
        eta = max(0, point.total - point.done) * elapsed_s / point.done
    parts += [f"{rate:.1f} jobs/s", *extra, f"ETA {format_eta(eta)}"]
    return " | ".join(parts)


class Progress:
    """Renders ``ProgressPoint``s to ``stream`` (stderr in the CLI)."""

    def __init__(
        self,
        stream: TextIO,
        *,
        tty: bool,
        clock: Callable[[], float] = time.monotonic,
        width: int = 100,
        redraw_s: float = 0.1,
        interval_s: float = 10.0,
    ) -> None:
        self._stream = stream
        self._tty = tty
        self._clock = clock
        self._width = max(20, width)
        self._every = redraw_s if tty else interval_s
        self._started = clock()
        self._last_shown: float | None = None
        self._line = ""  # what the terminal shows now ("" when nothing)
        self._extra: Callable[[], Sequence[str]] = tuple

    def show_also(self, parts: Callable[[], Sequence[str]]) -> None:
        """More parts for every line, asked for each time one is drawn (e.g. backfill's pace)."""
        self._extra = parts

    def update(self, point: ProgressPoint, *, force: bool = False) -> None:
        now = self._clock()
        if not force and self._last_shown is not None and now - self._last_shown < self._every:
            return
        self._last_shown = now
        text = describe(point, now - self._started, self._extra())
        if self._tty:
            self._line = text[: self._width - 1]
            self._stream.write(CLEAR_LINE + self._line)
        else:
            self._stream.write(text + "\n")
        self._stream.flush()

    def finish(self, point: ProgressPoint) -> None:
        """The last state, always shown; on a terminal the line is then left in place."""
        self.update(point, force=True)
        if self._tty:
            self._stream.write("\n")
            self._stream.flush()
            self._line = ""

    def note(self, text: str) -> None:
        """A message line of its own, above the status line."""
        self.clear()
        self._stream.write(text + "\n")
        self.redraw()

    def clear(self) -> None:
        if self._tty and self._line:
            self._stream.write(CLEAR_LINE)
            self._stream.flush()

    def redraw(self) -> None:
        if self._tty and self._line:
            self._stream.write(CLEAR_LINE + self._line)
        self._stream.flush()


class StatusLineGuard(io.TextIOBase):
    """A stdout stand-in: clears the status line before each write and redraws it after a
    complete line, so log lines and the status line share one terminal cleanly."""

    def __init__(self, target: TextIO, progress: Progress) -> None:
        super().__init__()
        self._target = target
        self._progress = progress

    def write(self, text: str) -> int:
        self._progress.clear()
        written = self._target.write(text)
        self._target.flush()
        if text.endswith("\n"):
            self._progress.redraw()
        return written

    def flush(self) -> None:
        self._target.flush()

    def isatty(self) -> bool:
        return self._target.isatty()
