"""The `buildsets`, `buildset_properties` and `buildset_sourcestamps` tables (and the
build requests a buildset creates)."""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from buildbot.db.base import Clock, DbComponent, apply_result_spec, chunked, inserted_id
from buildbot.db.changes import ChangeModel, thd_change_models
from buildbot.db.errors import AlreadyCompleteError, InvalidValueError
from buildbot.db.model import Tables
from buildbot.db.pool import DbPool
from buildbot.db.sourcestamps import SourceStampsDb, thd_find_or_create_sourcestamp
from buildbot.util.resultspec import ResultSpec
from buildbot.util.timestamps import to_datetime, to_epoch

#: {name: (value, source)}
BuildsetProperties = dict[str, tuple[Any, str]]


@dataclass(frozen=True, slots=True)
class BuildSetModel:
    """A buildset; `results` is -1 until complete; `sourcestamps` are ssids; times are
    aware UTC datetimes (stored as epoch seconds)."""

    bsid: int
    external_idstring: str | None
    reason: str | None
    submitted_at: datetime.datetime
    complete: bool = False
    complete_at: datetime.datetime | None = None
    results: int | None = None
    parent_buildid: int | None = None
    parent_relationship: str | None = None
    rebuilt_buildid: int | None = None
    sourcestamps: list[int] = field(default_factory=list)


def thd_buildset_models(conn: sa.Connection, t: Tables, rows: Sequence[Any]
                        ) -> list[BuildSetModel]:
    """Models of buildset rows, with their source stamps (one more query per 500)."""
    bss = t.buildset_sourcestamps
    stamps: dict[int, list[int]] = {r.id: [] for r in rows}
    for ids in chunked([r.id for r in rows]):
        for s in conn.execute(sa.select(bss.c.buildsetid, bss.c.sourcestampid)
                              .where(bss.c.buildsetid.in_(ids)).order_by(bss.c.id)):
            stamps[s.buildsetid].append(s.sourcestampid)
    return [BuildSetModel(
        bsid=r.id, external_idstring=r.external_idstring, reason=r.reason,
        submitted_at=to_datetime(r.submitted_at), complete=bool(r.complete),
        complete_at=to_datetime(r.complete_at),
        results=r.results, parent_buildid=r.parent_buildid,
        parent_relationship=r.parent_relationship, rebuilt_buildid=r.rebuilt_buildid,
        sourcestamps=stamps[r.id]) for r in rows]


def _complete_clause(col: sa.Column[Any], complete: bool) -> Any:
    return col != 0 if complete else sa.or_(col == 0, col.is_(None))


