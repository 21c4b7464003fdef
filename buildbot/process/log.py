"""A step's logs as the process layer writes them.

Text from the worker is cut into lines per stream (stdout, stderr, header), partial lines are
held until their end arrives, and whole lines are written through `data.updates.appendLog`.
Writes of one log are serialised and batched: the first write waits for the end of the
reactor turn (so everything one worker message carries goes together), and while one
`appendLog` is in flight new lines accumulate and go out together in the next call. A
streaming log (its last write was STREAMING_SIZE or more) writes at most once per
WRITE_INTERVAL: a fast stream costs one transaction and one `append` message per 0.1 s
instead of one per worker message, and its lines reach the database at most 0.1 s later.
Finishing the log writes what is held at once.

When a write fails (the database refuses it: disk full, ...), the batch's callers get the
error and `on_write_failed` is called once; from then on new content is dropped and only
counted (`dropped_bytes`), so a step that keeps producing output neither retries nor
accumulates it in memory. Finishing the log still tries to mark it complete.

Text is redacted before it is cut into lines: the build's secrets become `<name>`. A secret
cut in two by the worker's chunking is caught by holding, per stream, the tail that may be
its beginning until the next chunk (or the end of the log) shows what follows.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from twisted.internet import defer
from twisted.logger import Logger

from buildbot.util.deferred import ensure_deferred
from buildbot.util.eventual import eventually
from buildbot.util.internal import differs_internally
from buildbot.util.redact import SecretRedactor

log = Logger()

MAX_LINE_LENGTH = 4096
#: A log whose last write carried this many characters is streaming: its next write waits
#: until WRITE_INTERVAL seconds after the last one began, so a fast stream is stored in
#: one appendLog (one transaction, one message) per interval, not one per worker message.
STREAMING_SIZE = 16384
WRITE_INTERVAL = 0.1

# Sequences that end a line, besides "\n": CRLF, a CR followed by something, cursor-restore,
# cursor-position, clear-screen, and runs of backspaces.
_NEWLINE_EQUIVALENTS = re.compile(r"\r\n|\r(?=.)|\x1b\[u|\x1b\[\d+;\d+[Hf]|\x1b\[2J|\x08+", re.S)


class LineSplitter:
    """Cuts a stream of text into complete lines (each ending in "\\n").

    `append_text` works on the chunk as a whole (a few scans in C, one for the last
    newline), so a chunk of thousands of lines costs no Python work per line. Only text
    held without a newline is cut at `max_line_length` (so that it is not held forever).
    """

    __slots__ = ("partial", "max_line_length")

    def __init__(self, max_line_length: int = MAX_LINE_LENGTH) -> None:
        self.partial = ""
        self.max_line_length = max_line_length

    def append_text(self, text: str) -> str:
        """Add text; return the lines it completed, joined ("" if none)."""
        if self.partial:
            text = self.partial + text
        if "\r" in text or "\x1b" in text or "\x08" in text:
            text = _NEWLINE_EQUIVALENTS.sub("\n", text)
        end = text.rfind("\n") + 1
        whole, self.partial = text[:end], text[end:]
        n = self.max_line_length
        if len(self.partial) > n:
            cut = len(self.partial) - len(self.partial) % n
            whole += "".join(self.partial[i:i + n] + "\n" for i in range(0, cut, n))
            self.partial = self.partial[cut:]
        return whole

    def append(self, text: str) -> list[str]:
        """Add text; return the lines it completed."""
        whole = self.append_text(text)
        return [line + "\n" for line in whole[:-1].split("\n")] if whole else []

    def flush(self) -> list[str]:
        """Return the held partial line (with a newline appended), if any."""
        if not self.partial:
            return []
        line, self.partial = self.partial + "\n", ""
        return [line]


def tag_lines(stream: str, whole: str) -> str:
    """Whole lines with the stream tag (o, e, h) in front of each, as stdio logs store them:
    one replace over the text instead of a concatenation per line."""
    return stream + whole[:-1].replace("\n", "\n" + stream) + "\n"


class Log:
    """One log of a step (`type` 's' stdio, 't' text, 'h' html)."""

    def __init__(self, updates: Any, name: str, type: str, logid: int,
                 decoder: Callable[[bytes], str] | None = None,
                 redactor: SecretRedactor | None = None,
                 clock: Any = None) -> None:
        self.updates = updates
        self.name = name
        self.type = type
        self.logid = logid
        self.decoder = decoder or (lambda b: b.decode("utf-8", "replace"))
        self.finished = False
        self.chunks_written = 0
        self._subscribers: list[Callable[[str | None, str | None], Any]] = []
        self._pending: list[str] = []
        self._waiters: list[defer.Deferred[None]] = []
        self._writing = False
        self._finish_waiters: list[defer.Deferred[None]] = []
        self._idle_waiters: list[defer.Deferred[None]] = []
        self.on_finished: Callable[[Log], Any] | None = None
        self.on_write_failed: Callable[[Log, BaseException], Any] | None = None
        self.write_error: BaseException | None = None
        self.dropped_bytes = 0
        # Shared with the build, so secrets rendered after the log was opened count too.
        self.redactor = redactor
        self._carry: dict[str, str] = {}
        # Any: zope interfaces give mypy no method signatures
        self._clock: Any = clock
        self._timer: Any = None  # the IDelayedCall of held writes
        self._last_start = 0.0
        self._last_size = 0
        self._closing = False

    # -- plugin API ----------------------------------------------------------------------
    def getName(self) -> str:
        return self.name

    def isFinished(self) -> bool:
        return self.finished

    def waitUntilFinished(self) -> defer.Deferred[None]:
        if self.finished:
            return defer.succeed(None)
        d: defer.Deferred[None] = defer.Deferred()
        self._finish_waiters.append(d)
        return d

    def subscribe(self, callback: Callable[[str | None, str | None], Any],
                  catchup: bool = False) -> None:
        """Call `callback(stream, text)` for every chunk of lines written from now on, and
        `callback(None, None)` when the log finishes."""
        self._subscribers.append(callback)

    def _text(self, text: str | bytes, stream: str) -> str:
        """Decoded `text`, redacted as far as the chunks seen so far allow."""
        if isinstance(text, (bytes, bytearray)):
            text = self.decoder(text)
        redactor = self.redactor
        if redactor is not None and redactor.active:
            text, self._carry[stream] = redactor.feed(self._carry.get(stream, ""), text)
        return text

    def _take_carry(self, stream: str) -> str:
        """The held tail of `stream`, redacted: at the end nothing can complete it."""
        carry = self._carry.pop(stream, "")
        if carry and self.redactor is not None:
            return self.redactor.redact(carry)
        return carry

    def _notify(self, stream: str, text: str) -> None:
        for cb in self._subscribers:
            cb(stream, text)

    # -- writing -------------------------------------------------------------------------
    def _write(self, content: str) -> defer.Deferred[None]:
        """Queue whole-line content; the Deferred fires once it is stored."""
        if self.finished:
            return defer.fail(RuntimeError(f"log '{self.name}' is already finished"))
        if self.write_error is not None:
            self.dropped_bytes += len(content)
            return defer.succeed(None)
        d: defer.Deferred[None] = defer.Deferred()
        self._pending.append(content)
        self._waiters.append(d)
        self._kick()
        return d

    def _kick(self) -> None:
        if not self._writing and self._pending:
            self._writing = True
            wait = self._throttle()
            if wait > 0:
                self._timer = self.clock.callLater(wait, self._start_write_loop)
            else:
                # Start on the next reactor turn: the updates of one message from the worker
                # (several stdout/stderr pieces) then go out as one appendLog, one transaction.
                eventually(self._start_write_loop)

    def _throttle(self) -> float:
        """Seconds the next write waits: none, unless the log is streaming (its last write
        carried STREAMING_SIZE characters or more) and that write began less than
        WRITE_INTERVAL ago. Not while the log is finishing."""
        if self._last_size < STREAMING_SIZE or self._closing:
            return 0.0
        return self._last_start + WRITE_INTERVAL - float(self.clock.seconds())

    @property
    def clock(self) -> Any:
        """The IReactorTime timing held writes of a streaming log (the reactor unless one
        was given)."""
        if self._clock is None:
            from twisted.internet import reactor  # at call time, as util.eventual does

            self._clock = reactor
        return self._clock

    def _start_write_loop(self) -> None:
        self._timer = None
        ensure_deferred(self._write_loop())

    async def _write_loop(self) -> None:
        held = False
        try:
            while self._pending:
                content, waiters = "".join(self._pending), self._waiters
                self._pending, self._waiters = [], []
                if self.write_error is not None:
                    # Queued while the failing write was in flight: dropped the same way.
                    self.dropped_bytes += len(content)
                    for w in waiters:
                        w.callback(None)
                    continue
                try:
                    if content:
                        self.chunks_written += 1
                        self._last_start, self._last_size = self.clock.seconds(), len(content)
                        await self.updates.appendLog(self.logid, content)
                except Exception as e:
                    self.write_error = e
                    self.dropped_bytes += len(content)
                    for w in waiters:
                        w.errback(e)
                    if self.on_write_failed is not None:
                        self.on_write_failed(self, e)
                    elif not waiters:
                        log.failure("writing log {name} failed", name=self.name)
                else:
                    for w in waiters:
                        w.callback(None)
                wait = self._throttle() if self._pending else 0.0
                if wait > 0:  # streaming: what came meanwhile waits for more
                    self._timer = self.clock.callLater(wait, self._start_write_loop)
                    held = True
                    return
        finally:
            if not held:
                self._writing = False
                idle, self._idle_waiters = self._idle_waiters, []
                for w in idle:
                    w.callback(None)

    async def _drain(self) -> None:
        """Wait until everything queued so far is stored (held writes go out now)."""
        timer, self._timer = self._timer, None
        if timer is not None and timer.active():
            timer.cancel()
            self._start_write_loop()
        self._kick()
        if self._writing:
            d: defer.Deferred[None] = defer.Deferred()
            self._idle_waiters.append(d)
            await d

    def finish(self) -> defer.Deferred[None]:
        """Flush partial lines, mark the log complete, and notify who waits for it."""
        return ensure_deferred(self._finish())

    async def _finish(self) -> None:
        if self.finished:
            return
        self._closing = True
        self._flush_partial()
        await self._drain()
        self.finished = True
        try:
            await self.updates.finishLog(self.logid)
        finally:
            # Observers and waiters learn the end even when it could not be stored (the
            # caller gets the error and may store it later).
            for cb in self._subscribers:
                cb(None, None)
            waiters, self._finish_waiters = self._finish_waiters, []
            for w in waiters:
                w.callback(None)
        # Only for a log stored whole (the step then merges its chunks): after a refused
        # write, more writes would only fail again or race the database's recovery.
        if self.on_finished is not None and self.write_error is None:
            self.on_finished(self)

    def _flush_partial(self) -> None:
        """Queue held partial lines (subclasses)."""


class PlainLog(Log):
    """Text ('t') and HTML ('h') logs: content is stored as given, line by line."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lines = LineSplitter()

    def addContent(self, text: str | bytes) -> defer.Deferred[None]:
        chunk = self._lines.append_text(self._text(text, "o"))
        if chunk:
            self._notify("o", chunk)
            return self._write(chunk)
        return defer.succeed(None)

    def _flush_partial(self) -> None:
        carry = self._take_carry("o")
        lines = (self._lines.append(carry) if carry else []) + self._lines.flush()
        if lines:
            chunk = "".join(lines)
            self._notify("o", chunk)
            self._pending.append(chunk)


