"""Source checkout steps (re-exports the base class)."""

from buildbot.steps.source.base import Source

__all__ = ["Source"]
