"""Object state: the ids of configured objects and the named JSON values they keep between
runs (scheduler and poller state). No endpoints: only update methods, for the process layer,
which does not use the database directly."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from buildbot.data.base import Endpoint, ResourceType, update_method

_NO_DEFAULT: Any = object()


class ObjectState(ResourceType):
    """Object ids and object state (update methods only)."""

    name = "object_state"
    plural = "object_states"
    endpoints: ClassVar[list[type[Endpoint]]] = []

    @update_method
    async def getObjectId(self, name: str, class_name: str) -> int:
        """The id of the object (`name`, `class_name`), created if new."""
        return int(await self.db.state.getObjectId(name, class_name))

    @update_method
    async def getState(self, objectid: int, name: str, default: Any = _NO_DEFAULT) -> Any:
        """The value stored for the object under `name`; `default` if there is none (no
        default: KeyError)."""
        if default is _NO_DEFAULT:
            return await self.db.state.getState(objectid, name)
        return await self.db.state.getState(objectid, name, default)

    @update_method
    async def setState(self, objectid: int, name: str, value: Any) -> None:
        """Store a JSON value for the object under `name`."""
        await self.db.state.setState(objectid, name, value)

    @update_method
    async def atomicCreateState(self, objectid: int, name: str,
                                create: Callable[[], Any]) -> Any:
        """The value stored under `name`, or `create()` stored if there is none yet (another
        master's value wins a race)."""
        return await self.db.state.atomicCreateState(objectid, name, create)
