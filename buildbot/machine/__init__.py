"""Machines (`c['machines']`): hosts that one or more workers run on."""

from buildbot.machine.base import Machine

__all__ = ["Machine"]
