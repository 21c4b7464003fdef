"""The `schedulers`, `scheduler_masters` and `scheduler_changes` tables."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from buildbot.db.base import DbComponent, chunked
from buildbot.db.errors import SchedulerAlreadyClaimedError
from buildbot.db.ownership import ClaimedServices

#: "argument not given" for getChangeClassifications (None is a valid branch).
NOT_GIVEN: Any = -1


@dataclass(frozen=True, slots=True)
class SchedulerModel:
    """A scheduler; `masterid` is the master running it, if any."""

    id: int
    name: str
    enabled: bool = True
    masterid: int | None = None


class SchedulersDb(DbComponent):
    """Schedulers, their owning master and the changes they classified."""

    @property
    def _owned(self) -> ClaimedServices:
        t = self._tables
        return ClaimedServices(t.schedulers, t.scheduler_masters, "schedulerid")

    async def findSchedulerId(self, name: str) -> int:
        """The id of the scheduler `name`, created if new."""
        owned = self._owned
        return await self._pool.run(lambda conn: owned.thd_id_for_name(conn, name))

    async def enable(self, schedulerid: int, v: bool) -> None:
        """Enable or disable the scheduler."""
        t = self._tables.schedulers

        def thd_enable(conn: sa.Connection) -> None:
            conn.execute(t.update().where(t.c.id == schedulerid).values(enabled=int(bool(v))))

        await self._pool.run(thd_enable)

    async def setSchedulerMaster(self, schedulerid: int, masterid: int | None) -> None:
        """Make `masterid` the scheduler's owner (None: no owner). If another master owns
        it, `SchedulerAlreadyClaimedError`; if this one does already, nothing happens."""
        owned, masters = self._owned, self._tables.masters

        def thd_set(conn: sa.Connection) -> None:
            if masterid is None:
                owned.thd_release(conn, schedulerid)
                return
            if owned.thd_claim(conn, schedulerid, masterid):
                return
            holder = owned.thd_owner(conn, schedulerid)
            if holder == masterid:
                return
            holder_name = None if holder is None else conn.execute(
                sa.select(masters.c.name).where(masters.c.id == holder)).scalar()
            raise SchedulerAlreadyClaimedError(
                f"scheduler {schedulerid} is already claimed by "
                f"{holder_name or 'another master'}")

        await self._pool.run(thd_set)

    async def get_scheduler_master(self, schedulerid: int) -> int | None:
        """The id of the master owning the scheduler, or None."""
        owned = self._owned
        return await self._pool.run(lambda conn: owned.thd_owner(conn, schedulerid))

    async def getScheduler(self, schedulerid: int) -> SchedulerModel | None:
        """The scheduler, or None."""
        found = await self.getSchedulers(_schedulerid=schedulerid)
        return found[0] if found else None

    async def getSchedulers(self, active: bool | None = None, masterid: int | None = None,
                            _schedulerid: int | None = None) -> list[SchedulerModel]:
        """Schedulers by id: all, those with (`active`) or without an owner, or those owned
        by `masterid` (none when also `active=False`)."""
        sched = self._tables.schedulers
        q = self._owned.listing([sched.c.id, sched.c.name, sched.c.enabled], active,
                                masterid, _schedulerid)
        if q is None:
            return []

        def thd_list(conn: sa.Connection) -> list[SchedulerModel]:
            return [SchedulerModel(id=r.id, name=r.name,
                                   enabled=r.enabled is None or bool(r.enabled),
                                   masterid=r.masterid) for r in conn.execute(q)]

        return await self._pool.run(thd_list)

    async def classifyChanges(self, schedulerid: int, classifications: Mapping[int, bool]
                              ) -> None:
        """Record, for each change, whether it is important to the scheduler (replacing an
        earlier classification)."""
        sc = self._tables.scheduler_changes
        rows = [{"schedulerid": schedulerid, "changeid": c, "important": int(bool(i))}
                for c, i in classifications.items()]

        def thd_classify(conn: sa.Connection) -> None:
            for batch in chunked(rows):
                conn.execute(sc.delete().where(
                    sc.c.schedulerid == schedulerid,
                    sc.c.changeid.in_([r["changeid"] for r in batch])))
                conn.execute(sc.insert(), list(batch))

        if rows:
            await self._pool.run(thd_classify)

    async def flushChangeClassifications(self, schedulerid: int,
                                         less_than: int | None = None) -> None:
        """Forget the scheduler's classifications (of changes below `less_than`, if given)."""
        sc = self._tables.scheduler_changes

        def thd_flush(conn: sa.Connection) -> None:
            q = sc.delete().where(sc.c.schedulerid == schedulerid)
            if less_than is not None:
                q = q.where(sc.c.changeid < less_than)
            conn.execute(q)

        await self._pool.run(thd_flush)

    async def getChangeClassifications(self, schedulerid: int, branch: Any = NOT_GIVEN,
                                       repository: Any = NOT_GIVEN, project: Any = NOT_GIVEN,
                                       codebase: Any = NOT_GIVEN) -> dict[int, bool]:
        """{changeid: important} of the scheduler, optionally only for changes on that
        branch / repository / project / codebase (-1 = any; None is a real branch)."""
        t = self._tables
        sc, ch = t.scheduler_changes, t.changes
        q = sa.select(sc.c.changeid, sc.c.important).where(sc.c.schedulerid == schedulerid)
        wheres = []
        for col, value in ((ch.c.branch, branch), (ch.c.repository, repository),
                           (ch.c.project, project), (ch.c.codebase, codebase)):
            if value is NOT_GIVEN or (isinstance(value, int) and value == -1):
                continue
            wheres.append(col.is_(None) if value is None else col == value)
        if wheres:
            q = q.select_from(sc.join(ch, ch.c.changeid == sc.c.changeid)).where(*wheres)

        def thd_get(conn: sa.Connection) -> dict[int, bool]:
            return {r.changeid: bool(r.important) for r in conn.execute(q)}

        return await self._pool.run(thd_get)