class BuildsetsDb(DbComponent):
    """Buildsets: what a scheduler asked to build, for which builders."""

    def __init__(self, pool: DbPool, tables: Tables, clock: Clock,
                 sourcestamps: SourceStampsDb) -> None:
        super().__init__(pool, tables, clock)
        self._sourcestamps = sourcestamps
        t = tables.buildsets
        #: data API field -> column, for `result_spec` pushdown.
        self.result_spec_fields: dict[str, sa.ColumnElement[Any]] = {
            "bsid": t.c.id, "external_idstring": t.c.external_idstring, "reason": t.c.reason,
            "submitted_at": t.c.submitted_at, "complete": t.c.complete,
            "complete_at": t.c.complete_at, "results": t.c.results,
            "parent_buildid": t.c.parent_buildid,
            "parent_relationship": t.c.parent_relationship,
            "rebuilt_buildid": t.c.rebuilt_buildid}

    async def addBuildset(self, sourcestamps: Sequence[int | Mapping[str, Any]],
                          reason: str | None, properties: Mapping[str, tuple[Any, str]],
                          builderids: Sequence[int], waited_for: bool,
                          external_idstring: str | None = None,
                          submitted_at: int | datetime.datetime | None = None,
                          rebuilt_buildid: int | None = None,
                          parent_buildid: int | None = None,
                          parent_relationship: str | None = None,
                          priority: int = 0) -> tuple[int, dict[int, int]]:
        """Store a buildset and one build request per builder; returns (bsid, {builderid:
        brid}). Source stamps are ssids or `findSourceStampId` keyword dicts (found or
        created in the same transaction). One round trip."""
        bsid, brids, _ = await self.add_buildset_with_stamps(
            sourcestamps, reason, properties, builderids, waited_for,
            external_idstring=external_idstring, submitted_at=submitted_at,
            rebuilt_buildid=rebuilt_buildid, parent_buildid=parent_buildid,
            parent_relationship=parent_relationship, priority=priority)
        return bsid, brids

    async def add_buildset_with_stamps(
            self, sourcestamps: Sequence[int | Mapping[str, Any]], reason: str | None,
            properties: Mapping[str, tuple[Any, str]], builderids: Sequence[int],
            waited_for: bool, external_idstring: str | None = None,
            submitted_at: int | datetime.datetime | None = None,
            rebuilt_buildid: int | None = None, parent_buildid: int | None = None,
            parent_relationship: str | None = None, priority: int = 0,
    ) -> tuple[int, dict[int, int], list[int]]:
        """`addBuildset`, also returning the buildset's source stamp ids as `getBuildset`
        lists them (found or created ones included), so announcing it needs no read."""
        if not isinstance(waited_for, bool):
            raise InvalidValueError(f"waited_for must be a bool, not {waited_for!r}")
        t = self._tables
        self.check_length(t.buildsets.c.reason, reason)
        self.check_length(t.buildsets.c.external_idstring, external_idstring)
        for ss in sourcestamps:
            if not isinstance(ss, int):
                self._sourcestamps.check_stamp(dict(ss))
        now = self._now()
        submitted = to_epoch(submitted_at) if submitted_at is not None else now
        props = [{"property_name": name, "property_value": json.dumps([value, source])}
                 for name, (value, source) in properties.items()]

        def thd_add(conn: sa.Connection) -> tuple[int, dict[int, int], list[int]]:
            ssids = [ss if isinstance(ss, int)
                     else thd_find_or_create_sourcestamp(conn, t, now, dict(ss))[0]
                     for ss in sourcestamps]
            bsid = inserted_id(conn.execute(t.buildsets.insert().values(
                external_idstring=external_idstring, reason=reason, submitted_at=submitted,
                complete=0, complete_at=None, results=-1, parent_buildid=parent_buildid,
                parent_relationship=parent_relationship, rebuilt_buildid=rebuilt_buildid)))
            if props:
                conn.execute(t.buildset_properties.insert(),
                             [{"buildsetid": bsid, **p} for p in props])
            if ssids:
                conn.execute(t.buildset_sourcestamps.insert(),
                             [{"buildsetid": bsid, "sourcestampid": s}
                              for s in dict.fromkeys(ssids)])
            brids: dict[int, int] = {}
            br = t.buildrequests
            for builderid in builderids:
                brids[builderid] = inserted_id(conn.execute(br.insert().values(
                    buildsetid=bsid, builderid=builderid, priority=priority, complete=0,
                    results=-1, submitted_at=submitted, complete_at=None,
                    waited_for=int(waited_for))))
            return int(bsid), brids, list(dict.fromkeys(ssids))

        return await self._pool.run(thd_add)

    async def completeBuildset(self, bsid: int, results: int,
                               complete_at: int | datetime.datetime | None = None) -> None:
        """Mark the buildset complete; `AlreadyCompleteError` if it was (or is missing)."""
        t = self._tables.buildsets
        at = to_epoch(complete_at) if complete_at is not None else self._now()

        def thd_complete(conn: sa.Connection) -> None:
            res = conn.execute(t.update().where(
                t.c.id == bsid, sa.or_(t.c.complete.is_(None), t.c.complete != 1))
                .values(complete=1, results=results, complete_at=at))
            if res.rowcount != 1:
                raise AlreadyCompleteError(f"buildset {bsid} is complete already")

        await self._pool.run(thd_complete)

    async def _list(self, q: sa.Select[Any]) -> list[BuildSetModel]:
        t = self._tables

        def thd_list(conn: sa.Connection) -> list[BuildSetModel]:
            return thd_buildset_models(conn, t, conn.execute(q).all())

        return await self._pool.run(thd_list)

    async def getBuildset(self, bsid: int) -> BuildSetModel | None:
        """The buildset, or None."""
        t = self._tables.buildsets
        found = await self._list(sa.select(t).where(t.c.id == bsid))
        return found[0] if found else None

    async def getBuildsets(self, complete: bool | None = None,
                           result_spec: ResultSpec | None = None) -> list[BuildSetModel]:
        """Buildsets by id (or as `result_spec` says, all of it in SQL)."""
        t = self._tables.buildsets
        q = sa.select(t).order_by(t.c.id)
        if complete is not None:
            q = q.where(_complete_clause(t.c.complete, complete))
        return await self._list(apply_result_spec(q, result_spec, self.result_spec_fields,
                                                  self._pool.dialect))

    async def getRecentBuildsets(self, count: int | None = None, branch: str | None = None,
                                 repository: str | None = None,
                                 complete: bool | None = None) -> list[BuildSetModel]:
        """The `count` most recently submitted buildsets with a source stamp on `branch` /
        `repository` (when given), oldest first."""
        t = self._tables
        bs, bss, ss = t.buildsets, t.buildset_sourcestamps, t.sourcestamps
        q = sa.select(bs.c.id).select_from(
            bs.join(bss, bss.c.buildsetid == bs.c.id).join(ss, ss.c.id == bss.c.sourcestampid))
        if complete is not None:
            q = q.where(_complete_clause(bs.c.complete, complete))
        if branch:
            q = q.where(ss.c.branch == branch)
        if repository:
            q = q.where(ss.c.repository == repository)
        q = sa.select(bs).where(bs.c.id.in_(q)).order_by(bs.c.submitted_at.desc(),
                                                         bs.c.id.desc()).limit(count)
        return list(reversed(await self._list(q)))

    async def getBuildsetProperties(self, bsid: int) -> BuildsetProperties:
        """{name: (value, source)} of the buildset ({} if unknown)."""
        thd_props = self._thd_properties(bsid)

        def thd_props_only(conn: sa.Connection) -> BuildsetProperties:
            return thd_props(conn)

        return await self._pool.run(thd_props_only)

    def _thd_properties(self, bsid: int) -> Callable[[sa.Connection], BuildsetProperties]:
        p = self._tables.buildset_properties

        def thd_props(conn: sa.Connection) -> BuildsetProperties:
            out: BuildsetProperties = {}
            for r in conn.execute(sa.select(p.c.property_name, p.c.property_value)
                                  .where(p.c.buildsetid == bsid)):
                try:
                    value, source = json.loads(r.property_value)
                except (ValueError, TypeError):
                    continue  # not a [value, source] pair: skipped, as Buildbot does
                out[r.property_name] = (value, source)
            return out

        return thd_props

    async def buildset_for_build(self, bsid: int
                                 ) -> tuple[BuildSetModel | None, BuildsetProperties,
                                            dict[int, ChangeModel]]:
        """What a build of one of the buildset's requests needs, in one transaction: the
        buildset (None if unknown), its properties and, per source stamp id, the newest
        change made from that stamp (stamps without a change are absent)."""
        t = self._tables
        bs, c = t.buildsets, t.changes
        thd_props = self._thd_properties(bsid)

        def thd_read(conn: sa.Connection
                     ) -> tuple[BuildSetModel | None, BuildsetProperties, dict[int, ChangeModel]]:
            rows = conn.execute(sa.select(bs).where(bs.c.id == bsid)).all()
            if not rows:
                return None, {}, {}
            bset = thd_buildset_models(conn, t, rows)[0]
            props = thd_props(conn)
            newest: list[Any] = []
            if bset.sourcestamps:
                ids = (sa.select(sa.func.max(c.c.changeid))
                       .where(c.c.sourcestampid.in_(bset.sourcestamps))
                       .group_by(c.c.sourcestampid))
                newest = list(conn.execute(sa.select(c).where(c.c.changeid.in_(ids))))
            models = thd_change_models(conn, t, newest)
            return bset, props, {m.sourcestampid: m for m in models}

        return await self._pool.run(thd_read)
