"""The `changes`, `change_files`, `change_properties` and `change_users` tables."""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from buildbot.db.base import Clock, DbComponent, apply_result_spec, chunked, inserted_id
from buildbot.db.builds import BuildsDb
from buildbot.db.errors import InvalidValueError
from buildbot.db.model import Tables
from buildbot.db.pool import DbPool
from buildbot.db.sourcestamps import SourceStampsDb, thd_find_or_create_sourcestamp
from buildbot.util.misc import datetime2epoch
from buildbot.util.resultspec import ResultSpec
from buildbot.util.timestamps import to_datetime

#: Change ids per DELETE when pruning.
PRUNE_BATCH = 100


@dataclass(frozen=True, slots=True)
class ChangeModel:
    """A change; `when_timestamp` is the VCS time, an aware UTC datetime (stored as epoch
    seconds; the data API gives it as epoch seconds, as Buildbot 4.3 does); `properties` are
    {name: (value, "Change")}; a single parent at most despite the list."""

    changeid: int
    author: str
    committer: str | None
    comments: str
    branch: str | None
    revision: str | None
    revlink: str | None
    when_timestamp: datetime.datetime
    category: str | None
    sourcestampid: int
    parent_changeids: list[int] = field(default_factory=list)
    repository: str = ""
    codebase: str = ""
    project: str = ""
    files: list[str] = field(default_factory=list)
    properties: dict[str, tuple[Any, str]] = field(default_factory=dict)


def _property(text: str) -> tuple[Any, str]:
    # Stored as [value, "Change"]; tolerate a bare value (old development versions).
    value = json.loads(text)
    if isinstance(value, list) and len(value) == 2 and value[1] == "Change":
        return value[0], "Change"
    return value, "Change"


def thd_change_models(conn: sa.Connection, t: Tables, rows: Sequence[Any]) -> list[ChangeModel]:
    """Models of `changes` rows with their files and properties (two queries per 500)."""
    files: dict[int, list[str]] = {r.changeid: [] for r in rows}
    props: dict[int, dict[str, tuple[Any, str]]] = {r.changeid: {} for r in rows}
    cf, cp = t.change_files, t.change_properties
    for ids in chunked([r.changeid for r in rows]):
        for f in conn.execute(sa.select(cf.c.changeid, cf.c.filename)
                              .where(cf.c.changeid.in_(ids))):
            files[f.changeid].append(f.filename)
        for p in conn.execute(sa.select(cp.c.changeid, cp.c.property_name, cp.c.property_value)
                              .where(cp.c.changeid.in_(ids))):
            try:
                props[p.changeid][p.property_name] = _property(p.property_value)
            except ValueError:
                continue
    return [ChangeModel(
        changeid=r.changeid, author=r.author, committer=r.committer, comments=r.comments,
        branch=r.branch, revision=r.revision, revlink=r.revlink,
        when_timestamp=to_datetime(r.when_timestamp), category=r.category,
        sourcestampid=r.sourcestampid,
        parent_changeids=[r.parent_changeids] if r.parent_changeids else [],
        repository=r.repository, codebase=r.codebase, project=r.project,
        files=files[r.changeid], properties=props[r.changeid]) for r in rows]


