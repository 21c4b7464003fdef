"""Small helpers with no dependency on the rest of the project.

The names below are imported by plugins written for Buildbot (e.g. `bytes2unicode`).
"""

from __future__ import annotations

from buildbot.util.misc import (
    ascii2unicode,
    bytes2unicode,
    datetime2epoch,
    epoch2datetime,
    flatten,
    now,
    unicode2bytes,
)
from buildbot.util.ssfilter import NotABranch

__all__ = [
    "NotABranch",
    "ascii2unicode",
    "bytes2unicode",
    "datetime2epoch",
    "epoch2datetime",
    "flatten",
    "now",
    "unicode2bytes",
]
