"""Tests of the database layer (`buildbot/db`)."""
