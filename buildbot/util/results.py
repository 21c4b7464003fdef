"""Build result codes and how they combine.

The numbers, names and worst-status order are part of the outside surface (database, REST,
reporters); `buildbot.process.results` re-exports everything here.
"""

from __future__ import annotations

SUCCESS = 0
WARNINGS = 1
FAILURE = 2
SKIPPED = 3
EXCEPTION = 4
RETRY = 5
CANCELLED = 6

Results = ["success", "warnings", "failure", "skipped", "exception", "retry", "cancelled"]

# Severity rank of each code: SKIPPED < SUCCESS < WARNINGS < FAILURE < EXCEPTION < RETRY < CANCELLED
ALL_RESULTS = [SUCCESS, WARNINGS, FAILURE, SKIPPED, EXCEPTION, RETRY, CANCELLED]
# Plural names indexed by result code, used when counting results in summaries.
MultipleResults = ["successes", "warnings", "failures", "skipped", "exceptions", "retries",
                   "cancelled"]
_RANK = {SKIPPED: 0, SUCCESS: 1, WARNINGS: 2, FAILURE: 3, EXCEPTION: 4, RETRY: 5, CANCELLED: 6}


def statusToString(status: int | None, count: int = 0) -> str:
    """Name of a result code ('not finished' for None, 'Invalid status' if unknown)."""
    if status is None:
        return "not finished"
    if status < 0 or status >= len(Results):
        return "Invalid status"
    name = Results[status]
    if count > 1:
        return {"success": "successes", "failure": "failures", "exception": "exceptions",
                "retry": "retries"}.get(name, name)
    return name


def worst_status(a: int | None, b: int | None) -> int | None:
    """The more severe of two result codes; unknown codes and None are ignored."""
    ra, rb = _RANK.get(a) if a is not None else None, _RANK.get(b) if b is not None else None
    if ra is None:
        return b if rb is not None else None
    if rb is None:
        return a
    return a if ra >= rb else b


def computeResultAndTermination(obj: object, result: int, previousResult: int) -> tuple[int, bool]:
    """Merge a step result into a build result following the step's flunk/warn/halt flags.

    Returns (new build result, whether the build should terminate).
    """
    possible_overall = result
    terminate = False
    if result == FAILURE:
        if not getattr(obj, "flunkOnFailure", True):
            possible_overall = WARNINGS if getattr(obj, "warnOnFailure", False) else SUCCESS
        if getattr(obj, "haltOnFailure", False):
            terminate = True
    elif result == WARNINGS:
        if getattr(obj, "flunkOnWarnings", False):
            possible_overall = FAILURE
        elif not getattr(obj, "warnOnWarnings", False):
            possible_overall = SUCCESS
    elif result in (EXCEPTION, RETRY, CANCELLED):
        terminate = True
    merged = worst_status(previousResult, possible_overall)
    return (previousResult if merged is None else merged), terminate


class ResultComputingConfigMixin:
    """Flags (as on steps) that decide how a result contributes to its parent's result."""

    haltOnFailure = False
    flunkOnWarnings = False
    flunkOnFailure = True
    warnOnWarnings = False
    warnOnFailure = False
    resultConfig = ["haltOnFailure", "flunkOnWarnings", "flunkOnFailure", "warnOnWarnings",
                    "warnOnFailure"]


# Reference spelling kept for plugins that import it.
worst = worst_status
