"""Seconds a build spent waiting for locks (existing builds: 0).

Revision ID: 066
Revises: 065
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "066"
down_revision = "065"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("builds") as batch:
        batch.add_column(sa.Column("locks_duration_s", sa.Integer, nullable=True))
    builds = sa.table("builds", sa.column("locks_duration_s", sa.Integer))
    op.execute(builds.update().values(locks_duration_s=0))
    with op.batch_alter_table("builds") as batch:
        batch.alter_column("locks_duration_s", existing_type=sa.Integer, nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("builds") as batch:
        batch.drop_column("locks_duration_s")
