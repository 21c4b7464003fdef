"""The `codebase_branches` table (branch heads of codebases)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from buildbot.db.base import Clock, DbComponent, apply_result_spec, hash_columns, thd_upsert
from buildbot.db.model import Tables
from buildbot.db.pool import DbPool
from buildbot.util.resultspec import ResultSpec


@dataclass(frozen=True, slots=True)
class CodebaseBranchModel:
    """A branch of a codebase; `last_timestamp` is when its update was seen (epoch)."""

    id: int
    codebaseid: int
    name: str
    commitid: int | None
    last_timestamp: int


class CodebaseBranchesDb(DbComponent):
    """Branches of codebases."""

    def __init__(self, pool: DbPool, tables: Tables, clock: Clock) -> None:
        super().__init__(pool, tables, clock)
        t = tables.codebase_branches
        #: data API field -> column, for `result_spec` pushdown.
        self.result_spec_fields: dict[str, sa.ColumnElement[Any]] = {
            "branchid": t.c.id, "codebaseid": t.c.codebaseid, "name": t.c.name,
            "commitid": t.c.commitid, "last_timestamp": t.c.last_timestamp}

    async def _list(self, q: sa.Select[Any]) -> list[CodebaseBranchModel]:
        def thd_list(conn: sa.Connection) -> list[CodebaseBranchModel]:
            return [CodebaseBranchModel(r.id, r.codebaseid, r.name, r.commitid,
                                        r.last_timestamp) for r in conn.execute(q)]

        return await self._pool.run(thd_list)

    async def get_branch(self, id: int) -> CodebaseBranchModel | None:
        """The branch, or None."""
        t = self._tables.codebase_branches
        found = await self._list(sa.select(t).where(t.c.id == id))
        return found[0] if found else None

    async def get_branch_by_name(self, codebaseid: int, name: str) -> CodebaseBranchModel | None:
        """The codebase's branch `name`, or None."""
        t = self._tables.codebase_branches
        found = await self._list(sa.select(t).where(t.c.codebaseid == codebaseid,
                                                    t.c.name_hash == hash_columns(name)))
        return found[0] if found else None

    async def get_branches(self, codebaseid: int, result_spec: ResultSpec | None = None
                           ) -> list[CodebaseBranchModel]:
        """The codebase's branches, by id unless `result_spec` says otherwise."""
        t = self._tables.codebase_branches
        q = sa.select(t).where(t.c.codebaseid == codebaseid).order_by(t.c.id)
        return await self._list(apply_result_spec(q, result_spec, self.result_spec_fields,
                                                  self._pool.dialect))

    async def update_branch(self, *, codebaseid: int, name: str, commitid: int | None = None,
                            last_timestamp: int) -> None:
        """Create or update the branch head (one statement)."""
        t = self._tables.codebase_branches
        self.check_length(t.c.name, name)
        name_hash = hash_columns(name)

        def thd_update(conn: sa.Connection) -> None:
            thd_upsert(conn, t, {"codebaseid": codebaseid, "name_hash": name_hash},
                       {"name": name, "commitid": commitid, "last_timestamp": last_timestamp})

        await self._pool.run(thd_update)
