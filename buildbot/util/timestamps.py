"""Times as the master hands them around.

The database stores epoch seconds; what Python code receives (db models, data API results,
mq bodies delivered in-process) carries aware UTC `datetime`s, as in Buildbot 4.3; what
leaves the process (REST, WebSocket, SSE, WAMP) carries epoch seconds again. These are the
conversions at those edges.
"""

from __future__ import annotations

import datetime
from typing import Any, overload

UTC = datetime.UTC

# Datetimes of whole epoch seconds already made (datetimes are immutable, so they can be
# shared). The db layer converts every time column of every row it reads, and the same rows
# are read again and again (REST listings, reporters, the UI's polling): a dict lookup costs
# a quarter of `fromtimestamp`. Bounded by emptying it when full; two DB threads racing at
# worst make one datetime twice.
_DATETIMES: dict[int, datetime.datetime] = {}
_DATETIMES_MAX = 8192

#: The epoch seconds of the datetimes made by `to_datetime`, by identity: `(datetime, epoch)`
#: by `id(datetime)`. JSON encoders (REST, WebSocket, SSE) look a datetime up here to send
#: it as epoch seconds for half the cost of `timestamp()`; the hit must be checked with
#: `hit[0] is value`. An entry holds its datetime, so no other object can take its id.
known_epochs: dict[int, tuple[datetime.datetime, int]] = {}


@overload
def to_datetime(epoch: None) -> None: ...
@overload
def to_datetime(epoch: float) -> datetime.datetime: ...


def to_datetime(epoch: float | None) -> datetime.datetime | None:
    """Epoch seconds (as stored) to an aware UTC datetime; None stays None."""
    if type(epoch) is int:
        dt = _DATETIMES.get(epoch)
        if dt is None:
            if len(_DATETIMES) >= _DATETIMES_MAX:
                _DATETIMES.clear()
                known_epochs.clear()
            dt = _DATETIMES[epoch] = datetime.datetime.fromtimestamp(epoch, tz=UTC)
            known_epochs[id(dt)] = (dt, epoch)
        return dt
    if epoch is None:
        return None
    return datetime.datetime.fromtimestamp(epoch, tz=UTC)


@overload
def to_epoch(value: None) -> None: ...
@overload
def to_epoch(value: float | datetime.datetime) -> int: ...


def to_epoch(value: float | datetime.datetime | None) -> int | None:
    """A time given either way — epoch seconds, or a datetime (naive means UTC), as Buildbot
    4.3's APIs take them — as int epoch seconds (fractions dropped); None stays None."""
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return int(value.timestamp())
    return int(value)


def epochs_for_wire(value: Any) -> Any:
    """`value` with every datetime inside (dicts, lists, tuples) replaced by its epoch
    seconds, for transports that do not go through a JSON encoder of ours (WAMP). Values
    without datetimes come back unchanged (the same objects)."""
    if isinstance(value, datetime.datetime):
        return to_epoch(value)
    if isinstance(value, dict):
        out = None
        for k, v in value.items():
            w = epochs_for_wire(v)
            if w is not v:
                if out is None:
                    out = dict(value)
                out[k] = w
        return value if out is None else out
    if isinstance(value, (list, tuple)):
        items = [epochs_for_wire(v) for v in value]
        if all(a is b for a, b in zip(items, value)):
            return value
        return items
    return value


__all__ = ["UTC", "epochs_for_wire", "known_epochs", "to_datetime", "to_epoch"]
