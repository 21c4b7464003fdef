"""The `builds` and `build_properties` tables."""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from buildbot.db.base import Clock, DbComponent, apply_result_spec, chunked, inserted_id
from buildbot.db.masters import thd_fence
from buildbot.db.model import Tables
from buildbot.db.pool import DbPool
from buildbot.util.resultspec import ResultSpec
from buildbot.util.timestamps import to_datetime, to_epoch

#: {name: (value, source)}
BuildProperties = dict[str, tuple[Any, str]]

#: Builds examined per query when looking for the previous successful build.
PREV_BUILD_BATCH = 1000


@dataclass(frozen=True, slots=True)
class BuildModel:
    """A build; `complete_at`/`results` are None while it runs; times are aware UTC
    datetimes, as in Buildbot 4.3 (stored as epoch seconds)."""

    id: int
    number: int
    builderid: int
    buildrequestid: int
    workerid: int | None
    masterid: int
    started_at: datetime.datetime
    complete_at: datetime.datetime | None
    locks_duration_s: int | None
    state_string: str
    results: int | None


def _build(r: Any) -> BuildModel:
    """A row of `select(builds)`. Positional: the table's columns are in the model's order,
    and by position a list of builds (REST pages of 50 to 2000) converts twice as fast as by
    attribute name."""
    (buildid, number, builderid, buildrequestid, workerid, masterid, started_at,
     complete_at, locks_duration_s, state_string, results) = r
    return BuildModel(buildid, number, builderid, buildrequestid, workerid, masterid,
                      to_datetime(started_at), to_datetime(complete_at), locks_duration_s,
                      state_string, results)


