"""Cut a stream of text into whole lines (newline-normalised), holding back the partial
last line until it is completed or flushed."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

# What terminals treat as a line break: CRLF, a lone CR followed by more text, and the
# cursor-movement escapes; they all become "\n" (the reference's log line rules).
_NEWLINE_EQUIVALENTS = re.compile(r"\r\n|\r(?=.)|\x1b\[u|\x1b\[\d+;\d+[Hf]|\x1b\[2J|\x08+",
                                  re.DOTALL)


class LineBoundaryFinder:
    """`append(text)` returns the complete lines it made available (or None); `flush()`
    returns what is left, newline-terminated (cut every `MAX_LINELENGTH` characters)."""

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
        return complete or None

    def flush(self) -> str | None:
        if self.partialLine:
            rest, self.partialLine = self.partialLine, None
            rest = self.adjust_line(rest.rstrip("\r"))
            size = self.MAX_LINELENGTH
            # an unterminated run longer than a line is cut into lines of the maximum length
            return "".join(rest[i:i + size] + "\n" for i in range(0, len(rest), size))
        return None
