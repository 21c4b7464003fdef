"""Format and rendered HTML of builder descriptions.

Revision ID: 061
Revises: 060
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "061"
down_revision = "060"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("builders") as batch:
        batch.add_column(sa.Column("description_format", sa.Text, nullable=True))
        batch.add_column(sa.Column("description_html", sa.Text, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("builders") as batch:
        batch.drop_column("description_html")
        batch.drop_column("description_format")
