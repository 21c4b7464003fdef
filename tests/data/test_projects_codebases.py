"""projects, codebases, commits, branches and the commit graph."""

from __future__ import annotations

import pytest_twisted

from buildbot.data.codebase_branches import branch_entity
from buildbot.data.codebase_commits import commit_entity
from buildbot.data.codebases import codebase_entity
from buildbot.data.projects import project_entity
from buildbot.util.resultspec import Filter
from tests.fixtures.stack import START_TIME, Stack


@pytest_twisted.ensureDeferred
async def test_projects(stack: Stack) -> None:
    seen = stack.mq_record(("projects", None, None))
    p1 = await stack.updates.find_project_id("alpha")
    p2 = await stack.updates.find_project_id("beta")
    assert await stack.updates.find_project_id("gamma", auto_create=False) is None
    await stack.updates.update_project_info(p1, "alpha-slug", "Alpha *project*", "markdown",
                                            "<p>Alpha <em>project</em></p>")
    await stack.make_builder(projectid=p1)
    await stack.make_builder(projectid=p1)

    alpha = {"projectid": p1, "name": "alpha", "slug": "alpha-slug",
             "description": "Alpha *project*", "description_format": "markdown",
             "description_html": "<p>Alpha <em>project</em></p>", "active": None}
    beta = {"projectid": p2, "name": "beta", "slug": "beta", "description": None,
            "description_format": None, "description_html": None, "active": None}
    assert seen == [(("projects", str(p1), "update"), alpha)]
    assert project_entity.invalid_fields(alpha) == []
    assert await stack.data.get(("projects", p1)) == alpha
    assert await stack.data.get(("projects", "alpha")) == alpha
    assert await stack.data.get(("projects", "nope")) is None
    assert await stack.data.get(("projects",)) == [alpha, beta]
    # one entry per project, although two of alpha's builders are attached (4.3: two)
    assert await stack.data.get(("projects",), filters=[Filter("active", "eq", [True])]) == \
        [dict(alpha, active=True)]
    assert await stack.data.get(("projects",), filters=[Filter("active", "eq", [False])]) == \
        [dict(beta, active=False)]


@pytest_twisted.ensureDeferred
async def test_codebases(stack: Stack) -> None:
    projectid = await stack.updates.find_project_id("proj")
    seen = stack.mq_record(("codebases", None, None))
    cb = await stack.updates.find_codebase_id(projectid=projectid, name="main")
    await stack.updates.update_codebase_info(codebaseid=cb, projectid=projectid,
                                             slug="main-slug")
    other = await stack.updates.find_codebase_id(projectid=projectid, name="docs")

    body = {"codebaseid": cb, "name": "main", "slug": "main-slug", "projectid": projectid}
    assert seen == [(("codebases", str(cb), "update"), body)]
    assert codebase_entity.invalid_fields(body) == []
    assert await stack.data.get(("codebases", cb)) == body
    assert await stack.data.get(("projects", projectid, "codebases", "main")) == body
    assert await stack.data.get(("projects", projectid, "codebases", "nope")) is None
    assert [c["codebaseid"] for c in await stack.data.get(("codebases",))] == [cb, other]
    assert [c["codebaseid"] for c in await stack.data.get(
        ("codebases",), filters=[Filter("name", "eq", ["docs"])])] == [other]


@pytest_twisted.ensureDeferred
async def test_commits_branches_and_graph(stack: Stack) -> None:
    projectid = await stack.updates.find_project_id("proj")
    cb = await stack.updates.find_codebase_id(projectid=projectid, name="main")
    seen = stack.mq_record(("commits", None, None), ("codebases", None, "commits", None, None),
                           ("branches", None, None))

    async def commit(rev: str, parent: int | None) -> int:
        commitid: int = await stack.updates.add_commit(
            codebaseid=cb, author="me", comments=f"commit {rev}", when_timestamp=START_TIME,
            revision=rev, parent_commitid=parent)
        return commitid

    c1 = await commit("r1", None)
    c2 = await commit("r2", c1)
    c3 = await commit("r3", c2)
    c4 = await commit("r4", c2)
    await stack.updates.update_branch(codebaseid=cb, name="main", commitid=c3,
                                      last_timestamp=START_TIME)

    r1 = {"commitid": c1, "codebaseid": cb, "author": "me", "committer": None,
          "comments": "commit r1", "when_timestamp": START_TIME, "revision": "r1",
          "parent_commitid": None}
    assert seen[:2] == [(("commits", str(c1), "new"), r1),
                        (("codebases", str(cb), "commits", str(c1), "new"), r1)]
    branch = seen[-1][1]
    assert seen[-1][0] == ("branches", str(branch["branchid"]), "update")
    assert branch == {"branchid": branch["branchid"], "codebaseid": cb, "name": "main",
                      "commitid": c3, "last_timestamp": START_TIME}
    assert commit_entity.invalid_fields(r1) == [] and branch_entity.invalid_fields(branch) == []
    assert await stack.data.get(("commits", c1)) == r1
    assert await stack.data.get(("codebases", cb, "commits_by_revision", "r1")) == r1
    assert [c["commitid"] for c in await stack.data.get(("codebases", cb, "commits"))] == \
        [c1, c2, c3, c4]
    assert await stack.data.get(("branches", branch["branchid"])) == branch
    assert await stack.data.get(("codebases", cb, "branches")) == [branch]
    graph = await stack.data.get(
        ("codebases", cb, "commit_range", c3, c4, "commits_common_parent"))
    assert graph == {"common": c2, "to1": [c2, c3], "to2": [c2, c4]}
