"""Internals of Buildbot 4.3 (database threads are managed by buildbot.db);
the names import, using them raises.

See docs/differences.md.
"""

from buildbot.util.internal import internal_class

_WHY = "database threads are managed by buildbot.db"
ConnectableThreadQueue = internal_class(__name__, "ConnectableThreadQueue", _WHY)
UndoableQueue = internal_class(__name__, "UndoableQueue", _WHY)
