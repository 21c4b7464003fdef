"""Build data and test results."""

from __future__ import annotations

import pytest
import pytest_twisted

from buildbot.db.build_data import BuildDataModel
from buildbot.db.connector import DBConnector
from buildbot.db.errors import InvalidValueError, TestResultSetAlreadyCompleted
from buildbot.db.test_result_sets import TestResultSetModel
from buildbot.db.test_results import TestResultModel
from buildbot.util.resultspec import Filter, ResultSpec
from tests.db import rows

pytestmark = pytest.mark.db


@pytest_twisted.ensureDeferred
async def test_build_data_upsert_and_horizon(db: DBConnector) -> None:
    _, _, done = await rows.build(db)
    _, _, running = await rows.build(db)
    await db.build_data.setBuildData(done, "coverage", b"\x00\x01", "step")
    await db.build_data.setBuildData(done, "coverage", b"\x00\x01\x02", "step2")
    await db.build_data.setBuildData(running, "x", b"y", "s")
    assert await db.build_data.getBuildData(done, "coverage") == BuildDataModel(
        done, "coverage", 3, "step2", b"\x00\x01\x02")
    assert await db.build_data.getAllBuildDataNoValues(done) == [
        BuildDataModel(done, "coverage", 3, "step2", None)]
    assert await db.build_data.getBuildDataNoValue(done, "nope") is None
    db.clock.advance(100)
    await db.builds.finishBuild(done, 0)
    assert await db.build_data.deleteOldBuildData(50) == 0
    assert await db.build_data.deleteOldBuildData(150) == 1
    assert await db.build_data.getBuildDataNoValue(running, "x") is not None


@pytest_twisted.ensureDeferred
async def test_test_result_sets_and_results(db: DBConnector) -> None:
    builderid, _, buildid = await rows.build(db)
    stepid, _, _ = await db.steps.addStep(buildid, "test", "pending")
    setid = await db.test_result_sets.addTestResultSet(builderid, buildid, stepid, "unit",
                                                       "pass_fail", "boolean")
    await db.test_results.addTestResults(builderid, setid, [
        {"test_name": "t1", "value": "1"},
        {"test_name": "t2", "test_code_path": "a.py", "line": 3, "duration_ns": 9,
         "value": "0"},
        {"test_code_path": "a.py", "value": "1"}])
    with pytest.raises(InvalidValueError):
        await db.test_results.addTestResults(builderid, setid, [{"value": "1"}])
    results = await db.test_results.getTestResults(builderid, setid)
    assert [(r.test_name, r.test_code_path, r.line, r.value) for r in results] == [
        ("t1", None, None, "1"), ("t2", "a.py", 3, "0"), (None, "a.py", None, "1")]
    assert await db.test_results.getTestResult(results[1].id) == TestResultModel(
        results[1].id, builderid, setid, "t2", "a.py", 3, 9, "0")
    spec = ResultSpec(filters=[Filter("test_name", "eq", ["t2"])])
    assert [r.id for r in await db.test_results.getTestResults(builderid, setid, spec)] == \
        [results[1].id]
    assert await db.test_results.getTestNames(builderid) == ["t1", "t2"]
    assert await db.test_results.getTestNames(builderid, name_prefix="t2") == ["t2"]
    assert await db.test_results.getTestCodePaths(builderid) == ["a.py"]
    await db.test_result_sets.completeTestResultSet(setid, tests_passed=2, tests_failed=1)
    with pytest.raises(TestResultSetAlreadyCompleted):
        await db.test_result_sets.completeTestResultSet(setid)
    assert await db.test_result_sets.getTestResultSets(buildid=buildid, complete=True) == [
        TestResultSetModel(setid, builderid, buildid, stepid, "unit", "pass_fail", "boolean",
                           2, 1, True)]


@pytest_twisted.ensureDeferred
async def test_result_sets_for_commits_match_revisions(db: DBConnector) -> None:
    p = await db.projects.find_project_id("p")
    cb = await db.codebases.find_codebase_id(projectid=p, name="c")  # type: ignore[arg-type]  # an id here
    commit = await db.codebase_commits.add_commit(codebaseid=cb, author="a",  # type: ignore[arg-type]  # an id here
                                                  comments="", when_timestamp=1, revision="abc")
    builderid, _, buildid = await rows.build(db)  # revision "abc"
    stepid, _, _ = await db.steps.addStep(buildid, "test", "pending")
    setid = await db.test_result_sets.addTestResultSet(builderid, buildid, stepid, None,
                                                       "c", "u")
    found = await db.test_result_sets.get_test_result_sets_for_commits(commit_ids=[commit])
    assert [s.id for s in found] == [setid]
