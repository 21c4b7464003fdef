"""The `workers`, `configured_workers` and `connected_workers` tables."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from buildbot.db.base import DbComponent, insert_ignoring_duplicates, thd_find_or_create
from buildbot.db.errors import InvalidValueError
from buildbot.util.identifiers import isIdentifier

# Workers per IN (...) list: well below every backend's bound-parameter limit.
_CHUNK = 500


@dataclass(frozen=True, slots=True)
class BuilderMasterModel:
    """A (builder, master) pair a worker is configured for."""

    builderid: int
    masterid: int


@dataclass(frozen=True, slots=True)
class WorkerModel:
    """A worker; `workerinfo` is what it reported on its last connection (`{}` if never)."""

    id: int
    name: str
    workerinfo: dict[str, Any]
    paused: bool = False
    pause_reason: str | None = None
    graceful: bool = False
    configured_on: list[BuilderMasterModel] = field(default_factory=list)
    connected_to: list[int] = field(default_factory=list)


def _info(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    value = json.loads(text)
    return value if isinstance(value, dict) else {}


class WorkersDb(DbComponent):
    """Workers, where they are configured and which masters they are connected to."""

    async def findWorkerId(self, name: str) -> int:
        """The id of the worker `name` (an identifier of at most 50 chars), created if new."""
        if not isIdentifier(50, name):
            raise InvalidValueError(f"{name!r} is not a valid worker name (identifier of at "
                                    "most 50 characters)")
        t = self._tables.workers

        def thd_find(conn: sa.Connection) -> int:
            workerid, _ = thd_find_or_create(
                conn, t, {"name": name}, {"name": name, "info": "{}", "paused": 0,
                                          "graceful": 0})
            assert workerid is not None
            return workerid

        return await self._pool.run(thd_find)

    async def findWorkerIds(self, names: Iterable[str]) -> dict[str, int]:
        """`findWorkerId` for many workers (name -> id) in one transaction."""
        wanted = list(dict.fromkeys(names))
        for name in wanted:
            if not isIdentifier(50, name):
                raise InvalidValueError(f"{name!r} is not a valid worker name (identifier of "
                                        "at most 50 characters)")
        t = self._tables.workers

        def thd_find(conn: sa.Connection) -> dict[str, int]:
            found: dict[str, int] = {}

            def select(names: list[str]) -> None:
                for i in range(0, len(names), _CHUNK):
                    q = sa.select(t.c.id, t.c.name).where(t.c.name.in_(names[i:i + _CHUNK]))
                    found.update((r.name, int(r.id)) for r in conn.execute(q))

            select(wanted)
            missing = [n for n in wanted if n not in found]
            if missing:
                conn.execute(insert_ignoring_duplicates(conn, t), [
                    {"name": n, "info": "{}", "paused": 0, "graceful": 0} for n in missing])
                select(missing)  # also finds a row another master inserted meanwhile
            return found

        return await self._pool.run(thd_find)

    async def workerConfigured(self, workerid: int, masterid: int,
                               builderids: Sequence[int]) -> None:
        """Make the worker configured, on this master, for exactly `builderids` (those of
        them attached to the master; others are skipped)."""
        await self.workersConfigured(masterid, {workerid: builderids})

    async def workersConfigured(self, masterid: int,
                                builderids: Mapping[int, Sequence[int]]) -> None:
        """`workerConfigured` for many workers (workerid -> builderids) in one transaction
        of a few statements, however many workers."""
        t = self._tables
        cw, bm = t.configured_workers, t.builder_masters
        if not builderids:
            return

        def thd_configure(conn: sa.Connection) -> None:
            on_master = {int(r.builderid): int(r.id) for r in conn.execute(
                sa.select(bm.c.id, bm.c.builderid).where(bm.c.masterid == masterid))}
            workerids = list(builderids)
            have: dict[int, set[int]] = {w: set() for w in workerids}
            for i in range(0, len(workerids), _CHUNK):
                for r in conn.execute(sa.select(cw.c.workerid, cw.c.buildermasterid).where(
                        cw.c.workerid.in_(workerids[i:i + _CHUNK]),
                        cw.c.buildermasterid.in_(
                            sa.select(bm.c.id).where(bm.c.masterid == masterid)))):
                    have[r.workerid].add(r.buildermasterid)
            extra, missing = [], []
            for workerid, wanted_builders in builderids.items():
                wanted = {on_master[b] for b in wanted_builders if b in on_master}
                extra += [(workerid, b) for b in have[workerid] - wanted]
                missing += [{"workerid": workerid, "buildermasterid": b}
                            for b in sorted(wanted - have[workerid])]
            if extra:
                conn.execute(cw.delete().where(cw.c.workerid == sa.bindparam("w"),
                                               cw.c.buildermasterid == sa.bindparam("bm")),
                             [{"w": w, "bm": b} for w, b in extra])
            if missing:
                conn.execute(insert_ignoring_duplicates(conn, cw), missing)

        await self._pool.run(thd_configure)

    async def deconfigureAllWorkersForMaster(self, masterid: int) -> None:
        """Forget every worker configuration of this master."""
        t = self._tables
        cw, bm = t.configured_workers, t.builder_masters

        def thd_deconfigure(conn: sa.Connection) -> None:
            conn.execute(cw.delete().where(cw.c.buildermasterid.in_(
                sa.select(bm.c.id).where(bm.c.masterid == masterid))))

        await self._pool.run(thd_deconfigure)

    async def workerConnected(self, workerid: int, masterid: int,
                              workerinfo: dict[str, Any]) -> None:
        """Record the connection to this master and store the worker's info."""
        t = self._tables
        info = json.dumps(workerinfo)

        def thd_connected(conn: sa.Connection) -> None:
            conn.execute(insert_ignoring_duplicates(conn, t.connected_workers).values(
                workerid=workerid, masterid=masterid))
            conn.execute(t.workers.update().where(t.workers.c.id == workerid).values(info=info))

        await self._pool.run(thd_connected)

    async def workerDisconnected(self, workerid: int, masterid: int) -> None:
        """Forget the connection to this master."""
        c = self._tables.connected_workers

        def thd_disconnected(conn: sa.Connection) -> None:
            conn.execute(c.delete().where(c.c.workerid == workerid, c.c.masterid == masterid))

        await self._pool.run(thd_disconnected)

    async def set_worker_paused(self, workerid: int, paused: bool,
                                pause_reason: str | None = None) -> None:
        """Pause or unpause the worker, with a reason."""
        await self._update(workerid, paused=int(bool(paused)), pause_reason=pause_reason)

    async def set_worker_graceful(self, workerid: int, graceful: bool) -> None:
        """Set or clear the graceful-shutdown request."""
        await self._update(workerid, graceful=int(bool(graceful)))

    async def _update(self, workerid: int, **values: Any) -> None:
        w = self._tables.workers

        def thd_update(conn: sa.Connection) -> None:
            conn.execute(w.update().where(w.c.id == workerid).values(**values))

        await self._pool.run(thd_update)

    async def getWorker(self, workerid: int | None = None, name: str | None = None,
                        masterid: int | None = None, builderid: int | None = None
                        ) -> WorkerModel | None:
        """The worker with this id or name (restricted like `getWorkers`), or None."""
        if workerid is None and name is None:
            return None
        found = await self.getWorkers(_workerid=workerid, _name=name, masterid=masterid,
                                      builderid=builderid)
        return found[0] if found else None

    async def getWorkers(self, _workerid: int | None = None, _name: str | None = None,
                         masterid: int | None = None, builderid: int | None = None,
                         paused: bool | None = None, graceful: bool | None = None
                         ) -> list[WorkerModel]:
        """Workers by id. `masterid`/`builderid` keep the workers configured there (and only
        those configuration rows); `connected_to` is limited to `masterid` when given.
        Two queries in one transaction."""
        t = self._tables
        w, cw, bm, cn = t.workers, t.configured_workers, t.builder_masters, t.connected_workers

        def thd_list(conn: sa.Connection) -> list[WorkerModel]:
            j = w.outerjoin(cw, cw.c.workerid == w.c.id).outerjoin(
                bm, bm.c.id == cw.c.buildermasterid)
            q = sa.select(w.c.id, w.c.name, w.c.info, w.c.paused, w.c.pause_reason,
                          w.c.graceful, bm.c.builderid, bm.c.masterid).select_from(j) \
                .order_by(w.c.id, bm.c.id)
            # Each filter given narrows the rows; the flags are stored as 0/1 integers.
            wanted = ((w.c.id, _workerid), (w.c.name, _name), (bm.c.masterid, masterid),
                      (bm.c.builderid, builderid),
                      (w.c.paused, None if paused is None else int(paused)),
                      (w.c.graceful, None if graceful is None else int(graceful)))
            q = q.where(*(col == value for col, value in wanted if value is not None))
            found: dict[int, WorkerModel] = {}
            for r in conn.execute(q):
                model = found.get(r.id)
                if model is None:
                    model = found[r.id] = WorkerModel(
                        id=r.id, name=r.name, workerinfo=_info(r.info), paused=bool(r.paused),
                        pause_reason=r.pause_reason, graceful=bool(r.graceful))
                if r.builderid is not None and r.masterid is not None:
                    model.configured_on.append(BuilderMasterModel(r.builderid, r.masterid))
            if not found:
                return []
            cq = sa.select(cn.c.workerid, cn.c.masterid).order_by(cn.c.workerid, cn.c.masterid)
            if len(found) <= 500:
                cq = cq.where(cn.c.workerid.in_(list(found)))
            if masterid is not None:
                cq = cq.where(cn.c.masterid == masterid)
            for c in conn.execute(cq):
                if c.workerid in found:
                    found[c.workerid].connected_to.append(c.masterid)
            return list(found.values())

        return await self._pool.run(thd_list)
