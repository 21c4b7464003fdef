"""`CacheManager` at the reference's import path (`buildbot.process.cache`)."""

from buildbot.process.caches import CacheManager

__all__ = ["CacheManager"]
