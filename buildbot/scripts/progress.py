"""Progress of the long database commands (`upgrade-master`, `cleanupdb`, `copy-db`) on
stderr.

Their stdout keeps 4.3's lines (scripts parse them); progress is extra, for a person
watching a run that may take hours on a big database. On a terminal it is a tqdm bar
(counts, rate, time left, what is being worked on); anywhere else (a pipe, a log file, CI)
bars would fill the file with carriage returns, so plain lines are written instead:

    copy-db: 3/42 tables, 120000/950000 rows (12%), copying logchunks, about 4 min left

A plain line is written at most every `interval` seconds, plus the last one (100%), so a
fast run prints little and a slow one shows it is alive. Nothing is written with `-q`.

The database layer never sees this class: it reports through plain callables
(`rows_done(n)`, `chunks_done(n, saved)`) that the commands bind to a `Progress`.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from types import TracebackType
from typing import Any, TextIO


class Progress:
    """Counts units of work (`advance(n)`) towards `total` and reports them on `stream`.

    `bar`: None (default) draws a tqdm bar when `stream` is a terminal and plain lines
    otherwise; True or False forces one. `advance` may be called from a database thread:
    the counter and the throttle are guarded by a lock, and each plain line is written in
    one `write` call. `close()` (or leaving a `with` block) ends the bar.
    """

    def __init__(self, command: str, unit: str, total: int = 0, *, quiet: bool = False,
                 stream: TextIO | None = None, interval: float = 1.0,
                 clock: Callable[[], float] = time.monotonic, bar: bool | None = None) -> None:
        self.command = command
        self.unit = unit
        self._total = total
        self.done = 0
        self.quiet = quiet
        self._stream = stream
        self._interval = interval
        self._clock = clock
        self._started = clock()
        self._last_line = float("-inf")
        self._detail = ""
        self._context = ""
        self._lock = threading.Lock()
        self._want_bar = bar
        self._bar: Any = None  # a tqdm, made at the first count (tqdm draws when made)
        self._closed = False

    @property
    def stream(self) -> TextIO:
        # sys.stderr looked up late: tests and callers may replace it after construction.
        return self._stream if self._stream is not None else sys.stderr

    @property
    def total(self) -> int:
        """Units expected in all (0: unknown, counts are shown without a percentage)."""
        return self._total

    @total.setter
    def total(self, value: int) -> None:
        with self._lock:
            self._total = value
            if self._bar is not None:
                self._bar.total = value or None
                self._bar.refresh()

    @property
    def draws_bar(self) -> bool:
        """Whether this reports with a bar (not quiet, and a terminal unless forced)."""
        if self.quiet:
            return False
        if self._want_bar is not None:
            return self._want_bar
        isatty = getattr(self.stream, "isatty", None)
        try:
            return bool(isatty is not None and isatty())
        except ValueError:  # a closed stream
            return False

    def _the_bar(self) -> Any:
        # Called with the lock held.
        if self._bar is None:
            from tqdm import tqdm

            self._bar = tqdm(total=self._total or None, initial=self.done, unit=self.unit,
                             desc=f"{self.command} {self._context}".strip(), file=self.stream,
                             dynamic_ncols=True,
                             mininterval=0.2, leave=True)
        return self._bar

    def note(self, text: str) -> None:
        """Write a phase line at once (`cleanupdb: compacting the database ...`)."""
        if self.quiet:
            return
        line = f"{self.command}: {text}"
        with self._lock:
            bar = self._bar
        if bar is not None:
            bar.write(line, file=self.stream)  # above the bar, which is redrawn below
        else:
            self.stream.write(line + "\n")
            self.stream.flush()

    def set_detail(self, detail: str) -> None:
        """What is being worked on now (shown at the end of the next line)."""
        with self._lock:
            self._detail = detail
            if self._bar is not None:
                self._bar.set_postfix_str(detail, refresh=False)

    def set_context(self, context: str) -> None:
        """What goes before the counts from now on (e.g. `3/42 tables`)."""
        with self._lock:
            self._context = context
            if self._bar is not None:
                self._bar.set_description_str(f"{self.command} {context}".strip(), refresh=False)

    def advance(self, n: int = 1, context: str | None = None) -> None:
        """`n` more units are done; `context`, if given, replaces what goes before the
        counts (as `set_context`)."""
        if context is not None:
            self.set_context(context)
        if self.draws_bar:
            with self._lock:
                if self._closed:  # a DB thread finishing its batch after an interruption
                    self.done += n
                    return
                bar = self._the_bar()  # before counting: it starts from `done`
                self.done += n
                bar.set_postfix_str(self._detail, refresh=False)
                bar.update(n)
            return
        with self._lock:
            self.done += n
            now = self._clock()
            finished = self._total > 0 and self.done >= self._total
            if self.quiet or (not finished and now - self._last_line < self._interval):
                return
            self._last_line = now
            line = self._line(now, self._context)
        self.stream.write(line)
        self.stream.flush()

    def close(self) -> None:
        """End the bar, leaving it drawn at its last state; later counts draw nothing
        more (phase lines still are written). Plain lines need nothing."""
        with self._lock:
            bar, self._bar = self._bar, None
            self._closed = True
        if bar is not None:
            bar.close()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def _line(self, now: float, context: str) -> str:
        parts = [context] if context else []
        if self._total > 0:
            share = min(self.done, self._total) / self._total
            parts.append(f"{self.done}/{self._total} {self.unit} ({int(share * 100)}%)")
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
        if self._total <= 0 or self.done <= 0 or self.done >= self._total or elapsed < 1:
            return None
        seconds = elapsed * (self._total - self.done) / self.done
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
        progress.close()
