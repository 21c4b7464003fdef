"""Internals of Buildbot 4.3 (local processes are run with buildbot.util.runprocess);
the names import, using them raises.

See docs/differences.md.
"""

from buildbot.util.internal import internal_class

_WHY = "local processes are run with buildbot.util.runprocess"
LineBuffer = internal_class(__name__, "LineBuffer", _WHY)
LineProcessProtocol = internal_class(__name__, "LineProcessProtocol", _WHY)