class StreamLog(Log):
    """The stdio ('s') log: each stored line carries its stream tag (o, e or h)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._splitters = {"o": LineSplitter(), "e": LineSplitter(), "h": LineSplitter()}

    def _add(self, stream: str, text: str | bytes) -> defer.Deferred[None]:
        whole = self._splitters[stream].append_text(self._text(text, stream))
        if not whole:
            return defer.succeed(None)
        if self._subscribers:
            self._notify(stream, whole)
        return self._write(tag_lines(stream, whole))

    def addStdout(self, text: str | bytes) -> defer.Deferred[None]:
        return self._add("o", text)

    def addStderr(self, text: str | bytes) -> defer.Deferred[None]:
        return self._add("e", text)

    def addHeader(self, text: str | bytes) -> defer.Deferred[None]:
        return self._add("h", text)

    def addStream(self, stream: str, text: str | bytes) -> defer.Deferred[None]:
        return self._add(stream, text)

    def _flush_partial(self) -> None:
        for stream, splitter in self._splitters.items():
            carry = self._take_carry(stream)
            for line in (splitter.append(carry) if carry else []) + splitter.flush():
                if self._subscribers:
                    self._notify(stream, line)
                self._pending.append(stream + line)

    # A stdio log also accepts plain content (written as stdout), as in the reference.
    def addContent(self, text: str | bytes) -> defer.Deferred[None]:
        return self._add("o", text)


def new_log(updates: Any, name: str, type: str, logid: int,
            decoder: Callable[[bytes], str] | None = None,
            redactor: SecretRedactor | None = None,
            clock: Any = None) -> Log:
    """The Log object for a log of `type`; `redactor` hides the build's secrets; `clock` (an
    IReactorTime) times the held writes of a streaming log (default: the reactor)."""
    cls = _LOG_CLASSES.get(type, PlainLog)
    return cls(updates, name, type, logid, decoder, redactor, clock)


class TextLog(PlainLog):
    """A text ('t') log: `addContent` stores lines as given."""


class HtmlLog(PlainLog):
    """An HTML ('h') log."""


_LOG_CLASSES: dict[str, type[Log]] = {"s": StreamLog, "t": TextLog, "h": HtmlLog}

# The reference builds its logs from the master (`Log.new(master, ...)`); ours get the data
# API's update methods. Steps obtain logs through addLog/getLog, never by constructing them.
for _cls in (Log, PlainLog, StreamLog, TextLog, HtmlLog):
    differs_internally("built by the step from the data API (addLog), not from the master")(_cls)
