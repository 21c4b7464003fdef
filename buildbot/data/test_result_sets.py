"""Test result sets: the `test_result_sets` resource type and the updates creating and
completing them."""

from __future__ import annotations

from typing import Any, ClassVar

from buildbot.data import types
from buildbot.data.base import Endpoint, EndpointKind, ResourceType, take_sql_spec, update_method
from buildbot.data.nesting import NestedLookup
from buildbot.util.resultspec import ResultSpec

test_result_set_entity = types.Entity("test_result_set", {
    "test_result_setid": types.Integer(),
    "builderid": types.Integer(),
    "buildid": types.Integer(),
    "stepid": types.Integer(),
    "description": types.NoneOk(types.String()),
    "category": types.String(),
    "value_unit": types.String(),
    "tests_passed": types.NoneOk(types.Integer()),
    "tests_failed": types.NoneOk(types.Integer()),
    "complete": types.Boolean(),
})


def test_result_set_message(row: Any) -> dict[str, Any]:
    """The `test_result_set` body of a db TestResultSetModel."""
    return {
        "test_result_setid": row.id,
        "builderid": row.builderid,
        "buildid": row.buildid,
        "stepid": row.stepid,
        "description": row.description,
        "category": row.category,
        "value_unit": row.value_unit,
        "tests_passed": row.tests_passed,
        "tests_failed": row.tests_failed,
        "complete": bool(row.complete),
    }


class TestResultSetsEndpoint(Endpoint):
    """Test result sets: all, or of a builder, build or step."""

    kind = EndpointKind.COLLECTION
    pathPatterns = """
        /test_result_sets
        /builders/n:builderid/test_result_sets
        /builders/s:buildername/test_result_sets
        /builds/n:buildid/test_result_sets
        /steps/n:stepid/test_result_sets
    """

    async def get(self, result_spec: ResultSpec, kwargs: dict[str, Any]) -> Any:
        complete = result_spec.popBooleanFilter("complete")
        lookup = NestedLookup(self.db, kwargs)
        builderid = buildid = stepid = None
        if "stepid" in kwargs:
            # (Buildbot 4.3: 500 for an unknown step or build.)
            step = await lookup.step()
            build = await lookup.build()
            if step is None or build is None:
                return []
            stepid, buildid, builderid = step.id, build.id, build.builderid
        elif "buildid" in kwargs:
            build = await lookup.build()
            if build is None:
                return []
            buildid, builderid = build.id, build.builderid
        elif "builderid" in kwargs or "buildername" in kwargs:
            builderid = await lookup.builder_id()
            if builderid is None:
                return []
        sql = take_sql_spec(result_spec, self.db.test_result_sets.result_spec_fields)
        rows = await self.db.test_result_sets.getTestResultSets(
            builderid=builderid, buildid=buildid, stepid=stepid, complete=complete,
            result_spec=sql)
        return [test_result_set_message(r) for r in rows]


class TestResultSetsFromCommitRangeEndpoint(Endpoint):
    """The test result sets of the commits of a range."""

    kind = EndpointKind.COLLECTION
    pathPatterns = (
        "/codebases/n:codebaseid/commit_range/n:commitid1/n:commitid2/test_result_sets")

    async def get(self, result_spec: ResultSpec, kwargs: dict[str, Any]) -> Any:
        first, last = int(kwargs["commitid1"]), int(kwargs["commitid2"])
        found = await self.db.codebase_commits.get_first_common_commit_with_ranges(first, last)
        # Only a range whose start is an ancestor of its end has results.
        if found is None or not found.to2_commit_ids or found.to2_commit_ids[0] != first:
            return []
        rows = await self.db.test_result_sets.get_test_result_sets_for_commits(
            commit_ids=list(found.to2_commit_ids))
        return [test_result_set_message(r) for r in rows]


class TestResultSetEndpoint(Endpoint):
    """One test result set."""

    kind = EndpointKind.SINGLE
    pathPatterns = "/test_result_sets/n:test_result_setid"

    async def get(self, result_spec: ResultSpec, kwargs: dict[str, Any]) -> Any:
        row = await self.db.test_result_sets.getTestResultSet(kwargs["test_result_setid"])
        return test_result_set_message(row) if row is not None else None


class TestResultSet(ResourceType):
    """Test result sets (`test_result_set` / `test_result_sets`)."""

    name = "test_result_set"
    plural = "test_result_sets"
    keyField = "test_result_setid"
    endpoints: ClassVar[list[type[Endpoint]]] = [
        TestResultSetsEndpoint, TestResultSetsFromCommitRangeEndpoint, TestResultSetEndpoint]
    eventPathPatterns = "/test_result_sets/:test_result_setid"
    stateEvents = frozenset({"new", "completed"})
    entityType = test_result_set_entity

    @update_method
    async def addTestResultSet(self, builderid: int, buildid: int, stepid: int,
                               description: str | None, category: str,
                               value_unit: str) -> int:
        """Store an incomplete result set of the step; announce `new`; return its id."""
        with self.writing() as seq:
            setid = int(await self.db.test_result_sets.addTestResultSet(
                builderid, buildid, stepid, description, category, value_unit))
            self.produceEvent({
                "test_result_setid": setid, "builderid": builderid, "buildid": buildid,
                "stepid": stepid, "description": description, "category": category,
                "value_unit": value_unit, "tests_passed": None, "tests_failed": None,
                "complete": False}, "new", seq)
        return setid

    @update_method
    async def completeTestResultSet(self, test_result_setid: int,
                                    tests_passed: int | None = None,
                                    tests_failed: int | None = None) -> None:
        """Mark the set complete with its pass/fail counts; announce `completed`."""
        with self.writing() as seq:
            await self.db.test_result_sets.completeTestResultSet(
                test_result_setid, tests_passed, tests_failed)
            row = await self.db.test_result_sets.getTestResultSet(test_result_setid)
            if row is not None:
                self.produceEvent(test_result_set_message(row), "completed", seq)
