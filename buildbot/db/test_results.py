"""The `test_results`, `test_names` and `test_code_paths` tables."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from buildbot.db.base import Clock, DbComponent, apply_result_spec, chunked
from buildbot.db.errors import InvalidValueError
from buildbot.db.model import Tables
from buildbot.db.pool import DbPool
from buildbot.util.resultspec import ResultSpec

#: Names or paths looked up / inserted per statement.
NAME_BATCH = 3000


@dataclass(frozen=True, slots=True)
class TestResultModel:
    """One test result; `test_name` / `test_code_path` resolved from their tables."""

    __test__ = False  # not a pytest class

    id: int
    builderid: int
    test_result_setid: int
    test_name: str | None
    test_code_path: str | None
    line: int | None
    duration_ns: int | None
    value: str


def thd_ids_for(conn: sa.Connection, table: sa.Table, column: str, builderid: int,
                values: Iterable[str]) -> dict[str, int]:
    """{value: id} of the builder's rows of `table` (test_names or test_code_paths),
    inserting the missing ones: a SELECT and an INSERT per 3000 values."""
    col = table.c[column]
    found: dict[str, int] = {}
    for batch in chunked(sorted(set(values)), NAME_BATCH):
        for r in conn.execute(sa.select(table.c.id, col).where(
                table.c.builderid == builderid, col.in_(list(batch)))):
            found.setdefault(r[1], r.id)
        missing = [v for v in batch if v not in found]
        if not missing:
            continue
        rows = [{"builderid": builderid, column: v} for v in missing]
        if conn.dialect.insert_executemany_returning:
            for r in conn.execute(table.insert().returning(table.c.id, col), rows):
                found[r[1]] = r.id
        else:
            conn.execute(table.insert(), rows)
            for r in conn.execute(sa.select(table.c.id, col).where(
                    table.c.builderid == builderid, col.in_(missing))):
                found.setdefault(r[1], r.id)
    return found


class TestResultsDb(DbComponent):
    """Test results, with their test names and code paths shared per builder."""

    __test__ = False  # not a pytest class

    def __init__(self, pool: DbPool, tables: Tables, clock: Clock) -> None:
        super().__init__(pool, tables, clock)
        r, n, p = tables.test_results, tables.test_names, tables.test_code_paths
        #: data API field -> column, for `result_spec` pushdown.
        self.result_spec_fields: dict[str, sa.ColumnElement[Any]] = {
            "test_resultid": r.c.id, "builderid": r.c.builderid,
            "test_result_setid": r.c.test_result_setid, "test_name": n.c.name,
            "test_code_path": p.c.path, "line": r.c.line, "duration_ns": r.c.duration_ns,
            "value": r.c.value}

    async def addTestResults(self, builderid: int, test_result_setid: int,
                             result_values: Sequence[Mapping[str, Any]]) -> None:
        """Store results: each has `value` and `test_name` and/or `test_code_path`, maybe
        `line` and `duration_ns`. One transaction; names and paths are resolved in batches."""
        for rv in result_values:
            if "value" not in rv:
                raise InvalidValueError("each test result needs a 'value'")
            if "test_name" not in rv and "test_code_path" not in rv:
                raise InvalidValueError("each test result needs a 'test_name' or a "
                                        "'test_code_path'")
        t = self._tables

        def thd_add(conn: sa.Connection) -> None:
            names = thd_ids_for(conn, t.test_names, "name", builderid,
                                (rv["test_name"] for rv in result_values if "test_name" in rv))
            paths = thd_ids_for(conn, t.test_code_paths, "path", builderid,
                                (rv["test_code_path"] for rv in result_values
                                 if "test_code_path" in rv))
            rows = [{
                "builderid": builderid, "test_result_setid": test_result_setid,
                "test_nameid": names[rv["test_name"]] if "test_name" in rv else None,
                "test_code_pathid": paths[rv["test_code_path"]]
                if "test_code_path" in rv else None,
                "line": rv.get("line"), "duration_ns": rv.get("duration_ns"),
                "value": rv["value"]} for rv in result_values]
            for batch in chunked(rows, NAME_BATCH):
                conn.execute(t.test_results.insert(), list(batch))

        if result_values:
            await self._pool.run(thd_add)

    def _select(self, builderid: int | None = None) -> sa.Select[Any]:
        t = self._tables
        r, n, p = t.test_results, t.test_names, t.test_code_paths
        on_path = r.c.test_code_pathid == p.c.id
        on_name = r.c.test_nameid == n.c.id
        if builderid is not None:
            on_path = sa.and_(on_path, p.c.builderid == builderid)
            on_name = sa.and_(on_name, n.c.builderid == builderid)
        return sa.select(r, p.c.path, n.c.name).select_from(
            r.outerjoin(p, on_path).outerjoin(n, on_name))

    async def _list(self, q: sa.Select[Any]) -> list[TestResultModel]:
        def thd_list(conn: sa.Connection) -> list[TestResultModel]:
            return [TestResultModel(r.id, r.builderid, r.test_result_setid, r.name, r.path,
                                    r.line, r.duration_ns, r.value) for r in conn.execute(q)]

        return await self._pool.run(thd_list)

    async def getTestResult(self, test_resultid: int) -> TestResultModel | None:
        """The result, or None."""
        found = await self._list(self._select().where(
            self._tables.test_results.c.id == test_resultid))
        return found[0] if found else None

    async def getTestResults(self, builderid: int, test_result_setid: int,
                             result_spec: ResultSpec | None = None) -> list[TestResultModel]:
        """The set's results, by id unless `result_spec` says otherwise (in SQL)."""
        r = self._tables.test_results
        q = self._select(builderid).where(r.c.builderid == builderid,
                                          r.c.test_result_setid == test_result_setid)
        return await self._list(apply_result_spec(q.order_by(r.c.id), result_spec,
                                                  self.result_spec_fields, self._pool.dialect))

    async def getTestNames(self, builderid: int, name_prefix: str | None = None,
                           result_spec: ResultSpec | None = None) -> list[str]:
        """Test names of the builder (starting with `name_prefix`), by id; `result_spec`
        fields: `name`."""
        n = self._tables.test_names
        return await self._strings(n, n.c.name, n.c.builderid == builderid, name_prefix,
                                   result_spec)

    async def getTestCodePaths(self, builderid: int, path_prefix: str | None = None,
                               result_spec: ResultSpec | None = None) -> list[str]:
        """Code paths of the builder (starting with `path_prefix`), by id; `result_spec`
        fields: `path`. (Buildbot 4.3 forgets the builder here and lists every path.)"""
        p = self._tables.test_code_paths
        return await self._strings(p, p.c.path, p.c.builderid == builderid, path_prefix,
                                   result_spec)

    async def _strings(self, table: sa.Table, col: sa.Column[Any], where: Any,
                       prefix: str | None, result_spec: ResultSpec | None) -> list[str]:
        q = sa.select(col).where(where).order_by(table.c.id)
        if prefix is not None:
            q = q.where(col.startswith(prefix, autoescape=True))
        q = apply_result_spec(q, result_spec, {col.name: col}, self._pool.dialect)

        def thd_list(conn: sa.Connection) -> list[str]:
            return [r[0] for r in conn.execute(q)]

        return await self._pool.run(thd_list)
