"""`StateMixin`: named JSON values a service keeps between runs (poller and scheduler state).

The values live in `object_state` under the object (service name, bare class name), the
reference's convention, so state written by Buildbot 4.3 is found again (e.g. a GitPoller's
`lastRev`, a Nightly's `last_build`).
"""

from __future__ import annotations

from typing import Any

from twisted.internet import defer

from buildbot.util.deferred import ensure_deferred

_NO_DEFAULT: Any = object()


class StateMixin:
    """Adds `getState(name[, default])` and `setState(name, value)`.

    Both return Deferreds (plugins written for the reference `yield` them); our code awaits
    them. The object id is looked up once, on first use.
    """

    name: str | None
    master: Any
    _state_objectid: int | None = None

    async def _state_object(self) -> int:
        if self._state_objectid is None:
            self._state_objectid = int(await self.master.data.updates.getObjectId(
                self.name, type(self).__name__))
        return self._state_objectid

    async def _get_state(self, key: str, default: Any) -> Any:
        objectid = await self._state_object()
        if default is _NO_DEFAULT:
            return await self.master.data.updates.getState(objectid, key)
        return await self.master.data.updates.getState(objectid, key, default)

    async def _set_state(self, key: str, value: Any) -> None:
        objectid = await self._state_object()
        await self.master.data.updates.setState(objectid, key, value)

    def getState(self, key: str, default: Any = _NO_DEFAULT) -> defer.Deferred[Any]:
        """The value stored under `key` (`default` if none; KeyError without default)."""
        return ensure_deferred(self._get_state(key, default))

    def setState(self, key: str, value: Any) -> defer.Deferred[None]:
        """Store a JSON-serialisable `value` under `key`."""
        return ensure_deferred(self._set_state(key, value))
