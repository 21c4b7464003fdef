"""Test results of a result set (`/test_result_sets/n/results`) and the bulk update storing
them (no messages: clients wait for the set's `completed`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from buildbot.data import types
from buildbot.data.base import Endpoint, EndpointKind, ResourceType, take_sql_spec, update_method
from buildbot.util.resultspec import ResultSpec

test_result_entity = types.Entity("test_result", {
    "test_resultid": types.Integer(),
    "builderid": types.Integer(),
    "test_result_setid": types.Integer(),
    "test_name": types.NoneOk(types.String()),
    "test_code_path": types.NoneOk(types.String()),
    "line": types.NoneOk(types.Integer()),
    "duration_ns": types.NoneOk(types.Integer()),
    "value": types.String(),
})


def test_result_message(row: Any) -> dict[str, Any]:
    """The `test_result` body of a db TestResultModel."""
    return {
        "test_resultid": row.id,
        "builderid": row.builderid,
        "test_result_setid": row.test_result_setid,
        "test_name": row.test_name,
        "test_code_path": row.test_code_path,
        "line": row.line,
        "duration_ns": row.duration_ns,
        "value": row.value,
    }


class TestResultsEndpoint(Endpoint):
    """The results of a test result set."""

    kind = EndpointKind.COLLECTION
    pathPatterns = "/test_result_sets/n:test_result_setid/results"

    async def get(self, result_spec: ResultSpec, kwargs: dict[str, Any]) -> Any:
        result_set = await self.db.test_result_sets.getTestResultSet(
            kwargs["test_result_setid"])
        if result_set is None:
            return []
        sql = take_sql_spec(result_spec, self.db.test_results.result_spec_fields)
        rows = await self.db.test_results.getTestResults(
            result_set.builderid, kwargs["test_result_setid"], result_spec=sql)
        return [test_result_message(r) for r in rows]


class TestResult(ResourceType):
    """Test results (`test_result` / `test_results`)."""

    name = "test_result"
    plural = "test_results"
    keyField = "test_resultid"
    endpoints: ClassVar[list[type[Endpoint]]] = [TestResultsEndpoint]
    eventPathPatterns = "/test_result_sets/:test_result_setid/results"
    entityType = test_result_entity

    @update_method
    async def addTestResults(self, builderid: int, test_result_setid: int,
                             result_values: Sequence[dict[str, Any]]) -> None:
        """Store many results of the set in one go (`value`, and `test_name` and/or
        `test_code_path`, optionally `line` and `duration_ns`)."""
        await self.db.test_results.addTestResults(builderid, test_result_setid,
                                                  list(result_values))
