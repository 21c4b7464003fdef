"""Projects, codebases, commits and branches."""

from __future__ import annotations

import pytest
import pytest_twisted

from buildbot.db.codebase_branches import CodebaseBranchModel
from buildbot.db.codebase_commits import CodebaseCommitModel, CommonCommitInfo
from buildbot.db.codebases import CodebaseModel
from buildbot.db.connector import DBConnector
from buildbot.db.projects import ProjectModel
from buildbot.util.resultspec import Filter, ResultSpec
from tests.db import rows

pytestmark = pytest.mark.db


@pytest_twisted.ensureDeferred
async def test_projects_and_active_ones(db: DBConnector) -> None:
    m = await rows.master(db)
    zed = await db.projects.find_project_id("zed")
    abc = await db.projects.find_project_id("abc")
    assert await db.projects.find_project_id("zed") == zed
    assert await db.projects.find_project_id("nope", auto_create=False) is None
    await db.projects.update_project_info(zed, "z", "desc", "markdown", "<p>desc</p>")
    assert [p.name for p in await db.projects.get_projects()] == ["abc", "zed"]
    assert await db.projects.get_project(zed) == ProjectModel(zed, "zed", "z", "desc",
                                                              "markdown", "<p>desc</p>")
    for name in ("b1", "b2"):
        bid = await db.builders.findBuilderId(name)
        assert bid is not None
        await db.builders.updateBuilderInfo(bid, None, None, None, zed, [])
        await db.builders.addBuilderMaster(builderid=bid, masterid=m)
    assert [p.id for p in await db.projects.get_active_projects()] == [zed]
    assert abc is not None


@pytest_twisted.ensureDeferred
async def test_codebases(db: DBConnector) -> None:
    p = await db.projects.find_project_id("p")
    assert p is not None
    cb = await db.codebases.find_codebase_id(projectid=p, name="main")
    assert await db.codebases.find_codebase_id(projectid=p, name="main") == cb
    assert cb is not None
    await db.codebases.update_codebase_info(codebaseid=cb, projectid=p, slug="m")
    assert await db.codebases.get_codebase(cb) == CodebaseModel(cb, p, "main", "m")
    spec = ResultSpec(filters=[Filter("slug", "eq", ["m"])])
    assert [c.id for c in await db.codebases.get_codebases(result_spec=spec)] == [cb]
    assert await db.codebases.get_codebases(projectid=p + 1) == []


async def _chain(db: DBConnector, cb: int, revs: list[str], parent: int | None = None
                 ) -> list[int]:
    ids = []
    for rev in revs:
        parent = await db.codebase_commits.add_commit(
            codebaseid=cb, author="a", comments=rev, when_timestamp=1, revision=rev,
            parent_commitid=parent)
        ids.append(parent)
    return ids


@pytest_twisted.ensureDeferred
async def test_commits_and_common_ancestor(db: DBConnector) -> None:
    p = await db.projects.find_project_id("p")
    cb = await db.codebases.find_codebase_id(projectid=p, name="c")  # type: ignore[arg-type]  # an id here
    assert cb is not None
    base = await _chain(db, cb, ["r0", "r1", "r2"])
    left = await _chain(db, cb, ["l1", "l2"], base[-1])
    right = await _chain(db, cb, ["x1"], base[1])
    assert await db.codebase_commits.get_commit_by_revision(codebaseid=cb, revision="l1") == \
        CodebaseCommitModel(left[0], cb, "a", None, "l1", 1, "l1", base[-1])
    assert [c.id if c else None for c in await db.codebase_commits.get_commits_by_id(
        [right[0], 999, base[0]])] == [right[0], None, base[0]]
    info = await db.codebase_commits.get_first_common_commit_with_ranges(left[-1], right[0])
    assert info == CommonCommitInfo(base[1], [base[1], base[2], left[0], left[1]],
                                    [base[1], right[0]])
    info = await db.codebase_commits.get_first_common_commit_with_ranges(left[-1], base[2])
    assert info == CommonCommitInfo(base[2], [base[2], left[0], left[1]], [base[2]])
    assert await db.codebase_commits.get_first_common_commit_with_ranges(base[0], base[0]) == \
        CommonCommitInfo(base[0], [base[0]], [base[0]])
    assert await db.codebase_commits.get_first_common_commit_with_ranges(999, 999) is None
    other = await _chain(db, cb, ["o1"])
    assert await db.codebase_commits.get_first_common_commit_with_ranges(other[0], left[0]) \
        is None
    assert len(await db.codebase_commits.get_commits(codebaseid=cb)) == 7


@pytest_twisted.ensureDeferred
async def test_branches_upsert(db: DBConnector) -> None:
    p = await db.projects.find_project_id("p")
    cb = await db.codebases.find_codebase_id(projectid=p, name="c")  # type: ignore[arg-type]  # an id here
    assert cb is not None
    c1, c2 = await _chain(db, cb, ["a", "b"])
    await db.codebase_branches.update_branch(codebaseid=cb, name="main", commitid=c1,
                                             last_timestamp=10)
    await db.codebase_branches.update_branch(codebaseid=cb, name="main", commitid=c2,
                                             last_timestamp=20)
    found = await db.codebase_branches.get_branch_by_name(cb, "main")
    assert found == CodebaseBranchModel(found.id if found else 0, cb, "main", c2, 20)
    assert await db.codebase_branches.get_branches(cb) == [found]
    assert found is not None and await db.codebase_branches.get_branch(found.id) == found
