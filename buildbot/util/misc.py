"""Conversions used everywhere: text/bytes, epoch/datetime, list flattening."""

from __future__ import annotations

import datetime
import time
from typing import Any

UTC = datetime.timezone.utc


def bytes2unicode(x: Any, encoding: str = "utf-8", errors: str = "strict") -> Any:
    """Decode bytes to str; pass other values through."""
    if isinstance(x, (bytes, bytearray)):
        return bytes(x).decode(encoding, errors)
    return x


def unicode2bytes(x: Any, encoding: str = "utf-8", errors: str = "strict") -> Any:
    """Encode str to bytes; pass other values through."""
    if isinstance(x, str):
        return x.encode(encoding, errors)
    return x


def ascii2unicode(x: Any, errors: str = "strict") -> Any:
    """Decode ASCII bytes to str; pass other values through."""
    return bytes2unicode(x, "ascii", errors)


def now(clock: Any = None) -> int:
    """Current epoch seconds (int), from `clock` (an IReactorTime) when given."""
    return int(clock.seconds() if clock is not None else time.time())


def epoch2datetime(epoch: float | None) -> datetime.datetime | None:
    """Epoch seconds to an aware UTC datetime (None stays None)."""
    if epoch is None:
        return None
    return datetime.datetime.fromtimestamp(epoch, tz=UTC)


def datetime2epoch(dt: datetime.datetime | None) -> int | None:
    """Aware (or naive = UTC) datetime to int epoch seconds (None stays None)."""
    if dt is None:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp())


def flatten(items: Any, types: tuple[type, ...] = (list, tuple)) -> list[Any]:
    """Flatten nested lists/tuples into one list."""
    if not isinstance(items, types):
        return [items]
    out: list[Any] = []
    seq: Any = items  # a list or tuple (checked above)
    for item in seq:
        if isinstance(item, types):
            out.extend(flatten(item, types))
        else:
            out.append(item)
    return out
