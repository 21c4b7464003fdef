"""Commits of codebases (`commits`) and the commit graph between two commits
(`commit_graphs`)."""

from __future__ import annotations

from typing import Any, ClassVar

from buildbot.data import types
from buildbot.data.base import Endpoint, EndpointKind, ResourceType, take_sql_spec, update_method
from buildbot.util.resultspec import ResultSpec

commit_entity = types.Entity("commit", {
    "commitid": types.Integer(),
    "codebaseid": types.Integer(),
    "author": types.String(),
    "committer": types.NoneOk(types.String()),
    "comments": types.String(),
    "when_timestamp": types.Integer(),
    "revision": types.String(),
    "parent_commitid": types.NoneOk(types.Integer()),
})


def commit_message(row: Any) -> dict[str, Any]:
    """The `commit` body of a db CodebaseCommitModel."""
    return {
        "commitid": row.id,
        "codebaseid": row.codebaseid,
        "author": row.author,
        "committer": row.committer,
        "comments": row.comments,
        "when_timestamp": row.when_timestamp,
        "revision": row.revision,
        "parent_commitid": row.parent_commitid,
    }


class CodebaseCommitEndpoint(Endpoint):
    """One commit."""

    kind = EndpointKind.SINGLE
    pathPatterns = "/commits/n:commitid"

    async def get(self, result_spec: ResultSpec, kwargs: dict[str, Any]) -> Any:
        row = await self.db.codebase_commits.get_commit(kwargs["commitid"])
        return commit_message(row) if row is not None else None


class CodebaseCommitByRevisionEndpoint(Endpoint):
    """One commit of a codebase, by revision."""

    kind = EndpointKind.SINGLE
    pathPatterns = "/codebases/n:codebaseid/commits_by_revision/s:revision"

    async def get(self, result_spec: ResultSpec, kwargs: dict[str, Any]) -> Any:
        row = await self.db.codebase_commits.get_commit_by_revision(
            codebaseid=kwargs["codebaseid"], revision=kwargs["revision"])
        return commit_message(row) if row is not None else None


class CodebaseCommitsEndpoint(Endpoint):
    """The commits of a codebase."""

    kind = EndpointKind.COLLECTION
    pathPatterns = "/codebases/n:codebaseid/commits"

    async def get(self, result_spec: ResultSpec, kwargs: dict[str, Any]) -> Any:
        sql = take_sql_spec(result_spec, self.db.codebase_commits.result_spec_fields)
        rows = await self.db.codebase_commits.get_commits(codebaseid=kwargs["codebaseid"],
                                                          result_spec=sql)
        return [commit_message(r) for r in rows]


class CodebaseCommit(ResourceType):
    """Commits of codebases (`commit` / `commits`)."""

    name = "commit"
    plural = "commits"
    keyField = "commitid"
    endpoints: ClassVar[list[type[Endpoint]]] = [
        CodebaseCommitEndpoint, CodebaseCommitByRevisionEndpoint, CodebaseCommitsEndpoint]
    eventPathPatterns = """
        /commits/:commitid
        /codebases/:codebaseid/commits/:commitid
    """
    stateEvents = frozenset({"new"})
    entityType = commit_entity

    @update_method
    async def add_commit(self, *, codebaseid: int, author: str, committer: str | None = None,
                         files: list[str] | None = None, comments: str, when_timestamp: int,
                         revision: str, parent_commitid: int | None = None) -> int:
        """Store a commit of the codebase (`files` is not stored); announce `new`."""
        with self.writing() as seq:
            commitid = int(await self.db.codebase_commits.add_commit(
                codebaseid=codebaseid, author=author, committer=committer, files=files,
                comments=comments, when_timestamp=when_timestamp, revision=revision,
                parent_commitid=parent_commitid))
            self.produceEvent({
                "commitid": commitid, "codebaseid": codebaseid, "author": author,
                "committer": committer, "comments": comments,
                "when_timestamp": when_timestamp, "revision": revision,
                "parent_commitid": parent_commitid}, "new", seq)
        return commitid


class CodebaseCommitsGraphEndpoint(Endpoint):
    """The first common ancestor of two commits and the paths to them."""

    kind = EndpointKind.SINGLE
    pathPatterns = (
        "/codebases/n:codebaseid/commit_range/n:commitid1/n:commitid2/commits_common_parent")

    async def get(self, result_spec: ResultSpec, kwargs: dict[str, Any]) -> Any:
        found = await self.db.codebase_commits.get_first_common_commit_with_ranges(
            int(kwargs["commitid1"]), int(kwargs["commitid2"]))
        if found is None:
            return None
        return {"common": found.common_commit_id, "to1": list(found.to1_commit_ids),
                "to2": list(found.to2_commit_ids)}


class CodebaseCommitsGraph(ResourceType):
    """Commit graphs between two commits (`commit_graph`)."""

    name = "commit_graph"
    plural = "commit_graphs"
    endpoints: ClassVar[list[type[Endpoint]]] = [CodebaseCommitsGraphEndpoint]
    entityType = types.Entity("commit_graph", {
        "common": types.Integer(),
        "to1": types.List(of=types.Integer()),
        "to2": types.List(of=types.Integer()),
    })
