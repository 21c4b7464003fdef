"""Repository URLs split into host, owner and name for the forge reporters: the parser of
`buildbot.util.giturlparse`, re-exported where the reporters import it."""

from __future__ import annotations

from buildbot.util.giturlparse import GitUrl, giturlparse

__all__ = ["GitUrl", "giturlparse"]
