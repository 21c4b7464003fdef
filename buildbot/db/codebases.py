"""The `codebases` table (codebases of projects)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from buildbot.db.base import Clock, DbComponent, apply_result_spec, hash_columns, thd_find_or_create
from buildbot.db.model import Tables
from buildbot.db.pool import DbPool
from buildbot.util.resultspec import ResultSpec


@dataclass(frozen=True, slots=True)
class CodebaseModel:
    """A codebase of a project."""

    id: int
    projectid: int
    name: str
    slug: str


class CodebasesDb(DbComponent):
    """Codebases."""

    def __init__(self, pool: DbPool, tables: Tables, clock: Clock) -> None:
        super().__init__(pool, tables, clock)
        t = tables.codebases
        #: data API field -> column, for `result_spec` pushdown.
        self.result_spec_fields: dict[str, sa.ColumnElement[Any]] = {
            "codebaseid": t.c.id, "projectid": t.c.projectid, "name": t.c.name,
            "slug": t.c.slug}

    async def find_codebase_id(self, *, projectid: int, name: str, auto_create: bool = True
                               ) -> int | None:
        """The id of the project's codebase `name`, created (slug = name) if new."""
        t = self._tables.codebases
        name_hash = hash_columns(name)

        def thd_find(conn: sa.Connection) -> int | None:
            return thd_find_or_create(
                conn, t, {"projectid": projectid, "name_hash": name_hash},
                {"projectid": projectid, "name": name, "name_hash": name_hash, "slug": name},
                auto_create=auto_create)[0]

        return await self._pool.run(thd_find)

    async def get_codebase(self, codebaseid: int) -> CodebaseModel | None:
        """The codebase, or None."""
        t = self._tables.codebases
        found = await self._list(sa.select(t).where(t.c.id == codebaseid))
        return found[0] if found else None

    async def get_codebases(self, projectid: int | None = None,
                            result_spec: ResultSpec | None = None) -> list[CodebaseModel]:
        """Codebases (of the project), by id unless `result_spec` says otherwise."""
        t = self._tables.codebases
        q = sa.select(t).order_by(t.c.id)
        if projectid is not None:
            q = q.where(t.c.projectid == projectid)
        return await self._list(apply_result_spec(q, result_spec, self.result_spec_fields,
                                                  self._pool.dialect))

    async def _list(self, q: sa.Select[Any]) -> list[CodebaseModel]:
        def thd_list(conn: sa.Connection) -> list[CodebaseModel]:
            return [CodebaseModel(r.id, r.projectid, r.name, r.slug) for r in conn.execute(q)]

        return await self._pool.run(thd_list)

    async def update_codebase_info(self, *, codebaseid: int, projectid: int, slug: str) -> None:
        """Set the project and slug of the codebase."""
        t = self._tables.codebases
        self.check_length(t.c.slug, slug)

        def thd_update(conn: sa.Connection) -> None:
            conn.execute(t.update().where(t.c.id == codebaseid).values(projectid=projectid,
                                                                       slug=slug))

        await self._pool.run(thd_update)
