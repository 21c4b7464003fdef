"""The `test_result_sets` table."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from buildbot.db.base import Clock, DbComponent, apply_result_spec, inserted_id
from buildbot.db.errors import TestResultSetAlreadyCompleted
from buildbot.db.model import Tables
from buildbot.db.pool import DbPool
from buildbot.util.resultspec import ResultSpec


@dataclass(frozen=True, slots=True)
class TestResultSetModel:
    """A set of test results of a step."""

    __test__ = False  # not a pytest class

    id: int
    builderid: int
    buildid: int
    stepid: int
    description: str | None
    category: str
    value_unit: str
    tests_passed: int | None
    tests_failed: int | None
    complete: bool = False


def _set(r: Any) -> TestResultSetModel:
    return TestResultSetModel(id=r.id, builderid=r.builderid, buildid=r.buildid,
                              stepid=r.stepid, description=r.description, category=r.category,
                              value_unit=r.value_unit, tests_passed=r.tests_passed,
                              tests_failed=r.tests_failed, complete=bool(r.complete))


class TestResultSetsDb(DbComponent):
    """Test result sets."""

    __test__ = False  # not a pytest class

    def __init__(self, pool: DbPool, tables: Tables, clock: Clock) -> None:
        super().__init__(pool, tables, clock)
        t = tables.test_result_sets
        #: data API field -> column, for `result_spec` pushdown.
        self.result_spec_fields: dict[str, sa.ColumnElement[Any]] = {
            "test_result_setid": t.c.id, "builderid": t.c.builderid, "buildid": t.c.buildid,
            "stepid": t.c.stepid, "description": t.c.description, "category": t.c.category,
            "value_unit": t.c.value_unit, "tests_passed": t.c.tests_passed,
            "tests_failed": t.c.tests_failed, "complete": t.c.complete}

    async def addTestResultSet(self, builderid: int, buildid: int, stepid: int,
                               description: str | None, category: str, value_unit: str) -> int:
        """Start an (incomplete) set; returns its id."""
        t = self._tables.test_result_sets

        def thd_add(conn: sa.Connection) -> int:
            return inserted_id(conn.execute(t.insert().values(
                builderid=builderid, buildid=buildid, stepid=stepid, description=description,
                category=category, value_unit=value_unit, complete=0)))

        return await self._pool.run(thd_add)

    async def _list(self, q: sa.Select[Any]) -> list[TestResultSetModel]:
        def thd_list(conn: sa.Connection) -> list[TestResultSetModel]:
            return [_set(r) for r in conn.execute(q)]

        return await self._pool.run(thd_list)

    async def getTestResultSet(self, test_result_setid: int) -> TestResultSetModel | None:
        """The set, or None."""
        t = self._tables.test_result_sets
        found = await self._list(sa.select(t).where(t.c.id == test_result_setid))
        return found[0] if found else None

    async def getTestResultSets(self, builderid: int | None = None, buildid: int | None = None,
                                stepid: int | None = None, complete: bool | None = None,
                                result_spec: ResultSpec | None = None
                                ) -> list[TestResultSetModel]:
        """Sets by id, filtered; `result_spec` applied in SQL."""
        t = self._tables.test_result_sets
        q = sa.select(t).order_by(t.c.id)
        for col, value in ((t.c.builderid, builderid), (t.c.buildid, buildid),
                           (t.c.stepid, stepid)):
            if value is not None:
                q = q.where(col == value)
        if complete is not None:
            q = q.where(t.c.complete == int(bool(complete)))
        return await self._list(apply_result_spec(q, result_spec, self.result_spec_fields,
                                                  self._pool.dialect))

    async def get_test_result_sets_for_commits(self, *, commit_ids: Sequence[int]
                                               ) -> list[TestResultSetModel]:
        """Sets of builds of source stamps whose revision is one of the commits' (matched
        by revision text, as Buildbot 4.3 does)."""
        t = self._tables
        trs = t.test_result_sets
        j = t.codebase_commits.join(
            t.sourcestamps, t.codebase_commits.c.revision == t.sourcestamps.c.revision
        ).join(t.buildset_sourcestamps,
               t.buildset_sourcestamps.c.sourcestampid == t.sourcestamps.c.id
               ).join(t.buildrequests,
                      t.buildrequests.c.buildsetid == t.buildset_sourcestamps.c.buildsetid
                      ).join(t.builds, t.builds.c.buildrequestid == t.buildrequests.c.id
                             ).join(trs, trs.c.buildid == t.builds.c.id)
        q = sa.select(trs).select_from(j).where(
            t.codebase_commits.c.id.in_(list(commit_ids))).order_by(trs.c.id)
        return await self._list(q)

    async def completeTestResultSet(self, test_result_setid: int,
                                    tests_passed: int | None = None,
                                    tests_failed: int | None = None) -> None:
        """Mark the set complete (with counts); `TestResultSetAlreadyCompleted` if it was
        (or does not exist)."""
        t = self._tables.test_result_sets
        values: dict[str, Any] = {"complete": 1}
        if tests_passed is not None:
            values["tests_passed"] = tests_passed
        if tests_failed is not None:
            values["tests_failed"] = tests_failed

        def thd_complete(conn: sa.Connection) -> None:
            res = conn.execute(t.update().where(t.c.id == test_result_setid, t.c.complete == 0)
                               .values(**values))
            if res.rowcount == 0:
                raise TestResultSetAlreadyCompleted(
                    f"test result set {test_result_setid} is completed or does not exist")

        await self._pool.run(thd_complete)
