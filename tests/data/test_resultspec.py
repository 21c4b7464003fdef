"""Query options through the data API: every operator, in SQL and in memory, ordering,
paging, field selection, meta.total, and proof that paging runs in the database."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import pytest_twisted
import sqlalchemy as sa

from buildbot.util.results import FAILURE, SUCCESS, WARNINGS
from buildbot.util.resultspec import Filter, ResultSpec
from tests.fixtures.stack import Stack

# SQL semantics: also run on PostgreSQL and MariaDB by .ci/run.
pytestmark = pytest.mark.db


@pytest.fixture
def statements(stack: Stack) -> Iterator[list[str]]:
    """Every SQL statement the test runs."""
    seen: list[str] = []
    engine = stack.db.pool._engine

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    sa.event.listen(engine, "before_cursor_execute", record)
    yield seen
    sa.event.remove(engine, "before_cursor_execute", record)


async def _builds(stack: Stack) -> list[int]:
    """Six builds of two builders; results SUCCESS, WARNINGS, FAILURE, SUCCESS, None, None;
    state strings 'b0'..'b5'."""
    linux = await stack.make_builder("linux")
    win = await stack.make_builder("win")
    ids = []
    for i, result in enumerate([SUCCESS, WARNINGS, FAILURE, SUCCESS, None, None]):
        b = await stack.make_build(builderid=linux if i % 2 == 0 else win)
        await stack.updates.setBuildStateString(b.id, f"b{i}")
        if result is not None:
            await stack.updates.finishBuild(b.id, result)
        ids.append(b.id)
    return ids


OPERATOR_CASES = [
    (Filter("results", "eq", [SUCCESS]), [0, 3]),
    (Filter("results", "eq", [SUCCESS, FAILURE]), [0, 2, 3]),
    (Filter("results", "ne", [SUCCESS]), [1, 2, 4, 5]),
    (Filter("results", "ne", [SUCCESS, FAILURE]), [1, 4, 5]),
    (Filter("results", "lt", [FAILURE]), [0, 1, 3]),
    (Filter("results", "le", [WARNINGS]), [0, 1, 3]),
    (Filter("results", "gt", [SUCCESS]), [1, 2]),
    (Filter("results", "ge", [WARNINGS]), [1, 2]),
    (Filter("results", "in", [WARNINGS, FAILURE]), [1, 2]),
    (Filter("results", "notin", [WARNINGS, FAILURE]), [0, 3, 4, 5]),
    (Filter("results", "eq", [None]), [4, 5]),
    (Filter("state_string", "contains", ["b1"]), [1]),
    (Filter("state_string", "contains", ["b1", "b4"]), [1, 4]),
    (Filter("state_string", "eq", ["b2"]), [2]),
]


@pytest.mark.parametrize(("flt", "expected"), OPERATOR_CASES)
@pytest_twisted.ensureDeferred
async def test_operators_in_sql(stack: Stack, flt: Filter, expected: list[int]) -> None:
    ids = await _builds(stack)
    got = await stack.data.get(("builds",), filters=[flt])
    assert [b["buildid"] for b in got] == [ids[i] for i in expected]


@pytest.mark.parametrize(("flt", "expected"), OPERATOR_CASES)
@pytest_twisted.ensureDeferred
async def test_operators_in_memory(stack: Stack, flt: Filter, expected: list[int]) -> None:
    ids = await _builds(stack)
    # `complete` with two values is no column and no consumed filter: all goes to memory
    both = Filter("complete", "eq", [True, False])
    got = await stack.data.get(("builds",), filters=[both, flt])
    assert [b["buildid"] for b in got] == [ids[i] for i in expected]


@pytest_twisted.ensureDeferred
async def test_contains_on_a_list_field(stack: Stack) -> None:
    await stack.make_builder("a", tags=["fast", "linux"])
    await stack.make_builder("b", tags=["slow"])
    await stack.make_builder("c", tags=["linux"])

    got = await stack.data.get(("builders",), filters=[Filter("tags", "contains", ["linux"])])
    anyof = await stack.data.get(("builders",),
                                 filters=[Filter("tags", "contains", ["slow", "fast"])])
    assert [b["name"] for b in got] == ["a", "c"]
    assert [b["name"] for b in anyof] == ["a", "b"]


@pytest_twisted.ensureDeferred
async def test_order_paging_fields_and_total(stack: Stack) -> None:
    ids = await _builds(stack)
    rs = ResultSpec(order=["-results", "buildid"], fields=["buildid", "results"])
    items, total = await stack.data.get_with_total(("builds",), rs)
    # None sorts first ascending, last descending
    assert items == [{"buildid": ids[2], "results": FAILURE},
                     {"buildid": ids[1], "results": WARNINGS},
                     {"buildid": ids[0], "results": SUCCESS},
                     {"buildid": ids[3], "results": SUCCESS},
                     {"buildid": ids[4], "results": None},
                     {"buildid": ids[5], "results": None}]
    assert total == 6

    page, total = await stack.data.get_with_total(
        ("builds",), ResultSpec(order=["-buildid"], limit=2, offset=1))
    assert [b["buildid"] for b in page] == [ids[4], ids[3]]
    assert total == 2  # paged in SQL: Buildbot 4.3 reports the page's size

    mem_page, mem_total = await stack.data.get_with_total(("builds",), ResultSpec(
        filters=[Filter("complete", "eq", [True, False])], order=["-buildid"], limit=2))
    assert [b["buildid"] for b in mem_page] == [ids[5], ids[4]]
    assert mem_total == 6  # paged in memory: the count before paging


@pytest_twisted.ensureDeferred
async def test_paged_request_runs_limit_in_sql(stack: Stack, statements: list[str]) -> None:
    await _builds(stack)
    statements.clear()

    page = await stack.data.get(("builds",), filters=[Filter("results", "ne", [FAILURE])],
                                order=["-buildid"], limit=2)

    assert len(page) == 2
    selects = [s for s in statements if "FROM builds" in s]
    assert selects and all("LIMIT" in s and "WHERE" in s and "ORDER BY" in s
                           for s in selects), selects


@pytest_twisted.ensureDeferred
async def test_unselected_fields_are_dropped_on_single_items(stack: Stack) -> None:
    b = await stack.make_build()
    got = await stack.data.get(("builds", b.id), fields=["buildid", "number"])
    assert got == {"buildid": b.id, "number": 1}
