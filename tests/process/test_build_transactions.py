"""Regression guard: database transactions per build (issue 16 item 3).

Runs real builds of 3 shell steps on a LocalWorker against a real SQLite file and the
in-process mq, and counts every transaction the DB pool runs from the force request until
the buildset is complete. Counts, not time: the count is stable on a loaded machine, and on
SQLite's single writer thread it is what bounds build throughput.

On failure (and with `-s`) it prints the breakdown by caller (the thd function's qualified
name), so whoever raised the count sees at once where the new transactions come from.
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted

from buildbot.db.pool import DbPool, operation_name
from buildbot.plugins import schedulers, steps, util, worker
from buildbot.process.results import SUCCESS
from tests.fixtures.master import running_master, wait_for_message

BUILDS = 3
# What the build path costs today; lower it when you remove more, never raise it silently.
MAX_TRANSACTIONS_PER_BUILD = 20


@contextmanager
def counting_transactions(pool: DbPool) -> Iterator[Counter[str]]:
    """Counts `pool.run` calls (one transaction each) by the name of the function run."""
    seen: Counter[str] = Counter()
    original: Callable[..., Any] = pool.run

    async def run(fn: Callable[..., Any]) -> Any:
        seen[f"{operation_name(fn)}  <- {caller_outside_db()}"] += 1
        return await original(fn)

    pool.run = run  # type: ignore[method-assign]  # instance patch, undone below
    try:
        yield seen
    finally:
        del pool.run


def caller_outside_db() -> str:
    """The nearest code above the db and data layers that led to this transaction (while
    a coroutine runs, its awaiting callers are on the frame stack)."""
    frame = sys._getframe(2)
    while frame is not None:
        path = frame.f_code.co_filename
        if (f"{os.sep}buildbot{os.sep}" in path
                and not any(f"{os.sep}buildbot{os.sep}{layer}{os.sep}" in path
                            for layer in ("db", "data", "util"))):
            return f"{Path(path).stem}.{frame.f_code.co_qualname}"
        frame = frame.f_back
    return "?"


def breakdown(seen: Counter[str], builds: int) -> str:
    lines = [f"{n / builds:6.2f}  {name}" for name, n in seen.most_common()]
    return "\n".join([f"transactions per build: {sum(seen.values()) / builds:.2f}", *lines])


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_three_step_build_stays_within_transaction_budget(tmp_path: Path) -> None:
    cfg = {
        "workers": [worker.LocalWorker("local")],
        "schedulers": [schedulers.ForceScheduler(name="force", builderNames=["b0"])],
        "builders": [util.BuilderConfig(
            name="b0", workernames=["local"],
            factory=util.BuildFactory([steps.ShellCommand(command=["true"], name=f"s{i}")
                                       for i in range(3)]))],
        "db": {"db_url": "sqlite:///state.sqlite"},
    }
    async with running_master(tmp_path, cfg) as master:
        # One build first, outside the count: it warms caches that a long-running master
        # has warm (builder ids, the worker's row), which the budget should not include.
        results = []
        for i in range(BUILDS + 1):
            done = wait_for_message(master, ("buildsets", None, "complete"))
            with counting_transactions(master.db.pool) as seen:
                await master.data.control("force", {"builderNames": ["b0"], "owner": "me"},
                                          ("forceschedulers", "force"))
                _, body = await done
            results.append(body["results"])
            if i == 0:
                total: Counter[str] = Counter()
            else:
                total.update(seen)
    assert results == [SUCCESS] * (BUILDS + 1)
    report = breakdown(total, BUILDS)
    print(report)
    assert sum(total.values()) <= MAX_TRANSACTIONS_PER_BUILD * BUILDS, report
