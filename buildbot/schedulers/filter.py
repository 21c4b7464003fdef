"""`ChangeFilter` at its old import path (`buildbot.schedulers.filter`)."""

from buildbot.changes.filter import ChangeFilter

__all__ = ["ChangeFilter"]
