"""`EventGate`: lets through only the live events a user may read (WebSocket and SSE).

With no auth plugin, or an authz whose rules cannot deny reads, everything passes at once.
Otherwise each event is checked with authz (`get` on the resource the routing key is
about: the key without its event name); decisions are cached per resource path, and
events wait in order behind a check that needs the database.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from twisted.logger import Logger

from buildbot.www.authz import Forbidden

log = Logger()

DECISION_CACHE = 2048
#: Messages whose encoded form is kept for the other connections (see `SharedEncoding`).
ENCODED_CACHE = 64

T = TypeVar("T")


class SharedEncoding(Generic[T]):
    """Encodes an mq message once for every connection receiving it (WebSocket, SSE).

    The bus hands the same key and body objects to each subscriber in turn, so the encoded
    form is looked up by the identity of both (the entry keeps them alive: an id cannot be
    reused while it is cached). A connection whose authorization check delays an event
    finds it still cached for the last `ENCODED_CACHE` messages, else encodes it again.
    """

    def __init__(self, encode: Callable[[tuple[str, ...], Any], T]) -> None:
        self._encode = encode
        self._cache: OrderedDict[tuple[int, int], tuple[Any, Any, T]] = OrderedDict()
        #: messages encoded so far (tests count them)
        self.encoded = 0

    def get(self, key: tuple[str, ...], body: Any) -> T:
        ident = (id(key), id(body))
        found = self._cache.get(ident)
        if found is not None and found[0] is key and found[1] is body:
            return found[2]
        self.encoded += 1
        value = self._encode(key, body)
        self._cache[ident] = (key, body, value)
        if len(self._cache) > ENCODED_CACHE:
            self._cache.popitem(last=False)
        return value


class EventGate:
    """Filter for one connection. `deliver(key, body)` calls `send(key, body)` for the
    allowed events, in order; `on_overflow()` is called (once) if more than `max_queued`
    events wait for authorization."""

    def __init__(self, www: Any, user_info: dict[str, Any],
                 send: Callable[[tuple[str, ...], Any], None],
                 on_overflow: Callable[[], None], max_queued: int) -> None:
        self.www = www
        self.user_info = user_info
        self.send = send
        self.on_overflow = on_overflow
        self.max_queued = max_queued
        self.filtering = bool(www.auth_configured and getattr(www.authz, "restricts_reads",
                                                                True))
        self.closed = False
        self._queue: deque[tuple[tuple[str, ...], Any]] = deque()
        self._pumping = False
        self._decisions: OrderedDict[tuple[str, ...], bool] = OrderedDict()

    def close(self) -> None:
        self.closed = True
        self._queue.clear()

    def deliver(self, key: tuple[str, ...], body: Any) -> None:
        if self.closed:
            return
        if not self.filtering:
            self.send(key, body)
            return
        decided = self._decisions.get(key[:-1])
        if decided is not None and not self._queue:
            if decided:
                self.send(key, body)
            return
        if len(self._queue) >= self.max_queued:
            self.close()
            self.on_overflow()
            return
        self._queue.append((key, body))
        if not self._pumping:
            self._pumping = True
            self.www.tasks.spawn("live event authorization", self._pump())

    async def _pump(self) -> None:
        try:
            while self._queue and not self.closed:
                key, body = self._queue[0]
                path = key[:-1]
                allowed = self._decisions.get(path)
                if allowed is None:
                    allowed = await self.allowed(path)
                    self._decisions[path] = allowed
                    if len(self._decisions) > DECISION_CACHE:
                        self._decisions.popitem(last=False)
                if self.closed:
                    return
                self._queue.popleft()
                if allowed:
                    self.send(key, body)
        finally:
            self._pumping = False

    async def allowed(self, path: tuple[str, ...], action: str = "get") -> bool:
        """Whether the user may do `action` on `path` (failures of authz count as no)."""
        try:
            await self.www.assert_allowed(path, action, {}, self.user_info)
        except Forbidden:
            return False
        except Exception:  # noqa: BLE001  (a broken custom matcher must not kill the stream)
            log.failure("authorization of {path} failed", path="/".join(path))
            return False
        return True
