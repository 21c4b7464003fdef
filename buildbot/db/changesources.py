"""The `changesources` and `changesource_masters` tables."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from buildbot.db.base import DbComponent, hash_columns, thd_find_or_create
from buildbot.db.errors import ChangeSourceAlreadyClaimedError


@dataclass(frozen=True, slots=True)
class ChangeSourceModel:
    """A change source; `masterid` is the master running it, if any."""

    id: int
    name: str
    masterid: int | None = None


class ChangeSourcesDb(DbComponent):
    """Change sources and their owning master."""

    async def findChangeSourceId(self, name: str) -> int:
        """The id of the change source `name`, created if new."""
        t = self._tables.changesources
        name_hash = hash_columns(name)

        def thd_find(conn: sa.Connection) -> int:
            found, _ = thd_find_or_create(conn, t, {"name_hash": name_hash},
                                          {"name": name, "name_hash": name_hash})
            assert found is not None
            return found

        return await self._pool.run(thd_find)

    async def setChangeSourceMaster(self, changesourceid: int, masterid: int | None) -> None:
        """Make `masterid` the owner (None: no owner). Any existing owner — even this very
        master, as in Buildbot — gives `ChangeSourceAlreadyClaimedError`."""
        cm = self._tables.changesource_masters

        def thd_set(conn: sa.Connection) -> None:
            if masterid is None:
                conn.execute(cm.delete().where(cm.c.changesourceid == changesourceid))
                return
            try:
                conn.execute(cm.insert().values(changesourceid=changesourceid,
                                                masterid=masterid))
            except sa.exc.IntegrityError as e:
                raise ChangeSourceAlreadyClaimedError(
                    f"change source {changesourceid} is already claimed") from e

        await self._pool.run(thd_set)

    async def get_change_source_master(self, changesourceid: int) -> int | None:
        """The id of the master owning the change source, or None."""
        cm = self._tables.changesource_masters

        def thd_get(conn: sa.Connection) -> int | None:
            return conn.execute(sa.select(cm.c.masterid).where(
                cm.c.changesourceid == changesourceid)).scalar()

        return await self._pool.run(thd_get)

    async def getChangeSource(self, changesourceid: int) -> ChangeSourceModel | None:
        """The change source, or None."""
        found = await self.getChangeSources(_changesourceid=changesourceid)
        return found[0] if found else None

    async def getChangeSources(self, active: bool | None = None, masterid: int | None = None,
                               _changesourceid: int | None = None) -> list[ChangeSourceModel]:
        """Change sources by id: all, with (`active`) or without an owner, or owned by
        `masterid` (none when also `active=False`)."""
        t = self._tables
        cs, cm = t.changesources, t.changesource_masters
        if masterid is not None and active is False:
            return []
        q = sa.select(cs.c.id, cs.c.name, cm.c.masterid).select_from(
            cs.outerjoin(cm, cm.c.changesourceid == cs.c.id)).order_by(cs.c.id)
        if _changesourceid is not None:
            q = q.where(cs.c.id == _changesourceid)
        if masterid is not None:
            q = q.where(cm.c.masterid == masterid)
        elif active is not None:
            q = q.where(cm.c.masterid.is_not(None) if active else cm.c.masterid.is_(None))

        def thd_list(conn: sa.Connection) -> list[ChangeSourceModel]:
            return [ChangeSourceModel(r.id, r.name, r.masterid) for r in conn.execute(q)]

        return await self._pool.run(thd_list)
