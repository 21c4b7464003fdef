"""Exceptions users' code catches by their 4.3 path `buildbot.errors`."""

from __future__ import annotations

from buildbot.plugins.db import PluginDBError

__all__ = ["CaptureCallbackError", "PluginDBError"]


class CaptureCallbackError(Exception):
    """A statistics capture's callback failed (or a property it reads is missing)."""
