"""Internals of Buildbot 4.3 (the try scheduler's jobdir protocol parses netstrings internally);
the names import, using them raises.

See docs/differences.md.
"""

from buildbot.util.internal import internal_class

_WHY = "the try scheduler's jobdir protocol parses netstrings internally"
NetstringParser = internal_class(__name__, "NetstringParser", _WHY)
NullAddress = internal_class(__name__, "NullAddress", _WHY)
NullTransport = internal_class(__name__, "NullTransport", _WHY)
