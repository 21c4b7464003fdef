"""Alembic migrations of the Buildbot schema (revision ids as in Buildbot 4.3: 059 ... 067)."""
