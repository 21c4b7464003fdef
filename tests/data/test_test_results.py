"""test_result_sets and test_results."""

from __future__ import annotations

import pytest_twisted

from buildbot.data.test_result_sets import test_result_set_entity
from buildbot.data.test_results import test_result_entity
from buildbot.util.resultspec import Filter
from tests.fixtures.stack import Stack


@pytest_twisted.ensureDeferred
async def test_sets_and_results(stack: Stack) -> None:
    bid = await stack.make_builder("linux")
    build = await stack.make_build(builderid=bid)
    step = await stack.make_step(build.id)
    seen = stack.mq_record(("test_result_sets", None, None))

    setid = await stack.updates.addTestResultSet(bid, build.id, step.id, "unit tests",
                                                 "pass_fail", "boolean")
    await stack.updates.addTestResults(bid, setid, [
        {"test_name": "t1", "value": "1"},
        {"test_name": "t2", "test_code_path": "a/b.py", "line": 3, "duration_ns": 10,
         "value": "0"}])
    await stack.updates.completeTestResultSet(setid, tests_passed=1, tests_failed=1)

    new = {"test_result_setid": setid, "builderid": bid, "buildid": build.id,
           "stepid": step.id, "description": "unit tests", "category": "pass_fail",
           "value_unit": "boolean", "tests_passed": None, "tests_failed": None,
           "complete": False}
    done = dict(new, tests_passed=1, tests_failed=1, complete=True)
    assert seen == [(("test_result_sets", str(setid), "new"), new),
                    (("test_result_sets", str(setid), "completed"), done)]
    assert test_result_set_entity.invalid_fields(done) == []
    assert await stack.data.get(("test_result_sets", setid)) == done
    for path in [("test_result_sets",), ("builders", bid, "test_result_sets"),
                 ("builders", "linux", "test_result_sets"),
                 ("builds", build.id, "test_result_sets"),
                 ("steps", step.id, "test_result_sets")]:
        assert await stack.data.get(path) == [done], path
    assert await stack.data.get(("steps", 999, "test_result_sets")) == []  # 4.3: 500
    assert await stack.data.get(("test_result_sets",),
                                filters=[Filter("complete", "eq", [False])]) == []

    results = await stack.data.get(("test_result_sets", setid, "results"))
    assert [(r["test_name"], r["test_code_path"], r["line"], r["duration_ns"], r["value"])
            for r in results] == [("t1", None, None, None, "1"), ("t2", "a/b.py", 3, 10, "0")]
    assert all(test_result_entity.invalid_fields(r) == [] for r in results)
    assert await stack.data.get(("test_result_sets", 999, "results")) == []
