"""The `masters` table: which masters exist, whether they run, and their last heartbeat."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from buildbot.db.base import Clock, DbComponent, apply_result_spec, hash_columns, thd_find_or_create
from buildbot.db.errors import MasterFencedError
from buildbot.db.model import Tables
from buildbot.db.pool import DbPool
from buildbot.util.resultspec import ResultSpec
from buildbot.util.timestamps import to_datetime


@dataclass(frozen=True, slots=True)
class MasterModel:
    """A master (`name` is `hostname:basedir`); `last_active` is an aware UTC datetime
    (stored as epoch seconds)."""

    id: int
    name: str
    active: bool
    last_active: datetime.datetime


class MastersDb(DbComponent):
    """Masters of a (possibly multi-master) installation. Each method is one transaction."""

    def __init__(self, pool: DbPool, tables: Tables, clock: Clock) -> None:
        super().__init__(pool, tables, clock)
        t = tables.masters
        #: data API field -> column, for `result_spec` pushdown.
        self.result_spec_fields: dict[str, sa.ColumnElement[Any]] = {
            "masterid": t.c.id, "name": t.c.name, "active": t.c.active,
            "last_active": t.c.last_active}

    @staticmethod
    def _row(row: Any) -> MasterModel:
        return MasterModel(id=row.id, name=row.name, active=bool(row.active),
                           last_active=to_datetime(row.last_active))

    async def findMasterId(self, name: str) -> int:
        """The id of the master called `name`, created inactive if new."""
        t = self._tables.masters
        name_hash = hash_columns(name)
        now = self._now()

        def thd_find(conn: sa.Connection) -> int:
            masterid, _ = thd_find_or_create(
                conn, t, {"name_hash": name_hash},
                {"name": name, "name_hash": name_hash, "active": 0, "last_active": now})
            assert masterid is not None
            return masterid

        return await self._pool.run(thd_find)

    async def setMasterState(self, masterid: int, active: bool) -> bool:
        """Mark the master (in)active; True if the stored flag changed (False if missing).

        Activating refreshes `last_active`; deactivating first releases the master's
        schedulers. Two or three statements, one transaction.
        """
        t, sm = self._tables.masters, self._tables.scheduler_masters
        now = self._now()

        def thd_set(conn: sa.Connection) -> bool:
            if active:
                changed = conn.execute(
                    t.update().where(t.c.id == masterid, t.c.active == 0)
                    .values(active=1, last_active=now)).rowcount
                if not changed:
                    conn.execute(t.update().where(t.c.id == masterid).values(last_active=now))
                return bool(changed)
            conn.execute(sm.delete().where(sm.c.masterid == masterid))
            # its worker connections died with it: the UI shows them disconnected at once
            cw = self._tables.connected_workers
            conn.execute(cw.delete().where(cw.c.masterid == masterid))
            return bool(conn.execute(
                t.update().where(t.c.id == masterid, t.c.active != 0).values(active=0)).rowcount)

        return await self._pool.run(thd_set)

    async def checkIn(self, masterid: int) -> bool:
        """Heartbeat: refresh `last_active` if the master is still marked active. False when
        another master has expired it meanwhile (it is fenced, and must not re-activate
        itself: its requests and builds have been handed over). One statement."""
        t = self._tables.masters
        now = self._now()

        def thd_check_in(conn: sa.Connection) -> bool:
            return bool(conn.execute(t.update().where(t.c.id == masterid, t.c.active != 0)
                                     .values(last_active=now)).rowcount)

        return await self._pool.run(thd_check_in)

    async def getMaster(self, masterid: int) -> MasterModel | None:
        """The master with this id, or None."""
        t = self._tables.masters

        def thd_get(conn: sa.Connection) -> MasterModel | None:
            row = conn.execute(sa.select(t).where(t.c.id == masterid)).first()
            return None if row is None else self._row(row)

        return await self._pool.run(thd_get)

    async def getMasters(self, result_spec: ResultSpec | None = None) -> list[MasterModel]:
        """Every master, by id unless `result_spec` orders otherwise (all of it in SQL)."""
        t = self._tables.masters
        dialect = self._pool.dialect

        def thd_list(conn: sa.Connection) -> list[MasterModel]:
            q = apply_result_spec(sa.select(t).order_by(t.c.id), result_spec,
                                  self.result_spec_fields, dialect)
            return [self._row(r) for r in conn.execute(q)]

        return await self._pool.run(thd_list)

    async def setAllMastersActiveLongTimeAgo(self) -> None:
        """Mark every master active with a heartbeat at epoch 0, so that the next master to
        start expires them all (run by upgrade-master)."""
        t = self._tables.masters

        def thd_all(conn: sa.Connection) -> None:
            conn.execute(t.update().values(active=1, last_active=0))

        await self._pool.run(thd_all)


def thd_fence(conn: sa.Connection, tables: Tables, masterid: int | None) -> None:
    """Refuse (`MasterFencedError`) a write of master `masterid` once it is marked inactive.

    Called first in the transaction of every claim, build start and build/request
    completion. The row is read with a shared lock, so an expiry (an UPDATE of that row)
    waits for the write to commit, or the write waits for the expiry and then sees the row
    inactive: either the expiring master's housekeeping sees the write, or the write is
    refused. No timing is involved. (SQLite serializes writers, which gives the same order.)
    """
    if masterid is None:  # a database used without a master (tools, db unit tests)
        return
    t = tables.masters
    q = sa.select(t.c.active).where(t.c.id == masterid)
    if conn.dialect.name != "sqlite":
        q = q.with_for_update(read=True)
    if not conn.execute(q).scalar():
        raise MasterFencedError(
            f"master {masterid} is marked inactive (expired by another master): "
            "its writes are refused")
