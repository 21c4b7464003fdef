"""Codebases of projects, their commits and branches.

Revision ID: 067
Revises: 066
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "067"
down_revision = "066"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "codebases",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("projectid", sa.Integer, sa.ForeignKey("projects.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("name_hash", sa.String(40), nullable=False),
        sa.Column("slug", sa.String(50), nullable=False),
        mysql_DEFAULT_CHARSET="utf8",
    )
    op.create_index("codebases_projects_name_hash", "codebases", ["projectid", "name_hash"],
                    unique=True)
    op.create_table(
        "codebase_commits",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("codebaseid", sa.Integer, sa.ForeignKey("codebases.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("author", sa.String(255), nullable=False),
        sa.Column("committer", sa.String(255), nullable=True),
        sa.Column("comments", sa.Text, nullable=False),
        sa.Column("when_timestamp", sa.Integer, nullable=False),
        sa.Column("revision", sa.String(70), nullable=False),
        sa.Column("parent_commitid", sa.Integer,
                  sa.ForeignKey("codebase_commits.id", ondelete="SET NULL"), nullable=True),
        mysql_DEFAULT_CHARSET="utf8",
    )
    op.create_index("codebase_commits_unique", "codebase_commits", ["codebaseid", "revision"],
                    unique=True)
    op.create_table(
        "codebase_branches",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("codebaseid", sa.Integer, sa.ForeignKey("codebases.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("name_hash", sa.String(40), nullable=False),
        sa.Column("commitid", sa.Integer,
                  sa.ForeignKey("codebase_commits.id", ondelete="SET NULL"), nullable=True),
        sa.Column("last_timestamp", sa.Integer, nullable=False),
        mysql_DEFAULT_CHARSET="utf8",
    )
    op.create_index("codebase_branches_unique", "codebase_branches", ["codebaseid", "name_hash"],
                    unique=True)


def downgrade() -> None:
    op.drop_table("codebase_branches")
    op.drop_table("codebase_commits")
    op.drop_table("codebases")
