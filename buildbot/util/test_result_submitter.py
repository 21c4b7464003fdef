"""Collects a step's test results and writes them to the data API in batches.

A step opens one submitter per result set (`BuildStep.addTestResultSet`), adds results as its
log observers find them (synchronously, from observer callbacks) and the step machinery calls
`finish()` when the step ends: the pending batch is written, then the set is completed with
its pass/fail counts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twisted.internet import defer
from twisted.logger import Logger

log = Logger()

# (category, value_unit) pairs whose values say pass or fail; code issues only ever fail.
_COUNTERS: dict[str, Callable[[str], bool | None]] = {
    "pass_only": lambda value: True,
    "fail_only": lambda value: False,
    "code_issue": lambda value: False,
}


def _pass_fail_value(value: str) -> bool | None:
    try:
        return bool(int(value))
    except ValueError:
        log.error("test result value {value!r} is not a pass/fail boolean", value=value)
        return None


class TestResultSubmitter:
    """Batches results of one test result set (the reference's
    `buildbot.util.test_result_submitter.TestResultSubmitter`)."""

    __test__ = False  # not a pytest class, despite the name

    def __init__(self, batch_n: int = 3000) -> None:
        self._batch_n = batch_n
        self._batch: list[dict[str, Any]] = []
        self._queue: list[list[dict[str, Any]]] = []
        self._writer: defer.Deferred[None] | None = None
        self._updates: Any = None
        self._builderid: int | None = None
        self._setid: int | None = None
        self._verdict: Callable[[str], bool | None] | None = None
        self._passed: int | None = None
        self._failed: int | None = None

    async def setup(self, step: Any, description: str, category: str, value_unit: str) -> None:
        """Create the set for `step` (which has started, so it has a step id)."""
        builderid = step.build.builder.builderid
        await self.setup_by_ids(step.master, builderid, step.build.buildid, step.stepid,
                                description, category, value_unit)

    async def setup_by_ids(self, master: Any, builderid: int, buildid: int, stepid: int,
                           description: str, category: str, value_unit: str) -> None:
        self._updates = master.data.updates
        self._builderid = builderid
        if category == "pass_fail" and value_unit == "boolean":
            self._verdict = _pass_fail_value
        else:
            self._verdict = _COUNTERS.get(category)
        if self._verdict is not None:
            self._passed = self._failed = 0
        self._setid = await self._updates.addTestResultSet(
            builderid, buildid, stepid, description, category, value_unit)

    def get_test_result_set_id(self) -> int | None:
        return self._setid

    def add_test_result(self, value: str, test_name: str | None = None,
                        test_code_path: str | None = None, line: int | None = None,
                        duration_ns: int | None = None) -> None:
        """Queue one result; TypeError names an argument of the wrong type."""
        result: dict[str, Any] = {"value": value}
        for key, given, kind in (("value", value, str), ("test_name", test_name, str),
                                 ("test_code_path", test_code_path, str),
                                 ("line", line, int), ("duration_ns", duration_ns, int)):
            if given is None:
                continue
            if not isinstance(given, kind):
                article = "an integer" if kind is int else "a string"
                raise TypeError(f"{key} must be {article}")
            result[key] = given
        if self._verdict is not None:
            verdict = self._verdict(value)
            if verdict is True:
                self._passed = (self._passed or 0) + 1
            elif verdict is False:
                self._failed = (self._failed or 0) + 1
        self._batch.append(result)
        if len(self._batch) >= self._batch_n:
            self._flush()

    def _flush(self) -> None:
        if self._batch:
            self._queue.append(self._batch)
            self._batch = []
        if self._queue and self._writer is None:
            self._writer = defer.ensureDeferred(self._write_queue())

    async def _write_queue(self) -> None:
        try:
            while self._queue:
                await self._updates.addTestResults(self._builderid, self._setid,
                                                   self._queue.pop(0))
        finally:
            self._writer = None

    async def finish(self) -> None:
        """Write what is pending and mark the set complete."""
        self._flush()
        while self._writer is not None:
            await self._writer
        await self._updates.completeTestResultSet(
            self._setid, tests_passed=self._passed, tests_failed=self._failed)
