"""Observers that steps attach to their logs to parse output as it arrives."""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any, ClassVar

from zope.interface import implementer

from buildbot.interfaces import ILogObserver
from buildbot.process.log import LineSplitter


@implementer(ILogObserver)
class LogObserver:
    """Receives a log's text per stream; subclasses override the `*Received` methods."""

    step: Any = None

    def setStep(self, step: Any) -> None:
        self.step = step

    def setLog(self, loog: Any) -> None:
        loog.subscribe(self.gotData, True)

    # stream letter -> the method receiving its text (no letter: stdout)
    _RECEIVERS: ClassVar[dict[str | None, str]] = {
        None: "outReceived", "o": "outReceived", "e": "errReceived", "h": "headerReceived"}

    def gotData(self, stream: str | None, data: str | None) -> None:
        """One chunk of the log (`data` None: the log finished)."""
        if data is None:
            self.finishReceived()
            return
        receiver = self._RECEIVERS.get(stream)
        if receiver is not None:
            getattr(self, receiver)(data)

    def finishReceived(self) -> None:
        pass

    def outReceived(self, data: str) -> None:
        pass

    def errReceived(self, data: str) -> None:
        pass

    def headerReceived(self, data: str) -> None:
        pass

    def logChunk(self, build: Any, step: Any, log: Any, channel: str, text: str) -> None:
        """A hook of 4.3's observer interface; the master does not call it (nor does 4.3)."""


class LogLineObserver(LogObserver):
    """Receives whole lines (without their newline) per stream.

    A subclass may split a stream on something else than newlines by setting
    `stdoutDelimiter`, `stderrDelimiter` or `headerDelimiter`; each chunk is then split on
    its own (trailing whitespace dropped), and pieces longer than the maximum are skipped.
    """

    stdoutDelimiter = "\n"
    stderrDelimiter = "\n"
    headerDelimiter = "\n"

    def __init__(self) -> None:
        self._splitters = {"o": LineSplitter(), "e": LineSplitter(), "h": LineSplitter()}

    def setMaxLineLength(self, max_length: int) -> None:
        for s in self._splitters.values():
            s.max_line_length = max_length

    def _lines(self, stream: str, data: str, handler: Callable[[str], Any]) -> None:
        delimiter = {"o": self.stdoutDelimiter, "e": self.stderrDelimiter,
                     "h": self.headerDelimiter}[stream]
        if delimiter != "\n":
            limit = self._splitters[stream].max_line_length
            for piece in data.rstrip().split(delimiter):
                if limit is None or len(piece) <= limit:
                    handler(piece)
            return
        whole = self._splitters[stream].append_text(data)
        if whole:  # whole lines, each ending in one newline: cut once, nothing added per line
            for line in whole[:-1].split("\n"):
                handler(line)

    def outReceived(self, data: str) -> None:
        self._lines("o", data, self.outLineReceived)

    def errReceived(self, data: str) -> None:
        self._lines("e", data, self.errLineReceived)

    def headerReceived(self, data: str) -> None:
        self._lines("h", data, self.headerLineReceived)

    def finishReceived(self) -> None:
        handlers = {"o": self.outLineReceived, "e": self.errLineReceived,
                    "h": self.headerLineReceived}
        for stream, splitter in self._splitters.items():
            for line in splitter.flush():
                handlers[stream](line.rstrip("\n"))

    def outLineReceived(self, line: str) -> None:
        pass

    def errLineReceived(self, line: str) -> None:
        pass

    def headerLineReceived(self, line: str) -> None:
        pass


class LineConsumerLogObserver(LogLineObserver):
    """Feeds (stream, line) pairs into a generator created by `consumerFunction()`."""

    def __init__(self, consumerFunction: Callable[[], Generator[Any, Any, Any]]) -> None:
        super().__init__()
        self.consumerFunction = consumerFunction
        # Started on the first line, not here: steps create observers in __init__, which
        # also runs for the master.cfg template, before any attribute is rendered.
        self.generator: Generator[Any, Any, Any] | None = None

    def feed(self, input: tuple[str, str]) -> None:  # 4.3's parameter name
        """Send one `(stream, line)` pair to the consumer, starting it first if needed."""
        if self.generator is None:
            self.generator = self.consumerFunction()
            next(self.generator)
        self.generator.send(input)

    def outLineReceived(self, line: str) -> None:
        self.feed(("o", line))

    def errLineReceived(self, line: str) -> None:
        self.feed(("e", line))

    def headerLineReceived(self, line: str) -> None:
        self.feed(("h", line))

    def finishReceived(self) -> None:
        super().finishReceived()
        if self.generator is not None:
            self.generator.close()


class OutputProgressObserver(LogObserver):
    """Counts output length (kept for plugins; progress metrics are not displayed)."""

    length = 0

    def __init__(self, name: str) -> None:
        self.name = name

    def gotData(self, stream: str | None, data: str | None) -> None:
        if data:
            self.length += len(data)


class BufferLogObserver(LogObserver):
    """Keeps stdout and/or stderr text in memory."""

    def __init__(self, wantStdout: bool = True, wantStderr: bool = False) -> None:
        self.stdout: list[str] | None = [] if wantStdout else None
        self.stderr: list[str] | None = [] if wantStderr else None

    def outReceived(self, data: str) -> None:
        if self.stdout is not None:
            self.stdout.append(data)

    def errReceived(self, data: str) -> None:
        if self.stderr is not None:
            self.stderr.append(data)

    def getStdout(self) -> str:
        return "".join(self.stdout or [])

    def getStderr(self) -> str:
        return "".join(self.stderr or [])
