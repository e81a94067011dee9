"""Faults and limits (issue 11): the poll's in-progress marks, and one current version per file name.

``mail_attempt`` holds a mark per mail whose processing began and did not end (poison-mail
quarantine). ``uq_assignment_current`` is a partial unique index: at most one current version per
(indicator, section, name key). Databases written before it may hold two current versions of one
name (two pollers recording re-sends at once); the newest stays current, as a single poller would
have left it.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "mail_attempt",
        sa.Column("folder", sa.String(length=255), nullable=False),
        sa.Column("uidvalidity", sa.BigInteger(), nullable=False),
        sa.Column("uid", sa.BigInteger(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("owner", sa.String(length=255), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("folder", "uidvalidity", "uid", name="pk_mail_attempt"),
    )
    # Older duplicates of a current version become replaced versions (the newest row wins).
    op.execute(
        """
        UPDATE assignment SET is_current = false
        WHERE is_current AND EXISTS (
            SELECT 1 FROM assignment AS newer
            WHERE newer.is_current
              AND newer.indicator_id = assignment.indicator_id
              AND newer.section = assignment.section
              AND newer.name_key = assignment.name_key
              AND newer.id > assignment.id
        )
        """
    )
    op.create_index(
        "uq_assignment_current",
        "assignment",
        ["indicator_id", "section", "name_key"],
        unique=True,
        sqlite_where=sa.text("is_current"),
        postgresql_where=sa.text("is_current"),
    )


def downgrade() -> None:
    op.drop_index("uq_assignment_current", table_name="assignment")
    op.drop_table("mail_attempt")
