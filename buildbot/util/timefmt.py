"""Human-readable durations, as Buildbot 4.3 words them in messages and bot replies."""

from __future__ import annotations

import datetime
import math
from collections.abc import Callable

from dateutil.tz import tzutc

# The reference exposes a dateutil `tzutc()` instance; keep the type so comparisons and
# `isinstance` checks in user code behave the same. It compares equal to timezone.utc offsets.
UTC: datetime.tzinfo = tzutc()


def formatInterval(eta: float) -> str:
    """`"1 hrs, 1 mins, 1 secs"`: an hours part only above 3600 s, a minutes part above 60 s."""
    parts = []
    for unit, size in (("hrs", 3600), ("mins", 60)):
        if eta > size:
            count = eta // size
            parts.append(f"{count} {unit}")
            eta -= count * size
    parts.append(f"{eta} secs")
    return ", ".join(parts)


# The scales of `fuzzyInterval`, smallest first: unit, the word for exactly one, how the
# count derives from the counts of smaller scales (each rounded in turn, so thresholds fall
# where Buildbot 4.3's do), the count from which the next scale is used, and the count from
# which the number is rounded to tens.
_FUZZY_SCALES: tuple[tuple[str, str, Callable[[dict[str, float]], float], float, float], ...] = (
    ("seconds", "a moment", lambda c: c["seconds"], 55, 20),
    ("minutes", "a minute", lambda c: round(c["seconds"] / 60.0), 55, 20),
    ("hours", "an hour", lambda c: round(c["minutes"] / 60.0), 24, math.inf),
    ("days", "a day", lambda c: (c["hours"] + 6) // 24, 30, math.inf),
    ("months", "a month", lambda c: int((c["days"] + 10) / 30.5), 12, math.inf),
    ("years", "a year", lambda c: round(c["days"] / 365.25), math.inf, math.inf),
)


def fuzzyInterval(seconds: int) -> str:
    """A rough duration in words: "a moment", "15 seconds", "40 seconds", "a minute",
    "3 hours", "2 days", "a month", "5 years" (Buildbot 4.3's wording and thresholds)."""
    if seconds <= 1:
        return "a moment"
    counts: dict[str, float] = {"seconds": seconds}
    for unit, one, derive, next_scale_from, tens_from in _FUZZY_SCALES:
        count = counts[unit] = derive(counts)
        if count == 1:
            return one
        if count < next_scale_from:
            shown = round(count / 10.0) * 10 if count >= tens_from else count
            return f"{shown} {unit}"
    raise AssertionError("the last scale has no upper bound")


def human_readable_delta(start: float, end: float) -> str:
    """`"1 days, 1 hours, 1 minutes, 1 seconds"` for end - start; "super fast" under a second."""
    left = int(end - start)
    pieces = []
    for unit, size in (("days", 86400), ("hours", 3600), ("minutes", 60), ("seconds", 1)):
        count, left = divmod(left, size)
        if count:
            pieces.append(f"{count} {unit}")
    return ", ".join(pieces) if pieces else "super fast"
