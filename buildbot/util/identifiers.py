"""Identifier rules shared by the database, the data API and configuration checks."""

from __future__ import annotations

import re

# First char: ASCII letter, '_', '-', or any char >= U+00A0; then also digits.
_IDENT_RE = re.compile(r"^[A-Za-z_\-\u00a0-\U0010ffff][A-Za-z0-9_\-\u00a0-\U0010ffff]*$")
_INITIAL_BAD = re.compile(r"^[^A-Za-z_\-]")
_SUBSEQUENT_BAD = re.compile(r"[^A-Za-z0-9_\-]")
_TRAILING_NUMBER = re.compile(r"^(.*)_(\d+)$")


def isIdentifier(maxLength: int, obj: object) -> bool:
    """True if `obj` is a non-empty str of at most `maxLength` chars following the identifier rule."""
    return isinstance(obj, str) and 0 < len(obj) <= maxLength and _IDENT_RE.match(obj) is not None


def forceIdentifier(maxLength: int, s: str) -> str:
    """`s` if it is already an identifier; else an ASCII identifier made from it (truncated,
    invalid characters replaced by '_')."""
    if isIdentifier(maxLength, s):
        return s
    s = s[:maxLength]
    s = _INITIAL_BAD.sub("_", s)
    return _SUBSEQUENT_BAD.sub("_", s)


def incrementIdentifier(maxLength: int, ident: str) -> str:
    """Next candidate after a collision: 'x' -> 'x_2', 'x_2' -> 'x_3', staying within maxLength."""
    m = _TRAILING_NUMBER.match(ident)
    if m:
        stem, num = m.group(1), int(m.group(2)) + 1
    else:
        stem, num = ident, 2
    suffix = f"_{num}"
    if len(stem) + len(suffix) > maxLength:
        stem = stem[: maxLength - len(suffix)]
        if not stem:
            raise ValueError("cannot increment identifier further")
    return stem + suffix

# The reference's public names for the patterns above.
ident_re = _IDENT_RE
initial_re = _INITIAL_BAD
subsequent_re = _SUBSEQUENT_BAD
trailing_digits_re = re.compile(r"_([0-9]+)$")
