"""Tests of buildbot.worker (protocols, transfers)."""
