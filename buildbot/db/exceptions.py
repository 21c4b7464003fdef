"""Buildbot's import path for `DatabaseNotReadyError` (plugins and scripts import it here)."""

from __future__ import annotations

from buildbot.db.errors import DatabaseNotReadyError

__all__ = ["DatabaseNotReadyError"]
