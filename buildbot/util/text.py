"""String helpers of the `buildbot.util` namespace: safe names, booleans, URLs, commands, text."""

from __future__ import annotations

import re
import textwrap
from typing import Any
from urllib.parse import urlsplit, urlunsplit

# Characters that may not appear in file names built from builder names: each becomes "_".
_UNSAFE = b"\t !#$%&'()*+,./:;<=>?@[\\]^{|}~"
badchars_map = bytes.maketrans(_UNSAFE, b"_" * len(_UNSAFE))


def safeTranslate(s: str | bytes) -> bytes:
    """`s` (UTF-8 encoded if text) with every character unsafe in a file name turned into `_`."""
    raw = s.encode("utf8") if isinstance(s, str) else s
    return raw.translate(badchars_map)


_BOOLEANS = {"on": True, "true": True, "yes": True, "1": True,
             "off": False, "false": False, "no": False, "0": False}


def string2boolean(str: bytes | str) -> bool:
    """`b"yes"`/`b"on"`/`b"true"`/`b"1"` → True, their opposites → False (any case).

    The reference accepts bytes only; text is accepted too. Other values raise KeyError.
    """
    key = str.decode("ascii", "replace") if isinstance(str, bytes) else str
    if key.lower() not in _BOOLEANS:
        raise KeyError(str.lower())
    return _BOOLEANS[key.lower()]


def stripUrlPassword(url: str) -> str:
    """`url` with the password of its user part replaced by `xxxx` (for logs and messages)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:xxxx@{host}"))


def command_to_string(command: Any) -> str | None:
    """A short quoted summary of a command for step descriptions: `'make all ...'`.

    Lists are flattened, bytes decoded; only the first two words are shown. None for an
    empty or non-command value.
    """
    if isinstance(command, str):
        words: list[Any] = command.split()
    elif isinstance(command, (list, tuple)):
        words = [w for w in _flat(command)]
    else:
        return None
    words = [w.decode("utf-8", "replace") if isinstance(w, bytes) else str(w) for w in words]
    if not words:
        return None
    shown = " ".join(words[:2]) + (" ..." if len(words) > 2 else "")
    return f"'{shown}'"


def _flat(items: Any) -> list[Any]:
    out: list[Any] = []
    for item in items:
        out.extend(_flat(item) if isinstance(item, (list, tuple)) else [item])
    return out


def join_list(maybeList: Any) -> Any:
    """Words joined by spaces (bytes decoded); a string or None passes through."""
    if isinstance(maybeList, (list, tuple)):
        return " ".join(w.decode("utf-8") if isinstance(w, bytes) else w for w in maybeList)
    if maybeList is None or isinstance(maybeList, str):
        return maybeList
    return " ".join(maybeList)  # raises TypeError for non-iterables, as the reference


def none_or_str(x: Any) -> str | None:
    """`str(x)`, keeping None."""
    return None if x is None else str(x)


def rewrap(text: str, width: int | None = None) -> str:
    """Dedent `text` and re-flow its paragraphs to `width` columns (default 80).

    A run of lines starting with a non-blank character is a paragraph and gets filled;
    blank lines and indented lines are kept exactly (literal blocks, paragraph breaks).
    """
    width = 80 if width is None else width
    out: list[str] = []
    paragraph: list[str] = []
    for line in textwrap.dedent(text).splitlines(True):
        if not line[0].isspace():
            paragraph.append(line)
            continue
        if paragraph:
            out.append(textwrap.fill("".join(paragraph), width))
            paragraph = []
        out.append(line)
    if paragraph:
        out.append(textwrap.fill("".join(paragraph), width))
    return "".join(out)


_DIGITS = re.compile(r"(\d+)")


def naturalSort(array: list[str]) -> list[str]:
    """A sorted copy where digit runs compare as numbers ("a2" before "a10")."""
    def key(s: str) -> list[Any]:
        return [(0, int(p), p) if p.isdigit() else (1, p) for p in _DIGITS.split(s)]
    return sorted(array, key=key)