class BuildsDb(DbComponent):
    """Builds and their properties."""

    def __init__(self, pool: DbPool, tables: Tables, clock: Clock,
                 fence_masterid: Callable[[], int | None] = lambda: None) -> None:
        super().__init__(pool, tables, clock)
        # the running master whose build starts and ends are refused once it is fenced
        # (see masters.thd_fence)
        self._fence_masterid = fence_masterid
        b, p = tables.builds, tables.build_properties
        #: data API field -> column, for `result_spec` pushdown.
        self.result_spec_fields: dict[str, sa.ColumnElement[Any]] = {
            "buildid": b.c.id, "number": b.c.number, "builderid": b.c.builderid,
            "buildrequestid": b.c.buildrequestid, "workerid": b.c.workerid,
            "masterid": b.c.masterid, "started_at": b.c.started_at,
            "complete_at": b.c.complete_at, "locks_duration_s": b.c.locks_duration_s,
            "state_string": b.c.state_string, "results": b.c.results}
        # INSERT ... SELECT max(number) + 1: numbering and insertion in one statement.
        values = sa.select(
            sa.func.coalesce(sa.func.max(b.c.number), 0) + 1,
            *(sa.bindparam(f"_{n}", type_=sa.Integer)
              for n in ("builderid", "buildrequestid", "workerid", "masterid", "now")),
            sa.null(), sa.literal(0, sa.Integer),
            sa.bindparam("_state_string", type_=sa.Text), sa.null(),
        ).where(b.c.builderid == sa.bindparam("_builderid"))
        add = b.insert().from_select(
            ["number", "builderid", "buildrequestid", "workerid", "masterid", "started_at",
             "complete_at", "locks_duration_s", "state_string", "results"], values)
        self._add_build = (add, add.returning(b.c.id, b.c.number))
        self._prop_select = sa.select(p.c.name, p.c.value, p.c.source).where(
            p.c.buildid == sa.bindparam("_buildid"),
            p.c.name.in_(sa.bindparam("_names", expanding=True)))
        self._prop_update = p.update().where(
            p.c.buildid == sa.bindparam("_buildid"), p.c.name == sa.bindparam("_name")).values(
            value=sa.bindparam("_value"), source=sa.bindparam("_source"))
        self._prop_insert = p.insert()
        #: property-list field -> column (`/builds/n/property_list`), for `getBuildProperties`.
        self.property_result_spec_fields: dict[str, sa.ColumnElement[Any]] = {
            "name": p.c.name, "value": p.c.value, "source": p.c.source}

    # -- builds ------------------------------------------------------------------------------
    async def addBuild(self, builderid: int, buildrequestid: int, workerid: int | None,
                       masterid: int, state_string: str) -> tuple[int, int]:
        """Start a build numbered after the builder's last one; returns (buildid, number).

        The number is computed by the INSERT itself (one statement); if another master took
        it in the meantime, the unique index refuses the row and the insert is repeated.
        """
        row = await self.add_build_row(builderid, buildrequestid, workerid, masterid,
                                       state_string)
        return row.id, row.number

    async def add_build_row(self, builderid: int, buildrequestid: int, workerid: int | None,
                            masterid: int, state_string: str) -> BuildModel:
        """`addBuild`, returning the whole new row (built from what was written, so the
        data layer can announce the build without reading it back). One transaction."""
        row, _ = await self.add_build_row_with_step(builderid, buildrequestid, workerid,
                                                    masterid, state_string)
        return row

    async def add_build_row_with_step(self, builderid: int, buildrequestid: int,
                                      workerid: int | None, masterid: int, state_string: str,
                                      step_name: str | None = None
                                      ) -> tuple[BuildModel, int | None]:
        """`add_build_row`, and with `step_name` the build's first step (number 0, pending,
        started and holding its locks at the build's start) in the same transaction;
        returns (the build's row, the step's id or None)."""
        b, st = self._tables.builds, self._tables.steps
        stmt, returning = self._add_build
        now = self._now()
        params = {"_builderid": builderid, "_buildrequestid": buildrequestid,
                  "_workerid": workerid, "_masterid": masterid, "_now": now,
                  "_state_string": state_string}

        def thd_add(conn: sa.Connection) -> tuple[int, int, int | None]:
            buildid, number = thd_add_build(conn)
            stepid = None
            if step_name is not None:  # a new build has no step yet: no name to dedupe
                stepid = inserted_id(conn.execute(st.insert().values(
                    number=0, name=step_name, buildid=buildid, started_at=now,
                    locks_acquired_at=now, state_string="pending", urls_json="[]",
                    hidden=0)))
            return buildid, number, stepid

        def thd_add_build(conn: sa.Connection) -> tuple[int, int]:
            while True:
                thd_fence(conn, self._tables,
                          masterid if masterid == self._fence_masterid() else None)
                try:
                    if conn.dialect.insert_returning:
                        row = conn.execute(returning, params).one()
                        buildid, number = int(row.id), int(row.number)
                    else:
                        buildid = int(conn.execute(stmt, params).lastrowid)
                        number = int(conn.execute(sa.select(b.c.number)
                                                  .where(b.c.id == buildid)).scalar_one())
                    return (buildid, number)
                except sa.exc.IntegrityError:
                    conn.rollback()  # another master got this number first: take the next

        buildid, number, stepid = await self._pool.run(thd_add)
        return BuildModel(id=buildid, number=number, builderid=builderid,
                          buildrequestid=buildrequestid, workerid=workerid, masterid=masterid,
                          started_at=to_datetime(now), complete_at=None, locks_duration_s=0,
                          state_string=state_string, results=None), stepid

    async def _one(self, *where: Any) -> BuildModel | None:
        b = self._tables.builds

        def thd_get(conn: sa.Connection) -> BuildModel | None:
            row = conn.execute(sa.select(b).where(*where)).first()
            return None if row is None else _build(row)

        return await self._pool.run(thd_get)

    async def _many(self, q: sa.Select[Any]) -> list[BuildModel]:
        def thd_list(conn: sa.Connection) -> list[BuildModel]:
            return [_build(r) for r in conn.execute(q).all()]

        return await self._pool.run(thd_list)

    async def getBuild(self, buildid: int) -> BuildModel | None:
        """The build, or None."""
        return await self._one(self._tables.builds.c.id == buildid)

    async def getBuildByNumber(self, builderid: int, number: int) -> BuildModel | None:
        """The build `number` of the builder, or None."""
        b = self._tables.builds
        return await self._one(b.c.builderid == builderid, b.c.number == number)

    async def getBuilds(self, builderid: int | None = None, buildrequestid: int | None = None,
                        workerid: int | None = None, complete: bool | None = None,
                        result_spec: ResultSpec | None = None) -> list[BuildModel]:
        """Builds by id, filtered; `complete` means `complete_at` is set. `result_spec` is
        applied in SQL (see `result_spec_fields`)."""
        b = self._tables.builds
        given = ((b.c.builderid, builderid), (b.c.buildrequestid, buildrequestid),
                 (b.c.workerid, workerid))
        q = sa.select(b).order_by(b.c.id).where(
            *(col == value for col, value in given if value is not None))
        if complete is not None:
            q = q.where(b.c.complete_at.is_not(None) if complete else b.c.complete_at.is_(None))
        return await self._many(apply_result_spec(q, result_spec, self.result_spec_fields,
                                                  self._pool.dialect))

    async def getBuildsForChange(self, changeid: int) -> list[BuildModel]:
        """Builds of buildsets containing the change's source stamp, by id."""
        t = self._tables
        b, br, bss, ch = t.builds, t.buildrequests, t.buildset_sourcestamps, t.changes
        j = ch.join(bss, bss.c.sourcestampid == ch.c.sourcestampid) \
            .join(br, br.c.buildsetid == bss.c.buildsetid).join(b, b.c.buildrequestid == br.c.id)
        return await self._many(sa.select(b).select_from(j).where(ch.c.changeid == changeid)
                                .order_by(b.c.id))

    async def get_triggered_builds(self, buildid: int) -> list[BuildModel]:
        """Builds of buildsets whose parent is this build, by id."""
        t = self._tables
        b, br, bs = t.builds, t.buildrequests, t.buildsets
        j = bs.join(br, br.c.buildsetid == bs.c.id).join(b, b.c.buildrequestid == br.c.id)
        return await self._many(sa.select(b).select_from(j)
                                .where(bs.c.parent_buildid == buildid).order_by(b.c.id))

    async def getPrevSuccessfulBuild(self, builderid: int, number: int,
                                     ssBuild: Iterable[Any]) -> BuildModel | None:
        """The most recently completed successful build of the builder numbered below
        `number` whose source stamps have the same (repository, branch, codebase) set as
        `ssBuild` (source stamp models), or None. One transaction, two queries per 1000
        candidate builds."""
        t = self._tables
        b, br, bss, ss = t.builds, t.buildrequests, t.buildset_sourcestamps, t.sourcestamps
        wanted = {(s.repository, s.branch, s.codebase) for s in ssBuild}

        def thd_prev(conn: sa.Connection) -> BuildModel | None:
            offset = 0
            while True:
                rows = conn.execute(sa.select(b).where(
                    b.c.builderid == builderid, b.c.number < number, b.c.results == 0)
                    .order_by(b.c.complete_at.desc(), b.c.id.desc())
                    .offset(offset).limit(PREV_BUILD_BATCH)).all()
                if not rows:
                    return None
                stamps: dict[int, set[tuple[Any, ...]]] = {r.id: set() for r in rows}
                for ids in chunked([r.id for r in rows]):
                    for s in conn.execute(
                            sa.select(b.c.id, ss.c.repository, ss.c.branch, ss.c.codebase)
                            .select_from(b.join(br, br.c.id == b.c.buildrequestid)
                                         .join(bss, bss.c.buildsetid == br.c.buildsetid)
                                         .join(ss, ss.c.id == bss.c.sourcestampid))
                            .where(b.c.id.in_(ids))):
                        stamps[s.id].add((s.repository, s.branch, s.codebase))
                for r in rows:
                    if stamps[r.id] == wanted:
                        return _build(r)
                offset += PREV_BUILD_BATCH

        return await self._pool.run(thd_prev)

    async def setBuildStateString(self, buildid: int, state_string: str) -> None:
        """Set the build's state text."""
        await self._update(buildid, state_string=state_string)

    async def finishBuild(self, buildid: int, results: int,
                          complete_at: int | datetime.datetime | None = None,
                          state_string: str | None = None) -> None:
        """Mark the build finished now with `results` (one statement)."""
        # `complete_at` and `state_string` are extensions: see StepsDb.finishStep.
        values: dict[str, Any] = {"complete_at": self._now() if complete_at is None
                                  else to_epoch(complete_at), "results": results}
        if state_string is not None:
            values["state_string"] = state_string
        await self._update(buildid, fence=self._fence_masterid(), **values)

    async def add_build_locks_duration(self, buildid: int, duration_s: int) -> None:
        """Add to the time the build spent waiting for locks."""
        b = self._tables.builds

        def thd_add(conn: sa.Connection) -> None:
            conn.execute(b.update().where(b.c.id == buildid).values(
                locks_duration_s=b.c.locks_duration_s + duration_s))

        await self._pool.run(thd_add)

    async def _update(self, buildid: int, fence: int | None = None, **values: Any) -> None:
        stmt, params = self._update_by_id(self._tables.builds, buildid, values)

        def thd_update(conn: sa.Connection) -> None:
            thd_fence(conn, self._tables, fence)
            conn.execute(stmt, params)

        await self._pool.run(thd_update)

    # -- properties --------------------------------------------------------------------------
    async def getBuildProperties(self, bid: int, result_spec: ResultSpec | None = None
                                 ) -> BuildProperties:
        """{name: (value, source)} of the build; `result_spec` (fields name, value — the
        JSON text —, source) applied in SQL."""
        p = self._tables.build_properties
        q = sa.select(p.c.name, p.c.value, p.c.source).where(p.c.buildid == bid)
        q = apply_result_spec(q, result_spec, self.property_result_spec_fields,
                              self._pool.dialect)

        def thd_props(conn: sa.Connection) -> BuildProperties:
            return {r.name: (json.loads(r.value), r.source) for r in conn.execute(q)}

        return await self._pool.run(thd_props)

    async def get_builds_properties(self, buildids: Sequence[int]) -> dict[int, BuildProperties]:
        """Properties of many builds in one round trip: {buildid: {name: (value, source)}}."""
        p = self._tables.build_properties

        def thd_props(conn: sa.Connection) -> dict[int, BuildProperties]:
            out: dict[int, BuildProperties] = {bid: {} for bid in buildids}
            for ids in chunked(list(buildids)):
                for r in conn.execute(sa.select(p.c.buildid, p.c.name, p.c.value, p.c.source)
                                      .where(p.c.buildid.in_(ids))):
                    out[r.buildid][r.name] = (json.loads(r.value), r.source)
            return out

        return await self._pool.run(thd_props)

    async def setBuildProperty(self, bid: int, name: str, value: Any, source: str) -> None:
        """Set one property (written only if its value or source changed)."""
        await self.set_build_properties(bid, {name: (value, source)})

    async def set_build_properties(self, bid: int,
                                   properties: Mapping[str, tuple[Any, str]]) -> None:
        """Set many properties of a build in one round trip: inserts the new ones, updates
        those whose JSON value or source changed."""
        if properties:
            await self._pool.run(self._thd_set_properties(bid, properties))

    async def set_properties_and_state(self, bid: int,
                                       properties: Mapping[str, tuple[Any, str]],
                                       state_string: str) -> None:
        """`set_build_properties` and `setBuildStateString` in one transaction."""
        set_props = self._thd_set_properties(bid, properties)
        stmt, params = self._update_by_id(self._tables.builds, bid,
                                          {"state_string": state_string})

        def thd_set_and_state(conn: sa.Connection) -> None:
            if properties:
                set_props(conn)
            conn.execute(stmt, params)

        await self._pool.run(thd_set_and_state)

    def properties_writer(self, bid: int, properties: Mapping[str, tuple[Any, str]]
                          ) -> Callable[[sa.Connection], None]:
        """`set_build_properties` as a thd function, to run inside another write's
        transaction (values are encoded and checked now)."""
        return self._thd_set_properties(bid, properties)

    def _thd_set_properties(self, bid: int, properties: Mapping[str, tuple[Any, str]]
                            ) -> Callable[[sa.Connection], None]:
        p = self._tables.build_properties
        wanted = {}
        for name, (value, source) in properties.items():
            self.check_length(p.c.name, name)
            self.check_length(p.c.source, source)
            wanted[name] = (json.dumps(value), source)

        def thd_set(conn: sa.Connection) -> None:
            have = {r.name: (r.value, r.source) for r in conn.execute(
                self._prop_select, {"_buildid": bid, "_names": list(wanted)})}
            new = [{"buildid": bid, "name": n, "value": v, "source": s}
                   for n, (v, s) in wanted.items() if n not in have]
            if new:
                conn.execute(self._prop_insert, new)
            changed = [{"_buildid": bid, "_name": n, "_value": v, "_source": s}
                       for n, (v, s) in wanted.items() if n in have and have[n] != (v, s)]
            if changed:
                conn.execute(self._prop_update, changed)

        return thd_set
