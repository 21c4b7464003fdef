"""Kept for imports written for Buildbot 4.3 (`buildbot.process.base`, which holds nothing)."""
