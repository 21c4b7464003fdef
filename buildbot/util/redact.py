"""Replace secret values by `<name>` in text, in JSON-like values and in streamed output.

A `SecretRedactor` belongs to one build (its Properties own it): every secret rendered for
the build is registered there, and every text that leaves the build for a log, a property,
a state string or the database goes through it first.

Streamed output arrives in chunks that may cut a secret in two. `feed(carry, text)` redacts
what is complete and hands back, as the new carry, the shortest tail that could still
become a secret when the next chunk arrives; the caller keeps one carry per stream and
passes it to `redact` when the stream ends.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any


def _escaped_inner(text: str, as_bytes: bool) -> str:
    """`text` as it reads inside Python's repr of a str or bytes holding it, when the repr
    is single-quoted (quotes escaped); a marker holding both quotes forces that style."""
    marker = "'\""
    if as_bytes:
        return repr((marker + text).encode("utf-8"))[len(repr(marker.encode())) - 1:-1]
    return repr(marker + text)[len(repr(marker)) - 1:-1]


def _forms(value: str) -> set[str]:
    """The texts that show `value` in a build's logs: itself, stripped (a secret file's
    trailing newline), inside a shell-quoted word (the command line the worker echoes) and
    inside Python reprs of str and bytes (the argv line of the worker, MasterShellCommand),
    with or without escaped quotes."""
    bases = {value, value.strip()}
    forms = set(bases)
    for text in bases:
        if "'" in text:
            forms.add(text.replace("'", "'\"'\"'"))
        for as_bytes in (False, True):
            escaped = _escaped_inner(text, as_bytes)
            forms.add(escaped)
            forms.add(escaped.replace("\\'", "'"))
    return {f for f in forms if f.strip()}


#: Up to this many forms, `feed` looks for them one substring search each.
FEW_FORMS = 8


class SecretRedactor:
    """The secret values known so far, each with the placeholder replacing it."""

    __slots__ = ("_pattern", "_placeholders", "_registered", "active")

    def __init__(self) -> None:
        self._registered: dict[str, str] = {}
        # Every form a value may take in text (see `_forms`), each with its placeholder.
        self._placeholders: dict[str, str] = {}
        self._pattern: re.Pattern[str] | None = None
        # A plain attribute, so that the hot paths of builds without secrets test it for
        # the price of an attribute read.
        self.active = False

    def __bool__(self) -> bool:
        return self.active

    def __len__(self) -> int:
        return len(self._placeholders)

    def add(self, value: str | bytes, name: str) -> None:
        """Hide `value` as `<name>` from now on, in the forms it takes in logs too (see
        `_forms`). Blank values are ignored: replacing every space or newline would ruin
        the text and hide nothing."""
        if isinstance(value, (bytes, bytearray)):
            value = bytes(value).decode("utf-8", "replace")
        if not isinstance(value, str) or not value.strip():
            return
        placeholder = f"<{name}>"
        if self._registered.get(value) == placeholder:
            return
        self._registered[value] = placeholder
        for form in _forms(value):
            self._placeholders[form] = placeholder
        self._pattern = None
        self.active = True

    def placeholders(self) -> dict[str, str]:
        """`{value: "<name>"}` of the values registered (a copy)."""
        return dict(self._registered)

    def _regex(self) -> re.Pattern[str]:
        if self._pattern is None:
            # Longest first, so that a secret containing another is replaced whole.
            values = sorted(self._placeholders, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(v) for v in values))
        return self._pattern

    def _placeholder_of(self, match: re.Match[str]) -> str:
        return self._placeholders[match.group()]

    def redact(self, text: str) -> str:
        """`text` with every known secret replaced."""
        if not self._placeholders or not text:
            return text
        return self._regex().sub(self._placeholder_of, text)

    def redact_bytes(self, data: bytes) -> bytes:
        """`data` with every known secret (UTF-8 encoded) replaced."""
        if not self._placeholders or not data:
            return data
        for value in sorted(self._placeholders, key=len, reverse=True):
            data = data.replace(value.encode("utf-8"),
                                self._placeholders[value].encode("utf-8"))
        return data

    def redact_value(self, value: Any) -> Any:
        """A JSON-like value (strings, lists, tuples, dicts) with secrets replaced in every
        string, dict keys included; other values are returned as they are."""
        if not self._placeholders:
            return value
        return self._walk(value)

    def _walk(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, (bytes, bytearray)):
            return self.redact_bytes(bytes(value))
        if isinstance(value, list):
            return [self._walk(v) for v in value]
        if isinstance(value, tuple):
            return tuple(self._walk(v) for v in value)
        if isinstance(value, dict):
            return {self._walk(k): self._walk(v) for k, v in value.items()}
        return value

    def feed(self, carry: str, text: str) -> tuple[str, str]:
        """Redact `carry + text` as far as it is known to be safe: returns the text to
        emit and the new carry (the tail that may be the start of a secret)."""
        buf = carry + text if carry else text
        if not self.active:
            return buf, ""
        pattern = self._regex()
        if not self._contains_any(buf):  # the usual case: a chunk without any secret
            cut = self._hold_from(buf, ())
            return (buf, "") if cut == len(buf) else (buf[:cut], buf[cut:])
        spans = [m.span() for m in pattern.finditer(buf)]
        cut = self._hold_from(buf, spans)
        out: list[str] = []
        pos = 0
        for start, end in spans:
            if start >= cut:
                break
            out.append(buf[pos:start])
            out.append(self._placeholders[buf[start:end]])
            pos = end
        out.append(buf[pos:cut])
        return "".join(out), buf[cut:]

    def _contains_any(self, buf: str) -> bool:
        """Whether a secret occurs in `buf`. For a few forms, a substring search per form
        (C, about twice the speed of the alternation regex over a 64 KiB chunk)."""
        if len(self._placeholders) <= FEW_FORMS:
            return any(form in buf for form in self._placeholders)
        return self._regex().search(buf) is not None

    def _hold_from(self, buf: str, spans: Sequence[tuple[int, int]]) -> int:
        """The earliest index from which `buf` is a proper prefix of some secret (so the
        next chunk may complete it), never inside a complete match; len(buf) if none."""
        size = len(buf)
        cut = size
        for value in self._placeholders:
            i = buf.find(value[0], max(0, size - len(value) + 1))
            while i != -1 and i < cut:
                if value.startswith(buf[i:]) and not any(s < i < e for s, e in spans):
                    cut = i
                    break
                i = buf.find(value[0], i + 1)
        return cut
