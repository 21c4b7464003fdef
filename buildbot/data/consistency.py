"""Current state plus later changes, without missing or duplicating an update.

`DataConnector.get_and_subscribe` subscribes before reading, so no message can be missed;
the work here is to drop the messages whose write the snapshot already shows.

Every update method of this master numbers its write (`ResourceType.writing`): the number
is taken before the database write and released once the messages are produced. Relative to
the snapshot read, a message is

- *old* when its write was released before the read started: the snapshot shows it;
- *new* when its write was numbered after the read finished: the snapshot cannot show it;
- *ambiguous* otherwise (the write overlapped the read), and for messages of other masters.

An ambiguous message carrying the whole resource (`ResourceType.stateEvents`) is compared
with the snapshot: per resource, every message up to the last one that is old or equal to the
snapshot is dropped, the later ones are passed on. Other ambiguous messages are passed on.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import TYPE_CHECKING, Any

from twisted.logger import Logger

from buildbot.mq.base import deliver
from buildbot.util.timestamps import to_epoch

if TYPE_CHECKING:
    from buildbot.data.base import ResourceType
    from buildbot.data.connector import DataConnector

log = Logger()

_OLD, _NEW, _AMBIGUOUS = 0, 1, 2
# Fields a getter may fill beyond what messages carry.
_NOT_COMPARED = frozenset({"properties"})


def _same_time(a: Any, b: Any) -> bool:
    # Messages from other masters (through WAMP) carry epoch seconds where the snapshot
    # has datetimes.
    if a is None or b is None:
        return a is b
    return bool(a == b) or to_epoch(a) == to_epoch(b)


class SnapshotSubscription:
    """The subscription returned by `get_and_subscribe`; `stopConsuming()` ends it."""

    def __init__(self, connector: DataConnector, rtype: ResourceType,
                 callback: Callable[[tuple[str, ...], Any], Any]) -> None:
        self._connector = connector
        self._rtype = rtype
        self._callback = callback
        self.consumer: Any = None
        self._seqs: dict[int, int] = {}  # id(body) -> write number
        self._bodies: list[Any] = []  # keeps noted bodies alive while their id is a key
        self._buffer: list[tuple[tuple[str, ...], Any, int | None]] | None = []
        self._start_seq = 0
        self._in_flight_at_start: frozenset[int] = frozenset()
        self._pending: set[int] = set()
        self._snapshot: dict[Any, dict[str, Any]] = {}
        self._moved_on: set[Any] = set()  # resources with a message passed on after the read
        self._stopped = False

    # -- fed by the connector ---------------------------------------------------------------
    def note(self, body: Any, seq: int | None) -> None:
        """A body about to be produced by write `seq` of this master."""
        if seq is None or (self._buffer is None and seq not in self._pending):
            return
        self._seqs[id(body)] = seq
        self._bodies.append(body)

    def write_done(self, seq: int) -> None:
        """Write `seq` has produced all its messages."""
        self._pending.discard(seq)
        if self._buffer is None and not self._pending:
            self._release()

    def read_started(self, seq: int, in_flight: Collection[int]) -> None:
        self._start_seq = seq
        self._in_flight_at_start = frozenset(in_flight)

    def read_finished(self, data: Any, seq: int, in_flight: Collection[int]) -> None:
        """The snapshot is `data`; sort out the buffered messages."""
        key_field = self._rtype.keyField
        items = data if isinstance(data, list) else [data] if isinstance(data, dict) else []
        if key_field is not None:
            self._snapshot = {i[key_field]: i for i in items
                              if isinstance(i, dict) and key_field in i}
        buffered, self._buffer = self._buffer or [], None
        statuses = [self._status(s, seq) for _, _, s in buffered]
        last_shown: dict[Any, int] = {}
        for index, ((key, body, _), status) in enumerate(zip(buffered, statuses)):
            rid = self._resource_id(body)
            if status == _OLD or (status == _AMBIGUOUS and self._equals_snapshot(key, body, rid)):
                last_shown[rid] = index
        for index, ((key, body, _), status) in enumerate(zip(buffered, statuses)):
            rid = self._resource_id(body)
            if index <= last_shown.get(rid, -1):
                continue
            self._pass_on(key, body, rid)
        self._pending = set(in_flight)
        self._seqs = {k: v for k, v in self._seqs.items() if v in self._pending}
        self._bodies = [b for b in self._bodies if id(b) in self._seqs]
        if not self._pending:
            self._release()

    # -- fed by mq ------------------------------------------------------------------------
    def on_message(self, key: tuple[str, ...], body: Any) -> None:
        if self._stopped:
            return
        seq = self._seqs.get(id(body))
        if self._buffer is not None:
            self._buffer.append((key, body, seq))
            return
        rid = self._resource_id(body)
        if seq is not None and seq in self._pending and rid not in self._moved_on \
                and self._equals_snapshot(key, body, rid):
            return  # a write that overlapped the read and that the snapshot shows
        self._pass_on(key, body, rid)

    def stopConsuming(self) -> None:
        self._stopped = True
        self._release()
        if self.consumer is not None:
            self.consumer.stopConsuming()
            self.consumer = None

    # -- internals ------------------------------------------------------------------------
    def _status(self, seq: int | None, end_seq: int) -> int:
        if seq is None:
            return _AMBIGUOUS
        if seq <= self._start_seq and seq not in self._in_flight_at_start:
            return _OLD
        if seq > end_seq:
            return _NEW
        return _AMBIGUOUS

    def _resource_id(self, body: Any) -> Any:
        key_field = self._rtype.keyField
        if key_field is None or not isinstance(body, dict):
            return None
        return body.get(key_field)

    def _equals_snapshot(self, key: tuple[str, ...], body: Any, rid: Any) -> bool:
        if key[-1] not in self._rtype.stateEvents or rid is None:
            return False
        snap = self._snapshot.get(rid)
        if snap is None:
            return False
        times = self._rtype.datetime_fields
        return all(_same_time(body.get(k), v) if k in times else body.get(k) == v
                   for k, v in snap.items() if k not in _NOT_COMPARED and k in body)

    def _pass_on(self, key: tuple[str, ...], body: Any, rid: Any) -> None:
        if rid is not None:
            self._moved_on.add(rid)
        deliver(self._callback, key, body)

    def _release(self) -> None:
        """Stop watching writes (nothing left to sort out)."""
        self._pending.clear()
        self._seqs.clear()
        self._bodies.clear()
        self._connector.forget_watcher(self)
