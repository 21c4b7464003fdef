"""The build a buildset rebuilds.

Revision ID: 065
Revises: 064
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "065"
down_revision = "064"
branch_labels = None
depends_on = None


def _has_foreign_key(table: str, name: str) -> bool:
    return any(fk.get("name") == name
               for fk in sa.inspect(op.get_bind()).get_foreign_keys(table))


def upgrade() -> None:
    with op.batch_alter_table("buildsets") as batch:
        batch.add_column(sa.Column("rebuilt_buildid", sa.Integer, nullable=True))
        batch.create_foreign_key("rebuilt_buildid", "builds", ["rebuilt_buildid"], ["id"],
                                 ondelete="SET NULL")


def downgrade() -> None:
    with op.batch_alter_table("buildsets") as batch:
        if _has_foreign_key("buildsets", "rebuilt_buildid"):  # MyISAM tables keep no foreign keys
            batch.drop_constraint("rebuilt_buildid", type_="foreignkey")
        batch.drop_column("rebuilt_buildid")
