"""The `changesources` and `changesource_masters` tables."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from buildbot.db.base import DbComponent
from buildbot.db.errors import ChangeSourceAlreadyClaimedError
from buildbot.db.ownership import ClaimedServices


@dataclass(frozen=True, slots=True)
class ChangeSourceModel:
    """A change source; `masterid` is the master running it, if any."""

    id: int
    name: str
    masterid: int | None = None


class ChangeSourcesDb(DbComponent):
    """Change sources and their owning master."""

    @property
    def _owned(self) -> ClaimedServices:
        t = self._tables
        return ClaimedServices(t.changesources, t.changesource_masters, "changesourceid")

    async def findChangeSourceId(self, name: str) -> int:
        """The id of the change source `name`, created if new."""
        owned = self._owned
        return await self._pool.run(lambda conn: owned.thd_id_for_name(conn, name))

    async def setChangeSourceMaster(self, changesourceid: int, masterid: int | None) -> None:
        """Make `masterid` the owner (None: no owner). Any existing owner — even this very
        master, as in Buildbot — gives `ChangeSourceAlreadyClaimedError`."""
        owned = self._owned

        def thd_set(conn: sa.Connection) -> None:
            if masterid is None:
                owned.thd_release(conn, changesourceid)
            elif not owned.thd_claim(conn, changesourceid, masterid):
                raise ChangeSourceAlreadyClaimedError(
                    f"change source {changesourceid} is already claimed")

        await self._pool.run(thd_set)

    async def get_change_source_master(self, changesourceid: int) -> int | None:
        """The id of the master owning the change source, or None."""
        owned = self._owned
        return await self._pool.run(lambda conn: owned.thd_owner(conn, changesourceid))

    async def getChangeSource(self, changesourceid: int) -> ChangeSourceModel | None:
        """The change source, or None."""
        found = await self.getChangeSources(_changesourceid=changesourceid)
        return found[0] if found else None

    async def getChangeSources(self, active: bool | None = None, masterid: int | None = None,
                               _changesourceid: int | None = None) -> list[ChangeSourceModel]:
        """Change sources by id: all, with (`active`) or without an owner, or owned by
        `masterid` (none when also `active=False`)."""
        cs = self._tables.changesources
        q = self._owned.listing([cs.c.id, cs.c.name], active, masterid, _changesourceid)
        if q is None:
            return []

        def thd_list(conn: sa.Connection) -> list[ChangeSourceModel]:
            return [ChangeSourceModel(r.id, r.name, r.masterid) for r in conn.execute(q)]

        return await self._pool.run(thd_list)
