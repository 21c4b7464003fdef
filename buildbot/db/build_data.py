"""The `build_data` table: named binary values attached to builds."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from buildbot.db.base import DbComponent, thd_upsert

#: Rows deleted per transaction by `deleteOldBuildData`.
PURGE_BATCH = 1000


@dataclass(frozen=True, slots=True)
class BuildDataModel:
    """A value of a build; `value` is None when read without it; `length` in bytes."""

    buildid: int
    name: str
    length: int
    source: str
    value: bytes | None


class BuildDataDb(DbComponent):
    """Build data."""

    async def setBuildData(self, buildid: int, name: str, value: bytes, source: str) -> None:
        """Store (or replace) the build's value `name` (one statement)."""
        t = self._tables.build_data
        self.check_length(t.c.name, name)
        self.check_length(t.c.source, source)

        def thd_set(conn: sa.Connection) -> None:
            thd_upsert(conn, t, {"buildid": buildid, "name": name},
                       {"value": value, "length": len(value), "source": source})

        await self._pool.run(thd_set)

    async def _get(self, buildid: int, name: str | None, with_value: bool
                   ) -> list[BuildDataModel]:
        t = self._tables.build_data
        cols = [t.c.buildid, t.c.name, t.c.length, t.c.source]
        q = sa.select(*cols, *([t.c.value] if with_value else [])).where(t.c.buildid == buildid)
        if name is not None:
            q = q.where(t.c.name == name)

        def thd_get(conn: sa.Connection) -> list[BuildDataModel]:
            return [BuildDataModel(r.buildid, r.name, r.length, r.source,
                                   bytes(r.value) if with_value else None)
                    for r in conn.execute(q.order_by(t.c.id))]

        return await self._pool.run(thd_get)

    async def getBuildData(self, buildid: int, name: str) -> BuildDataModel | None:
        """The value with its bytes, or None."""
        found = await self._get(buildid, name, True)
        return found[0] if found else None

    async def getBuildDataNoValue(self, buildid: int, name: str) -> BuildDataModel | None:
        """The value without its bytes (`value` None), or None."""
        found = await self._get(buildid, name, False)
        return found[0] if found else None

    async def getAllBuildDataNoValues(self, buildid: int) -> list[BuildDataModel]:
        """Every value of the build, without bytes."""
        return await self._get(buildid, None, False)

    async def deleteOldBuildData(self, older_than_timestamp: int) -> int:
        """Delete the data of builds completed before the time (running builds keep
        theirs); returns the rows deleted. Transactions of 1000 rows."""
        t = self._tables
        bd, b = t.build_data, t.builds

        def thd_purge(conn: sa.Connection) -> int:
            ids = [r.id for r in conn.execute(
                sa.select(bd.c.id).join(b, b.c.id == bd.c.buildid)
                .where(b.c.complete_at < older_than_timestamp).limit(PURGE_BATCH))]
            if ids:
                conn.execute(bd.delete().where(bd.c.id.in_(ids)))
            return len(ids)

        total = 0
        while True:
            deleted = await self._pool.run(thd_purge)
            total += deleted
            if deleted < PURGE_BATCH:
                return total