class ChangesDb(DbComponent):
    """Changes reported by change sources."""

    def __init__(self, pool: DbPool, tables: Tables, clock: Clock,
                 sourcestamps: SourceStampsDb, builds: BuildsDb) -> None:
        super().__init__(pool, tables, clock)
        self._sourcestamps, self._builds = sourcestamps, builds
        c = tables.changes
        #: data API field -> column, for `result_spec` pushdown.
        self.result_spec_fields: dict[str, sa.ColumnElement[Any]] = {
            name: c.c[name] for name in (
                "changeid", "author", "committer", "comments", "branch", "revision",
                "revlink", "when_timestamp", "category", "repository", "codebase", "project")}

    async def addChange(self, author: str | None = None, committer: str | None = None,
                        files: Iterable[str] | None = None, comments: str | None = None,
                        is_dir: Any = None, revision: str | None = None,
                        when_timestamp: int | datetime.datetime | None = None,
                        branch: str | None = None, category: str | None = None,
                        revlink: str | None = "",
                        properties: Mapping[str, tuple[Any, str]] | None = None,
                        repository: str = "", codebase: str = "", project: str = "",
                        uid: int | None = None) -> int:
        """Store a change (with its source stamp, parent link, files, properties and user)
        in one transaction; returns its id. `is_dir` is ignored (Buildbot API)."""
        if repository is None or project is None:
            raise InvalidValueError("change repository and project must be strings, not None")
        c, t = self._tables.changes, self._tables
        author, comments = author or "", comments or ""
        codebase = codebase or ""
        for col, value in ((c.c.author, author), (c.c.committer, committer),
                           (c.c.branch, branch), (c.c.revision, revision),
                           (c.c.revlink, revlink), (c.c.category, category),
                           (c.c.repository, repository), (c.c.codebase, codebase),
                           (c.c.project, project)):
            self.check_length(col, value)
        now = self._now()
        if isinstance(when_timestamp, datetime.datetime):
            when: int = datetime2epoch(when_timestamp) or now
        else:
            when = int(when_timestamp) if when_timestamp is not None else now
        props = [{"property_name": k, "property_value": json.dumps(list(v))}
                 for k, v in (properties or {}).items()]
        file_rows = [{"filename": f} for f in files or []]

        def thd_add(conn: sa.Connection) -> int:
            ssid, _ = thd_find_or_create_sourcestamp(conn, t, now, {
                "branch": branch, "revision": revision, "repository": repository,
                "codebase": codebase, "project": project})
            parent = conn.execute(sa.select(sa.func.max(c.c.changeid)).where(
                c.c.branch.is_(None) if branch is None else c.c.branch == branch,
                c.c.repository == repository, c.c.project == project,
                c.c.codebase == codebase)).scalar()
            changeid = inserted_id(conn.execute(c.insert().values(
                author=author, committer=committer, comments=comments, branch=branch,
                revision=revision, revlink=revlink, when_timestamp=when, category=category,
                repository=repository, codebase=codebase, project=project,
                sourcestampid=ssid, parent_changeids=parent)))
            if file_rows:
                conn.execute(t.change_files.insert(),
                             [{"changeid": changeid, **f} for f in file_rows])
            if props:
                conn.execute(t.change_properties.insert(),
                             [{"changeid": changeid, **p} for p in props])
            if uid is not None:
                conn.execute(t.change_users.insert().values(changeid=changeid, uid=uid))
            return changeid

        return await self._pool.run(thd_add)

    async def _list(self, q: sa.Select[Any]) -> list[ChangeModel]:
        t = self._tables

        def thd_list(conn: sa.Connection) -> list[ChangeModel]:
            return thd_change_models(conn, t, conn.execute(q).all())

        return await self._pool.run(thd_list)

    async def getChange(self, changeid: int) -> ChangeModel | None:
        """The change, or None."""
        c = self._tables.changes
        found = await self._list(sa.select(c).where(c.c.changeid == changeid))
        return found[0] if found else None

    async def get_changes_by_id(self, changeids: Sequence[int]) -> dict[int, ChangeModel]:
        """Many changes in one round trip, keyed by id (missing ones are absent)."""
        c = self._tables.changes
        t = self._tables

        def thd_many(conn: sa.Connection) -> dict[int, ChangeModel]:
            rows: list[Any] = []
            for ids in chunked(list(changeids)):
                rows.extend(conn.execute(sa.select(c).where(c.c.changeid.in_(ids))))
            return {m.changeid: m for m in thd_change_models(conn, t, rows)}

        return await self._pool.run(thd_many)

    async def getChangeFromSSid(self, sourcestampid: int) -> ChangeModel | None:
        """The newest change made from that source stamp, or None."""
        c = self._tables.changes
        found = await self._list(sa.select(c).where(c.c.sourcestampid == sourcestampid)
                                 .order_by(c.c.changeid.desc()).limit(1))
        return found[0] if found else None

    async def getChangeUids(self, changeid: int) -> list[int]:
        """Ids of the users linked to the change."""
        cu = self._tables.change_users

        def thd_uids(conn: sa.Connection) -> list[int]:
            return [r.uid for r in conn.execute(sa.select(cu.c.uid)
                                                .where(cu.c.changeid == changeid))]

        return await self._pool.run(thd_uids)

    async def getChanges(self, result_spec: ResultSpec | None = None) -> list[ChangeModel]:
        """Changes by id (or as `result_spec` says, all of it in SQL). The data API's
        reversal of the page is the caller's business."""
        c = self._tables.changes
        q = apply_result_spec(sa.select(c).order_by(c.c.changeid), result_spec,
                              self.result_spec_fields, self._pool.dialect)
        return await self._list(q)

    async def getChangesCount(self) -> int:
        """How many changes are stored."""
        c = self._tables.changes

        def thd_count(conn: sa.Connection) -> int:
            return int(conn.execute(sa.select(sa.func.count()).select_from(c)).scalar() or 0)

        return await self._pool.run(thd_count)

    async def getLatestChangeid(self) -> int | None:
        """The highest change id, or None without changes."""
        c = self._tables.changes

        def thd_latest(conn: sa.Connection) -> int | None:
            found = conn.execute(sa.select(sa.func.max(c.c.changeid))).scalar()
            return None if found is None else int(found)

        return await self._pool.run(thd_latest)

    async def getParentChangeIds(self, branch: str | None, repository: str, project: str,
                                 codebase: str) -> list[int]:
        """[id of the newest change on that branch/repository/project/codebase], or []."""
        c = self._tables.changes

        def thd_parent(conn: sa.Connection) -> list[int]:
            found = conn.execute(sa.select(sa.func.max(c.c.changeid)).where(
                c.c.branch.is_(None) if branch is None else c.c.branch == branch,
                c.c.repository == repository, c.c.project == project,
                c.c.codebase == codebase)).scalar()
            return [int(found)] if found else []

        return await self._pool.run(thd_parent)

    async def getChangesForBuild(self, buildid: int) -> list[ChangeModel]:
        """The changes a build contains: per codebase, from the change of the build's source
        stamp back through parents to (excluding) the change of the previous successful
        build of the builder on the same repositories/branches/codebases."""
        build = await self._builds.getBuild(buildid)
        if build is None:
            return []
        stamps = await self._sourcestamps.getSourceStampsForBuild(buildid)
        previous = await self._builds.getPrevSuccessfulBuild(build.builderid, build.number,
                                                             stamps)
        prev_stamps = [] if previous is None else \
            await self._sourcestamps.getSourceStampsForBuild(previous.id)
        c, t = self._tables.changes, self._tables

        def newest_for(conn: sa.Connection, ssid: int) -> ChangeModel | None:
            rows = conn.execute(sa.select(c).where(c.c.sourcestampid == ssid)
                                .order_by(c.c.changeid.desc()).limit(1)).all()
            return thd_change_models(conn, t, rows)[0] if rows else None

        def thd_walk(conn: sa.Connection) -> list[ChangeModel]:
            stop_at: dict[str, int] = {}
            for ss in prev_stamps:
                found = newest_for(conn, ss.ssid)
                if found is not None:
                    stop_at[ss.codebase] = found.changeid
            out: list[ChangeModel] = []
            for ss in stamps:
                change = newest_for(conn, ss.ssid)
                if change is None or stop_at.get(ss.codebase) == change.changeid:
                    continue
                out.append(change)
                target = stop_at.get(ss.codebase)
                while change.parent_changeids and target not in change.parent_changeids:
                    rows = conn.execute(sa.select(c).where(
                        c.c.changeid == change.parent_changeids[0])).all()
                    if not rows:
                        break  # a dangling parent link (pruned change)
                    change = thd_change_models(conn, t, rows)[0]
                    out.append(change)
            return out

        return await self._pool.run(thd_walk)

    async def pruneChanges(self, changeHorizon: int | None) -> int:
        """Keep only the newest `changeHorizon` changes (None/0: keep all); returns how many
        were deleted. One transaction, deletes in batches of 100 ids."""
        if not changeHorizon:
            return 0
        t = self._tables

        def thd_prune(conn: sa.Connection) -> int:
            c = t.changes
            ids = [r.changeid for r in conn.execute(
                sa.select(c.c.changeid).order_by(c.c.changeid.desc()).offset(changeHorizon))]
            for table in (t.scheduler_changes, t.change_files, t.change_properties,
                          t.change_users, t.changes):
                for batch in chunked(ids, PRUNE_BATCH):
                    conn.execute(table.delete().where(table.c.changeid.in_(batch)))
            return len(ids)

        return await self._pool.run(thd_prune)
