"""Re-export: the forge reporters split repository URLs with `buildbot.util.giturlparse`,
as Buildbot 4.3's do (same results for the same URLs)."""

from buildbot.util.giturlparse import GitUrl, giturlparse

__all__ = ["GitUrl", "giturlparse"]
