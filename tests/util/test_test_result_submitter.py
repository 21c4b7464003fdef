"""TestResultSubmitter: results reach the data API in batches and the set is completed with
pass/fail counts that depend on its category, as in Buildbot 4.3."""

from __future__ import annotations

import pytest
import pytest_twisted

from buildbot.util.test_result_submitter import TestResultSubmitter
from tests.fixtures.stack import Stack


async def submitter_for(stack: Stack, category: str, unit: str,
                        batch_n: int = 2) -> tuple[TestResultSubmitter, int]:
    step = await stack.make_step()
    build = await stack.db.builds.getBuild(step.buildid)
    sub = TestResultSubmitter(batch_n=batch_n)
    await sub.setup_by_ids(stack.master, build.builderid, step.buildid, step.id, "unit tests",
                           category, unit)
    setid = sub.get_test_result_set_id()
    assert setid is not None
    return sub, setid


@pytest_twisted.ensureDeferred
async def test_pass_fail_results_are_batched_and_counted(stack: Stack) -> None:
    sub, setid = await submitter_for(stack, "pass_fail", "boolean")
    for i, value in enumerate(["1", "0", "1"]):
        sub.add_test_result(value, test_name=f"t{i}", duration_ns=5, line=i)
    # the first batch of two is on its way already; the third waits for finish()
    await sub.finish()

    rows = await stack.data.get(("test_result_sets", setid, "results"))
    assert sorted((r["test_name"], r["value"], r["line"], r["duration_ns"]) for r in rows) == [
        ("t0", "1", 0, 5), ("t1", "0", 1, 5), ("t2", "1", 2, 5)]
    done = await stack.data.get(("test_result_sets", setid))
    assert (done["complete"], done["tests_passed"], done["tests_failed"]) == (True, 2, 1)


@pytest.mark.parametrize(("category", "unit", "counts"), [
    ("code_issue", "message", (0, 2)), ("fail_only", "message", (0, 2)),
    ("pass_only", "message", (2, 0)), ("performance", "seconds", (None, None))])
@pytest_twisted.ensureDeferred
async def test_counts_follow_the_category(stack: Stack, category: str, unit: str,
                                          counts: tuple[int | None, int | None]) -> None:
    sub, setid = await submitter_for(stack, category, unit, batch_n=100)
    sub.add_test_result("a", test_code_path="x.py")
    sub.add_test_result("b", test_code_path="y.py", line=3)
    await sub.finish()
    done = await stack.data.get(("test_result_sets", setid))
    assert (done["tests_passed"], done["tests_failed"]) == counts
    assert len(await stack.data.get(("test_result_sets", setid, "results"))) == 2


@pytest_twisted.ensureDeferred
async def test_values_of_the_wrong_type_are_refused(stack: Stack) -> None:
    sub, _ = await submitter_for(stack, "code_issue", "message")
    with pytest.raises(TypeError, match="value must be a string"):
        sub.add_test_result(1)  # type: ignore[arg-type]  # the wrong type on purpose
    with pytest.raises(TypeError, match="line must be an integer"):
        sub.add_test_result("x", test_name="t", line="3")  # type: ignore[arg-type]  # on purpose
    await sub.finish()
