"""Robocopy.return_flags (4.3's class attribute) decides the result of an exit code."""

from __future__ import annotations

from buildbot.process.results import EXCEPTION, FAILURE, SUCCESS, WARNINGS
from buildbot.steps.mswin import Robocopy, robocopy_result


def test_return_flags_are_4_3s_table() -> None:
    assert Robocopy.return_flags == {FAILURE: [8, 16], WARNINGS: [2, 4], SUCCESS: [0, 1]}


def test_a_subclass_table_changes_the_results() -> None:
    # e.g. a project treating extra files (bit 2) as a failure
    strict = {FAILURE: [2, 8, 16], WARNINGS: [4], SUCCESS: [0, 1]}
    assert [robocopy_result(rc, strict) for rc in (1, 2, 4, 6, 32)] == [
        SUCCESS, FAILURE, WARNINGS, FAILURE, EXCEPTION]
