"""Internals of Buildbot 4.3 (REST paths are routed by buildbot.data and buildbot.www);
the names import, using them raises.

See docs/differences.md.
"""

from buildbot.util.internal import internal_class, internal_function

_WHY = "REST paths are routed by buildbot.data and buildbot.www"
Matcher = internal_class(__name__, "Matcher", _WHY)
ident = internal_function(__name__, "ident", _WHY)
