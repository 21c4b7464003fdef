"""Progress of the long database commands (`upgrade-master`, `cleanupdb`, `copy-db`) on
stderr.

Their stdout keeps 4.3's lines (scripts parse them); these lines are extra, for a person
watching a run that may take hours on a big database:

    copy-db: 3/42 tables, 120000/950000 rows (12%), copying logchunks, about 4 min left

A line is written at most every `interval` seconds, plus the last one (100%), so a fast
run prints little and a slow one shows it is alive. Nothing is written with `-q`.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TextIO


class Progress:
    """Counts units of work (`advance(n)`) towards `total` and reports them on `stream`.

    `advance` may be called from a database thread: the counter and the throttle are
    guarded by a lock, and each line is written in one `write` call.
    """

    def __init__(self, command: str, unit: str, total: int = 0, *, quiet: bool = False,
                 stream: TextIO | None = None, interval: float = 1.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.command = command
        self.unit = unit
        self.total = total
        self.done = 0
        self.quiet = quiet
        self._stream = stream
        self._interval = interval
        self._clock = clock
        self._started = clock()
        self._last_line = float("-inf")
        self._detail = ""
        self._lock = threading.Lock()

    @property
    def stream(self) -> TextIO:
        # sys.stderr looked up late: tests and callers may replace it after construction.
        return self._stream if self._stream is not None else sys.stderr

    def note(self, text: str) -> None:
        """Write a phase line at once (`cleanupdb: compacting the database ...`)."""
        if not self.quiet:
            self.stream.write(f"{self.command}: {text}\n")
            self.stream.flush()

    def set_detail(self, detail: str) -> None:
        """What is being worked on now (shown at the end of the next line)."""
        with self._lock:
            self._detail = detail

    def advance(self, n: int = 1, context: str = "") -> None:
        """`n` more units are done; `context` goes before the counts (e.g. tables done)."""
        with self._lock:
            self.done += n
            now = self._clock()
            finished = self.total > 0 and self.done >= self.total
            if self.quiet or (not finished and now - self._last_line < self._interval):
                return
            self._last_line = now
            line = self._line(now, context)
        self.stream.write(line)
        self.stream.flush()

    def _line(self, now: float, context: str) -> str:
        parts = [context] if context else []
        if self.total > 0:
            share = min(self.done, self.total) / self.total
            parts.append(f"{self.done}/{self.total} {self.unit} ({int(share * 100)}%)")
        else:
            parts.append(f"{self.done} {self.unit}")
        if self._detail:
            parts.append(self._detail)
        left = self._time_left(now)
        if left is not None:
            parts.append(f"about {left} left")
        return f"{self.command}: {', '.join(parts)}\n"

    def _time_left(self, now: float) -> str | None:
        # Only once there is something to extrapolate from, and never for the last line.
        elapsed = now - self._started
        if self.total <= 0 or self.done <= 0 or self.done >= self.total or elapsed < 1:
            return None
        seconds = elapsed * (self.total - self.done) / self.done
        if seconds < 90:
            return f"{max(1, round(seconds))} s"
        if seconds < 90 * 60:
            return f"{round(seconds / 60)} min"
        return f"{seconds / 3600:.1f} h"


class _MigrationSteps(logging.Handler):
    """Turns alembic's "Running upgrade A -> B, doc" records (logged as a step starts)
    into progress lines: the start of a step is the end of the one before."""

    def __init__(self, progress: Progress, order: Sequence[str]) -> None:
        super().__init__(logging.INFO)
        self.progress = progress
        self.order = list(order)
        self.begun = 0

    def emit(self, record: logging.LogRecord) -> None:
        step = record.args[0] if isinstance(record.args, tuple) and record.args else None
        targets = getattr(step, "to_revisions_no_deps", None)
        if not targets:
            return  # not a migration step record
        target, origin = targets[0], (getattr(step, "from_revisions_no_deps", None) or [""])[0]
        if self.begun == 0 and origin in self.order and target in self.order:
            # The first step tells where the database starts: the rest follow in order.
            self.progress.total = abs(len(self.order) - 1 - self.order.index(origin))
        doc = getattr(step, "doc", "") or ""
        self.progress.set_detail(f"running {origin} -> {target}" + (f" ({doc})" if doc else ""))
        self.progress.advance(1 if self.begun else 0)
        self.begun += 1

    def finish(self) -> None:
        if self.begun:
            self.progress.set_detail("")
            self.progress.advance(1)


@contextmanager
def migration_progress(progress: Progress, order: Sequence[str]) -> Iterator[None]:
    """Report each schema migration alembic runs inside the block (`order`: every revision,
    oldest first)."""
    logger = logging.getLogger("alembic.runtime.migration")
    handler = _MigrationSteps(progress, order)
    previous_level = logger.level
    logger.addHandler(handler)
    if logger.getEffectiveLevel() > logging.INFO:
        logger.setLevel(logging.INFO)
    try:
        yield
        handler.finish()
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous_level)
