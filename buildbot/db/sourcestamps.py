"""The `sourcestamps` and `patches` tables."""

from __future__ import annotations

import base64
import datetime
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from buildbot.db.base import (
    Clock,
    DbComponent,
    apply_result_spec,
    hash_columns,
    inserted_id,
    thd_find_or_create,
)
from buildbot.db.errors import InvalidValueError
from buildbot.db.model import Tables
from buildbot.db.pool import DbPool
from buildbot.util.resultspec import ResultSpec
from buildbot.util.timestamps import to_datetime


@dataclass(frozen=True, slots=True)
class PatchModel:
    """A patch applied on top of a source stamp; `body` is the raw patch."""

    patchid: int
    body: bytes
    level: int
    author: str
    comment: str
    subdir: str | None = None


@dataclass(frozen=True, slots=True)
class SourceStampModel:
    """A source stamp; `created_at` is when it was first seen (an aware UTC datetime,
    stored as epoch seconds)."""

    ssid: int
    branch: str | None
    revision: str | None
    repository: str
    created_at: datetime.datetime
    codebase: str = ""
    project: str = ""
    patch: PatchModel | None = None


STAMP_KEYS = frozenset({"branch", "revision", "repository", "project", "codebase", "patch_body",
                        "patch_level", "patch_author", "patch_comment", "patch_subdir"})


def thd_find_or_create_sourcestamp(conn: sa.Connection, t: Tables, now: int,
                                   stamp: dict[str, Any]) -> tuple[int, bool]:
    """(ssid, found) for a stamp described by `findSourceStampId`'s keyword arguments
    (missing repository/project/codebase are ''), inside the caller's transaction."""
    body = stamp.get("patch_body")
    if isinstance(body, str):
        body = body.encode("utf-8")
    patchid = None
    if body is not None:
        level = stamp.get("patch_level")
        patchid = inserted_id(conn.execute(t.patches.insert().values(
            patchlevel=level if level is not None else 1,
            patch_base64=base64.b64encode(body).decode("ascii"),
            patch_author=stamp.get("patch_author") or "",
            patch_comment=stamp.get("patch_comment") or "",
            subdir=stamp.get("patch_subdir"))))
    branch, revision = stamp.get("branch"), stamp.get("revision")
    repository = stamp.get("repository", "")
    project, codebase = stamp.get("project", ""), stamp.get("codebase", "")
    ss_hash = hash_columns(branch, revision, repository, project, codebase, patchid)
    ssid, found = thd_find_or_create(
        conn, t.sourcestamps, {"ss_hash": ss_hash},
        {"ss_hash": ss_hash, "branch": branch, "revision": revision, "repository": repository,
         "project": project, "codebase": codebase, "patchid": patchid, "created_at": now})
    assert ssid is not None
    return ssid, found


