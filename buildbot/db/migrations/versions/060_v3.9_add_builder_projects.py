"""Projects, and the project a builder belongs to.

Revision ID: 060
Revises: 059
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "060"
down_revision = "059"
branch_labels = None
depends_on = None


def _has_foreign_key(table: str, name: str) -> bool:
    return any(fk.get("name") == name
               for fk in sa.inspect(op.get_bind()).get_foreign_keys(table))


def upgrade() -> None:
    op.create_table(
        "projects",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("name_hash", sa.String(40), nullable=False),
        sa.Column("slug", sa.String(50), nullable=False),
        sa.Column("description", sa.Text, nullable=True),
        mysql_DEFAULT_CHARSET="utf8",
    )
    with op.batch_alter_table("builders") as batch:
        batch.add_column(sa.Column("projectid", sa.Integer, nullable=True))
        batch.create_foreign_key("fk_builders_projectid", "projects", ["projectid"], ["id"],
                                 ondelete="SET NULL")
    op.create_index("builders_projectid", "builders", ["projectid"])
    op.create_index("projects_name_hash", "projects", ["name_hash"], unique=True)


def downgrade() -> None:
    op.drop_index("builders_projectid", "builders")
    with op.batch_alter_table("builders") as batch:
        if _has_foreign_key("builders", "fk_builders_projectid"):  # MyISAM tables keep no foreign keys
            batch.drop_constraint("fk_builders_projectid", type_="foreignkey")
        batch.drop_column("projectid")
    op.drop_index("projects_name_hash", "projects")
    op.drop_table("projects")
