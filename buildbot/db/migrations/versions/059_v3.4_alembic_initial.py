"""Baseline: the schema of the last sqlalchemy-migrate version (58). Nothing to do.

Revision ID: 059
Revises: (none)
"""

from __future__ import annotations

revision = "059"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing: a version-58 database already has this schema."""


def downgrade() -> None:
    """Nothing below the baseline."""
