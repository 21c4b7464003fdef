"""`buildbot.pbmanager`: the PB port manager, at the path the reference exposes it."""

from buildbot.worker.protocols.manager.base import Registration
from buildbot.worker.protocols.manager.pb import PBManager

__all__ = ["PBManager", "Registration"]
