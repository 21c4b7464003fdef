"""Branches of codebases (`branches`) and the update recording a branch's head."""

from __future__ import annotations

from typing import Any, ClassVar

from buildbot.data import types
from buildbot.data.base import Endpoint, EndpointKind, ResourceType, take_sql_spec, update_method
from buildbot.util.resultspec import ResultSpec

branch_entity = types.Entity("branch", {
    "branchid": types.Integer(),
    "codebaseid": types.Integer(),
    "name": types.String(),
    "commitid": types.Integer(),
    "last_timestamp": types.Integer(),
})


def branch_message(row: Any) -> dict[str, Any]:
    """The `branch` body of a db CodebaseBranchModel."""
    return {"branchid": row.id, "codebaseid": row.codebaseid, "name": row.name,
            "commitid": row.commitid, "last_timestamp": row.last_timestamp}


class CodebaseBranchEndpoint(Endpoint):
    """One branch."""

    kind = EndpointKind.SINGLE
    pathPatterns = "/branches/n:branchid"

    async def get(self, result_spec: ResultSpec, kwargs: dict[str, Any]) -> Any:
        row = await self.db.codebase_branches.get_branch(kwargs["branchid"])
        return branch_message(row) if row is not None else None


class CodebaseBranchesEndpoint(Endpoint):
    """The branches of a codebase."""

    kind = EndpointKind.COLLECTION
    pathPatterns = "/codebases/n:codebaseid/branches"

    async def get(self, result_spec: ResultSpec, kwargs: dict[str, Any]) -> Any:
        sql = take_sql_spec(result_spec, self.db.codebase_branches.result_spec_fields)
        rows = await self.db.codebase_branches.get_branches(kwargs["codebaseid"],
                                                            result_spec=sql)
        return [branch_message(r) for r in rows]


class CodebaseBranch(ResourceType):
    """Branches of codebases (`branch` / `branches`)."""

    name = "branch"
    plural = "branches"
    keyField = "branchid"
    endpoints: ClassVar[list[type[Endpoint]]] = [CodebaseBranchEndpoint,
                                                 CodebaseBranchesEndpoint]
    eventPathPatterns = "/branches/:branchid"
    stateEvents = frozenset({"update"})
    entityType = branch_entity

    @update_method
    async def update_branch(self, *, codebaseid: int, name: str, commitid: int | None = None,
                            last_timestamp: int) -> None:
        """Create or update the branch called `name`; announce `update`."""
        with self.writing() as seq:
            await self.db.codebase_branches.update_branch(
                codebaseid=codebaseid, name=name, commitid=commitid,
                last_timestamp=last_timestamp)
            row = await self.db.codebase_branches.get_branch_by_name(codebaseid=codebaseid,
                                                                      name=name)
            if row is not None:
                self.produceEvent(branch_message(row), "update", seq)
