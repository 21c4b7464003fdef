"""Follow `twistd.log` and tell how a master's start-up or reconfiguration ended.

Used by `buildbot start`, `restart` and `reconfig`. The file is read by polling from
Python (no `tail` process): lines written after `LogWatcher.watch()` starts are examined;
a rotated or truncated file is followed from its beginning.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from twisted.internet import defer

#: Lines that prove the master is making progress: each one restarts the timeout.
PROGRESS_MARKERS = (
    b"Starting BuildMaster",
    b"Loading configuration from",
    b"added builder",
    b"adding scheduler",
    b"Loading builder",
    b"Starting factory",
)
#: After one of these lines every following line is echoed.
ECHO_MARKERS = (b"Log opened.", b"beginning configuration update")


class BuildmasterTimeoutError(Exception):
    """No progress line was seen for a whole timeout interval."""


class BuildmasterStartupError(Exception):
    """The master logged that its start-up failed."""


class ReconfigError(Exception):
    """The master logged that a (re)configuration failed or that it shut down."""


class ProcessDiedError(Exception):
    """The watched process went away without logging how it ended."""


def classify_line(line: bytes) -> str | Exception | None:
    """What a log line says about the outcome: a success kind, an exception, or None.

    The reference also ends the watch with success on "message from master: attached", a
    worker's line: in a master's log it comes from a LocalWorker, often before the master
    has finished (or failed) starting, so it is not an outcome here.
    """
    if b"configuration update aborted" in line or b"configuration update partially applied" in line:
        return ReconfigError()
    if b"Server Shut Down" in line:
        return ReconfigError()
    if b"configuration update complete" in line or b"BuildMaster is running" in line:
        return "buildmaster"
    if b"BuildMaster startup failed" in line:
        return BuildmasterStartupError()
    return None


class LogWatcher:
    """Watch one log file until a line tells how start-up or a reconfig ended.

    `timeout` is the longest time without a progress line; `still_alive`, if given, is
    asked after each read and ends the watch with ProcessDiedError once it returns False.
    """

    POLL_INTERVAL = 0.05
    TIMEOUT_DELAY = 10.0
    MAX_LINE_LENGTH = 16384

    def __init__(
        self,
        logfile: str,
        timeout: float | None = None,
        clock: Any = None,
        echo: Callable[[str], None] = print,
        still_alive: Callable[[], bool] | None = None,
    ) -> None:
        if clock is None:
            from twisted.internet import reactor as clock
        self.logfile = logfile
        self.timeout = timeout or self.TIMEOUT_DELAY
        self._clock = clock
        self._echo = echo
        self._still_alive = still_alive
        self._echoing = False
        self._buffer = b""
        self._file: Any = None
        self._ident: tuple[int, int] | None = None
        self._done: defer.Deferred[str] | None = None
        self._poll_call: Any = None
        self._timer: Any = None

    def open(self) -> None:
        """Start following the file at its current end (creating it if absent).

        Call it before the event that writes the lines of interest (spawning the master,
        sending SIGHUP) so that none is missed; `watch()` calls it when that was not done.
        """
        if self._file is not None:
            return
        if not os.path.exists(self.logfile):
            with open(self.logfile, "a", encoding="utf-8"):
                pass
        self._file = open(self.logfile, "rb")  # noqa: SIM115  # closed in _finish
        self._file.seek(0, os.SEEK_END)
        self._ident = self._identity(self._file.fileno())

    async def watch(self) -> str:
        """Wait for the outcome: "buildmaster" on success.

        Raises BuildmasterTimeoutError, ReconfigError, BuildmasterStartupError or
        ProcessDiedError; OSError if the file cannot be opened.
        """
        self.open()
        self._done = defer.Deferred()
        self._timer = self._clock.callLater(self.timeout, self._timed_out)
        self._schedule_poll()
        return await self._done

    def stop(self) -> None:
        """Abandon the watch: a pending `watch()` raises CancelledError."""
        self._finish(defer.CancelledError())
        if self._file is not None:
            self._file.close()
            self._file = None

    # -- internals ---------------------------------------------------------------------------

    @staticmethod
    def _identity(fd: int) -> tuple[int, int]:
        st = os.fstat(fd)
        return st.st_dev, st.st_ino

    def _schedule_poll(self) -> None:
        self._poll_call = self._clock.callLater(self.POLL_INTERVAL, self._poll)

    def _poll(self) -> None:
        self._poll_call = None
        try:
            self._read_available()
            gone = self._still_alive is not None and not self._still_alive()
            if gone and self._done is not None:
                self._read_available()  # the last words of the process, if any
                if self._done is not None:
                    self._finish(ProcessDiedError())
        except OSError as e:
            self._finish(e)
        if self._done is not None:
            self._schedule_poll()

    def _read_available(self) -> None:
        assert self._file is not None
        while self._done is not None:
            chunk = self._file.read(65536)
            if chunk:
                self._data_received(chunk)
                continue
            if not self._reopen_if_replaced():
                return

    def _reopen_if_replaced(self) -> bool:
        """Switch to a new file at the path after a rotation or truncation; True if switched."""
        try:
            st = os.stat(self.logfile)
        except FileNotFoundError:
            return False  # between rotation and re-creation
        assert self._file is not None
        if (st.st_dev, st.st_ino) != self._ident:
            self._file.close()
            self._file = open(self.logfile, "rb")  # noqa: SIM115  # closed in _finish
            self._ident = self._identity(self._file.fileno())
            return True
        if st.st_size < self._file.tell():
            self._file.seek(0)
            return True
        return False

    def _data_received(self, data: bytes) -> None:
        lines = (self._buffer + data).split(b"\n")
        self._buffer = lines.pop()
        for line in lines:
            if self._done is None:
                return
            line = line.rstrip(b"\r")
            if len(line) > self.MAX_LINE_LENGTH:
                self._echo(f"skipping a very long line in the log ({len(line)} bytes)")
                continue
            self._line_received(line)

    def _line_received(self, line: bytes) -> None:
        if any(marker in line for marker in ECHO_MARKERS):
            self._echoing = True
        if self._echoing:
            self._echo(line.decode("utf-8", "replace"))
        if any(marker in line for marker in PROGRESS_MARKERS) and self._timer is not None:
            self._timer.reset(self.timeout)
        outcome = classify_line(line)
        if outcome is not None:
            self._finish(outcome)

    def _timed_out(self) -> None:
        self._timer = None
        self._finish(BuildmasterTimeoutError())

    def _finish(self, outcome: str | BaseException) -> None:
        done, self._done = self._done, None
        if done is None:
            return
        for call in (self._timer, self._poll_call):
            if call is not None and call.active():
                call.cancel()
        self._timer = self._poll_call = None
        if self._file is not None:
            self._file.close()
            self._file = None
        if isinstance(outcome, BaseException):
            done.errback(outcome)
        else:
            done.callback(outcome)
