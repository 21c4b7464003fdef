"""The `codebase_commits` table and walks of the commit graph."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from buildbot.db.base import Clock, DbComponent, apply_result_spec, chunked, inserted_id
from buildbot.db.model import Tables
from buildbot.db.pool import DbPool
from buildbot.util.resultspec import ResultSpec


@dataclass(frozen=True, slots=True)
class CodebaseCommitModel:
    """A commit; `when_timestamp` is the VCS time (epoch seconds)."""

    id: int
    codebaseid: int
    author: str
    committer: str | None
    comments: str
    when_timestamp: int
    revision: str
    parent_commitid: int | None


@dataclass(frozen=True, slots=True)
class CommonCommitInfo:
    """The first common ancestor of two commits and the commit ids from it to each."""

    common_commit_id: int
    to1_commit_ids: list[int]
    to2_commit_ids: list[int]


_MISSING = object()


def _commit(r: Any) -> CodebaseCommitModel:
    return CodebaseCommitModel(id=r.id, codebaseid=r.codebaseid, author=r.author,
                               committer=r.committer, comments=r.comments,
                               when_timestamp=r.when_timestamp, revision=r.revision,
                               parent_commitid=r.parent_commitid)


class CodebaseCommitsDb(DbComponent):
    """Commits of codebases (parent links never change, so they are cached)."""

    def __init__(self, pool: DbPool, tables: Tables, clock: Clock) -> None:
        super().__init__(pool, tables, clock)
        t = tables.codebase_commits
        self._parents: dict[int, int | None] = {}
        #: data API field -> column, for `result_spec` pushdown.
        self.result_spec_fields: dict[str, sa.ColumnElement[Any]] = {
            "commitid": t.c.id, "codebaseid": t.c.codebaseid, "author": t.c.author,
            "committer": t.c.committer, "comments": t.c.comments,
            "when_timestamp": t.c.when_timestamp, "revision": t.c.revision,
            "parent_commitid": t.c.parent_commitid}

    async def _list(self, q: sa.Select[Any]) -> list[CodebaseCommitModel]:
        def thd_list(conn: sa.Connection) -> list[CodebaseCommitModel]:
            return [_commit(r) for r in conn.execute(q)]

        found = await self._pool.run(thd_list)
        for c in found:
            self._parents[c.id] = c.parent_commitid
        return found

    async def get_commit_by_revision(self, *, codebaseid: int, revision: str
                                     ) -> CodebaseCommitModel | None:
        """The codebase's commit with that revision, or None."""
        t = self._tables.codebase_commits
        found = await self._list(sa.select(t).where(t.c.codebaseid == codebaseid,
                                                    t.c.revision == revision))
        return found[0] if found else None

    async def get_commit(self, id: int) -> CodebaseCommitModel | None:
        """The commit, or None."""
        t = self._tables.codebase_commits
        found = await self._list(sa.select(t).where(t.c.id == id))
        return found[0] if found else None

    async def get_commits_by_id(self, commit_ids: Sequence[int]
                                ) -> list[CodebaseCommitModel | None]:
        """The commits in the order asked, None for missing ones (one round trip)."""
        t = self._tables.codebase_commits
        ids = list(commit_ids)

        def thd_many(conn: sa.Connection) -> dict[int, CodebaseCommitModel]:
            out = {}
            for batch in chunked(list(dict.fromkeys(ids))):
                for r in conn.execute(sa.select(t).where(t.c.id.in_(batch))):
                    out[r.id] = _commit(r)
            return out

        found = await self._pool.run(thd_many)
        return [found.get(i) for i in ids]

    async def get_commits(self, *, codebaseid: int, result_spec: ResultSpec | None = None
                          ) -> list[CodebaseCommitModel]:
        """The codebase's commits, by id unless `result_spec` says otherwise."""
        t = self._tables.codebase_commits
        q = sa.select(t).where(t.c.codebaseid == codebaseid).order_by(t.c.id)
        return await self._list(apply_result_spec(q, result_spec, self.result_spec_fields,
                                                  self._pool.dialect))

    async def add_commit(self, *, codebaseid: int, author: str, committer: str | None = None,
                         files: list[str] | None = None, comments: str, when_timestamp: int,
                         revision: str, parent_commitid: int | None = None) -> int:
        """Store a commit; returns its id. `files` is accepted and ignored (as in 4.3)."""
        t = self._tables.codebase_commits
        for col, value in ((t.c.author, author), (t.c.committer, committer),
                           (t.c.revision, revision)):
            self.check_length(col, value)

        def thd_add(conn: sa.Connection) -> int:
            return inserted_id(conn.execute(t.insert().values(
                codebaseid=codebaseid, author=author, committer=committer, comments=comments,
                when_timestamp=when_timestamp, revision=revision,
                parent_commitid=parent_commitid)))

        commitid = await self._pool.run(thd_add)
        self._parents[commitid] = parent_commitid
        return commitid

    async def get_first_common_commit_with_ranges(self, first_commitid: int,
                                                  last_commitid: int, depth: int = 100
                                                  ) -> CommonCommitInfo | None:
        """The first common ancestor of two commits (walking at most `depth` parents from
        each), with the ids from it to each commit (both ends included); None if there is
        none within reach or a commit is unknown. One round trip at most."""
        t = self._tables.codebase_commits
        cache: dict[int, Any] = dict(self._parents)

        def thd_walk(conn: sa.Connection) -> tuple[CommonCommitInfo | None, dict[int, Any]]:
            learned: dict[int, Any] = {}

            def parent(commitid: int) -> Any:
                if commitid in cache:
                    return cache[commitid]
                row = conn.execute(sa.select(t.c.parent_commitid).where(
                    t.c.id == commitid)).first()
                if row is None:
                    return _MISSING
                cache[commitid] = learned[commitid] = row.parent_commitid
                return row.parent_commitid

            if first_commitid == last_commitid:
                if parent(first_commitid) is _MISSING:
                    return None, learned
                return CommonCommitInfo(first_commitid, [first_commitid],
                                        [first_commitid]), learned
            chain1 = [first_commitid]
            for _ in range(depth):
                up = parent(chain1[-1])
                if up is None or up is _MISSING:
                    break
                chain1.append(up)
            index1 = {c: i for i, c in enumerate(chain1)}
            chain2 = [last_commitid]
            for _ in range(depth + 1):
                here = chain2[-1]
                if here in index1:
                    return CommonCommitInfo(here, chain1[index1[here]::-1],
                                            chain2[::-1]), learned
                up = parent(here)
                if up is None or up is _MISSING:
                    break
                chain2.append(up)
            return None, learned

        result, learned = await self._pool.run(thd_walk)
        self._parents.update(learned)
        return result
