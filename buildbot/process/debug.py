"""`DebugServices`: in Buildbot 4.3, the service that runs c['manhole']."""

from __future__ import annotations

from buildbot.util.internal import internal_class

DebugServices = internal_class(
    __name__, "DebugServices", "the master starts c['manhole'] itself (see buildbot.manhole)")
