"""Format and rendered HTML of project descriptions.

Revision ID: 062
Revises: 061
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "062"
down_revision = "061"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("projects") as batch:
        batch.add_column(sa.Column("description_format", sa.Text, nullable=True))
        batch.add_column(sa.Column("description_html", sa.Text, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("projects") as batch:
        batch.drop_column("description_html")
        batch.drop_column("description_format")
