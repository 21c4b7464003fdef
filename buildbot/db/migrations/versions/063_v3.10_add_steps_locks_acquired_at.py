"""When a step got its locks; existing steps are taken to have had them at start.

Revision ID: 063
Revises: 062
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "063"
down_revision = "062"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("steps") as batch:
        batch.add_column(sa.Column("locks_acquired_at", sa.Integer, nullable=True))
    steps = sa.table("steps", sa.column("started_at", sa.Integer),
                     sa.column("locks_acquired_at", sa.Integer))
    op.execute(steps.update().values(locks_acquired_at=steps.c.started_at))


def downgrade() -> None:
    with op.batch_alter_table("steps") as batch:
        batch.drop_column("locks_acquired_at")