class SourceStampsDb(DbComponent):
    """Source stamps, de-duplicated by `ss_hash`, and their patches."""

    def __init__(self, pool: DbPool, tables: Tables, clock: Clock) -> None:
        super().__init__(pool, tables, clock)
        t = tables.sourcestamps
        #: data API field -> column, for `result_spec` pushdown.
        self.result_spec_fields: dict[str, sa.ColumnElement[Any]] = {
            "ssid": t.c.id, "branch": t.c.branch, "revision": t.c.revision,
            "repository": t.c.repository, "project": t.c.project, "codebase": t.c.codebase,
            "created_at": t.c.created_at}

    async def findSourceStampId(self, branch: str | None = None, revision: str | None = None,
                                repository: str | None = None, project: str | None = None,
                                codebase: str | None = None, patch_body: bytes | None = None,
                                patch_level: int | None = None,
                                patch_author: str | None = None,
                                patch_comment: str | None = None,
                                patch_subdir: str | None = None) -> int:
        """The id of the source stamp with these attributes, created if new."""
        ssid, _ = await self.findOrCreateId(branch, revision, repository, project, codebase,
                                            patch_body, patch_level, patch_author,
                                            patch_comment, patch_subdir)
        return ssid

    async def findOrCreateId(self, branch: str | None = None, revision: str | None = None,
                             repository: str | None = None, project: str | None = None,
                             codebase: str | None = None, patch_body: bytes | str | None = None,
                             patch_level: int | None = None, patch_author: str | None = None,
                             patch_comment: str | None = None,
                             patch_subdir: str | None = None) -> tuple[int, bool]:
        """(ssid, found). A patch body always makes a new `patches` row, so patched stamps
        are never shared (as in Buildbot)."""
        stamp = {"branch": branch, "revision": revision, "repository": repository,
                 "project": project, "codebase": codebase, "patch_body": patch_body,
                 "patch_level": patch_level, "patch_author": patch_author,
                 "patch_comment": patch_comment, "patch_subdir": patch_subdir}
        self.check_stamp(stamp)
        t, now = self._tables, self._now()

        def thd_find(conn: sa.Connection) -> tuple[int, bool]:
            return thd_find_or_create_sourcestamp(conn, t, now, stamp)

        return await self._pool.run(thd_find)

    def check_stamp(self, stamp: dict[str, Any]) -> None:
        """Refuse a stamp description `thd_find_or_create_sourcestamp` would choke on."""
        unknown = set(stamp) - STAMP_KEYS
        if unknown:
            raise InvalidValueError(f"unknown source stamp attributes {sorted(unknown)}")
        for what in ("repository", "project", "codebase"):
            if stamp.get(what, "") is None:
                raise InvalidValueError(f"source stamp {what} must be a string, not None")
        for what in ("branch", "revision", "repository", "project", "codebase"):
            self.check_length(self._tables.sourcestamps.c[what], stamp.get(what))

    def _select(self) -> sa.Select[Any]:
        ss, p = self._tables.sourcestamps, self._tables.patches
        return sa.select(ss.c.id, ss.c.branch, ss.c.revision, ss.c.repository, ss.c.created_at,
                         ss.c.codebase, ss.c.project, ss.c.patchid, p.c.patch_base64,
                         p.c.patchlevel, p.c.patch_author, p.c.patch_comment, p.c.subdir) \
            .select_from(ss.outerjoin(p, p.c.id == ss.c.patchid))

    @staticmethod
    def _row(r: Any) -> SourceStampModel:
        patch = None
        if r.patchid is not None:
            patch = PatchModel(patchid=r.patchid, body=base64.b64decode(r.patch_base64),
                               level=r.patchlevel, author=r.patch_author,
                               comment=r.patch_comment, subdir=r.subdir)
        return SourceStampModel(ssid=r.id, branch=r.branch, revision=r.revision,
                                repository=r.repository,
                                created_at=to_datetime(r.created_at),
                                codebase=r.codebase, project=r.project, patch=patch)

    async def _list(self, q: sa.Select[Any]) -> list[SourceStampModel]:
        def thd_list(conn: sa.Connection) -> list[SourceStampModel]:
            return [self._row(r) for r in conn.execute(q)]

        return await self._pool.run(thd_list)

    async def getSourceStamp(self, ssid: int) -> SourceStampModel | None:
        """The source stamp with this id, or None."""
        found = await self._list(self._select().where(self._tables.sourcestamps.c.id == ssid))
        return found[0] if found else None

    async def get_sourcestamps_for_buildset(self, buildsetid: int) -> list[SourceStampModel]:
        """The source stamps of a buildset, by id."""
        t = self._tables
        bss = t.buildset_sourcestamps
        return await self._list(self._select().where(t.sourcestamps.c.id.in_(
            sa.select(bss.c.sourcestampid).where(bss.c.buildsetid == buildsetid)))
            .order_by(t.sourcestamps.c.id))

    async def getSourceStampsForBuild(self, buildid: int) -> list[SourceStampModel]:
        """The source stamps a build was built from (its buildset's), by id."""
        t = self._tables
        bss, br, b = t.buildset_sourcestamps, t.buildrequests, t.builds
        ids = sa.select(bss.c.sourcestampid).join(br, br.c.buildsetid == bss.c.buildsetid) \
            .join(b, b.c.buildrequestid == br.c.id).where(b.c.id == buildid)
        return await self._list(self._select().where(t.sourcestamps.c.id.in_(ids))
                                .order_by(t.sourcestamps.c.id))

    async def getSourceStamps(self, result_spec: ResultSpec | None = None
                              ) -> list[SourceStampModel]:
        """Every source stamp, by id unless `result_spec` says otherwise (all of it in SQL)."""
        q = apply_result_spec(self._select().order_by(self._tables.sourcestamps.c.id),
                              result_spec, self.result_spec_fields, self._pool.dialect)
        return await self._list(q)
