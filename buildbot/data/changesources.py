"""Change sources: the `changesources` resource type and the updates through which
clustered change sources claim their master."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from buildbot.data import types
from buildbot.data.base import Endpoint, EndpointKind, ResourceType, update_method
from buildbot.data.masters import master_bodies, master_entity
from buildbot.db.errors import ChangeSourceAlreadyClaimedError
from buildbot.util.resultspec import ResultSpec

changesource_entity = types.Entity("changesource", {
    "changesourceid": types.Integer(),
    "name": types.String(),
    "master": types.NoneOk(master_entity),
})


def changesource_message(row: Any, master: dict[str, Any] | None) -> dict[str, Any]:
    """The `changesource` body of a db ChangeSourceModel and its master's body."""
    return {"changesourceid": row.id, "name": row.name, "master": master}


async def changesource_bodies(db: Any, rows: Sequence[Any]) -> list[dict[str, Any]]:
    masters = await master_bodies(db, (r.masterid for r in rows))
    return [changesource_message(r, masters.get(r.masterid)) for r in rows]


class ChangeSourceEndpoint(Endpoint):
    """One change source, optionally only if a given master owns it."""

    kind = EndpointKind.SINGLE
    pathPatterns = """
        /changesources/n:changesourceid
        /masters/n:masterid/changesources/n:changesourceid
    """

    async def get(self, result_spec: ResultSpec, kwargs: dict[str, Any]) -> Any:
        row = await self.db.changesources.getChangeSource(kwargs["changesourceid"])
        # (Buildbot 4.3 fails with 500 for an unknown id under /masters/n.)
        if row is None or ("masterid" in kwargs and row.masterid != kwargs["masterid"]):
            return None
        return (await changesource_bodies(self.db, [row]))[0]


class ChangeSourcesEndpoint(Endpoint):
    """Change sources, all or those a master owns."""

    kind = EndpointKind.COLLECTION
    rootLinkName = "changesources"
    pathPatterns = """
        /changesources
        /masters/n:masterid/changesources
    """

    async def get(self, result_spec: ResultSpec, kwargs: dict[str, Any]) -> Any:
        rows = await self.db.changesources.getChangeSources(masterid=kwargs.get("masterid"))
        return await changesource_bodies(self.db, rows)


class ChangeSource(ResourceType):
    """Change sources (`changesource` / `changesources`)."""

    name = "changesource"
    plural = "changesources"
    keyField = "changesourceid"
    endpoints: ClassVar[list[type[Endpoint]]] = [ChangeSourceEndpoint, ChangeSourcesEndpoint]
    entityType = changesource_entity

    @update_method
    async def findChangeSourceId(self, name: str) -> int:
        """The id of the change source called `name`, created if new."""
        return int(await self.db.changesources.findChangeSourceId(name))

    @update_method
    async def trySetChangeSourceMaster(self, changesourceid: int, masterid: int | None) -> bool:
        """Make `masterid` the owner (None releases it); False if another master owns it."""
        try:
            await self.db.changesources.setChangeSourceMaster(changesourceid, masterid)
        except ChangeSourceAlreadyClaimedError:
            return False
        return True

    async def _masterDeactivated(self, masterid: int) -> None:
        """Release the change sources owned by master `masterid`."""
        for row in await self.db.changesources.getChangeSources(masterid=masterid):
            await self.db.changesources.setChangeSourceMaster(row.id, None)
