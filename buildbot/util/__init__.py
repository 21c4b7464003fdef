"""Small helpers with no dependency on the rest of the project.

The names below are the reference's `buildbot.util` namespace, which plugins and master.cfg
files import (`bytes2unicode`, `ComparableMixin`, `giturlparse`, `flatten`, ...).
"""

from __future__ import annotations

from buildbot.util._notifier import Notifier
from buildbot.util.comparable import ComparableMixin
from buildbot.util.giturlparse import giturlparse
from buildbot.util.misc import (
    ascii2unicode,
    asyncSleep,
    bytes2unicode,
    check_functional_environment,
    datetime2epoch,
    deferredLocked,
    epoch2datetime,
    in_reactor,
    now,
    unicode2bytes,
)
from buildbot.util.ssfilter import NotABranch
from buildbot.util.text import (
    badchars_map,
    command_to_string,
    join_list,
    naturalSort,
    none_or_str,
    rewrap,
    safeTranslate,
    string2boolean,
    stripUrlPassword,
)
from buildbot.util.timefmt import UTC, formatInterval, fuzzyInterval, human_readable_delta
from buildbot.util.values import (
    dictionary_merge,
    diffSets,
    flatten,
    flattened_iterator,
    makeList,
    toJson,
)

__all__ = [
    "UTC",
    "ComparableMixin",
    "NotABranch",
    "Notifier",
    "ascii2unicode",
    "asyncSleep",
    "badchars_map",
    "bytes2unicode",
    "check_functional_environment",
    "command_to_string",
    "datetime2epoch",
    "deferredLocked",
    "dictionary_merge",
    "diffSets",
    "epoch2datetime",
    "flatten",
    "flattened_iterator",
    "formatInterval",
    "fuzzyInterval",
    "giturlparse",
    "human_readable_delta",
    "in_reactor",
    "join_list",
    "makeList",
    "naturalSort",
    "none_or_str",
    "now",
    "rewrap",
    "safeTranslate",
    "string2boolean",
    "stripUrlPassword",
    "toJson",
    "unicode2bytes",
]
