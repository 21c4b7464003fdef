"""Cut a stream of text into whole lines (newline-normalised), holding back the partial
last line until it is completed or flushed."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from twisted.logger import Logger

# What terminals treat as a line break: CRLF, a lone CR followed by more text, and the
# cursor-movement escapes; they all become "\n" (the reference's log line rules).
_NEWLINE_EQUIVALENTS = re.compile(r"\r\n|\r(?=.)|\x1b\[u|\x1b\[\d+;\d+[Hf]|\x1b\[2J|\x08+",
                                  re.DOTALL)

log = Logger()


class LineBoundaryFinder:
    """`append(text)` returns the complete lines it made available (or None); `flush()`
    returns what is left, newline-terminated (cut every `MAX_LINELENGTH` characters)."""

    # 4.3 keeps these in `__slots__`; callers read them: the text held back (None when
    # nothing is), and whether the one "splitting long line" warning was logged already.
    __slots__ = ("partialLine", "warned", "callback")

    MAX_LINELENGTH = 4096
    newline_re = _NEWLINE_EQUIVALENTS

    def __init__(self, callback: Callable[[str], Any] | None = None) -> None:
        self.partialLine: str | None = None
        self.warned = False
        self.callback = callback

    def adjust_line(self, text: str) -> str:
        """Normalise line breaks in `text`."""
        return _NEWLINE_EQUIVALENTS.sub("\n", text)

    def append(self, text: str) -> str | None:
        cut_lines = ""
        if self.partialLine and len(self.partialLine) > self.MAX_LINELENGTH:
            cut_lines = self._cut_long_partial()
        if self.partialLine:
            text = self.partialLine + text
            self.partialLine = None
        # a trailing CR may be the first half of CRLF: wait for the next chunk
        held = ""
        if text.endswith("\r"):
            text, held = text[:-1], "\r"
        text = self.adjust_line(text)
        cut = text.rfind("\n") + 1
        complete, rest = text[:cut], text[cut:] + held
        self.partialLine = rest or None
        return (cut_lines + complete) or None

    def _cut_long_partial(self) -> str:
        """Give up waiting for the end of an over-long line: it is returned cut into lines
        of `MAX_LINELENGTH` (whole lines that long would fill memory and slow the UI)."""
        held = self.partialLine or ""
        carried = "\r" if held.endswith("\r") else ""  # may be half of a CRLF still to come
        body = self.adjust_line(held[:len(held) - len(carried)])
        self.partialLine = carried or None
        if not self.warned:
            self.warned = True  # once per stream: a log of such lines would repeat it forever
            log.warn("Splitting long line: {line_start} {length} "
                     "(not warning anymore for this log)", line_start=body[:30],
                     length=len(body))
        size = self.MAX_LINELENGTH
        return "".join(body[i:i + size] + "\n" for i in range(0, len(body), size))

    def flush(self) -> str | None:
        if not self.partialLine:
            return None
        self.partialLine = self.partialLine.rstrip("\r")  # the stream ended: no CRLF to come
        if len(self.partialLine) > self.MAX_LINELENGTH:
            return self._cut_long_partial()
        rest, self.partialLine = self.partialLine, None
        return self.adjust_line(rest) + "\n" if rest else None
