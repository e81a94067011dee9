"""The coordinator's verdicts: acceptance (确认) and return_record (退回).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "acceptance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("indicator_id", sa.String(length=64), nullable=False),
        sa.Column("section", sa.String(length=255), nullable=False),
        sa.Column("mail_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["mail_id"], ["mail.id"], name="fk_acceptance_mail_id_mail"),
        sa.PrimaryKeyConstraint("id", name="pk_acceptance"),
        sa.UniqueConstraint("indicator_id", "section", name="uq_acceptance_indicator_id_section"),
    )
    op.create_table(
        "return_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("indicator_id", sa.String(length=64), nullable=False),
        sa.Column("section", sa.String(length=255), nullable=False),
        sa.Column("attachment_id", sa.Integer(), nullable=True),
        sa.Column("command_mail_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["attachment_id"], ["attachment.id"], name="fk_return_record_attachment_id_attachment"
        ),
        sa.ForeignKeyConstraint(["command_mail_id"], ["mail.id"], name="fk_return_record_command_mail_id_mail"),
        sa.PrimaryKeyConstraint("id", name="pk_return_record"),
    )
    op.create_index("ix_return_record_indicator_id_section", "return_record", ["indicator_id", "section"])


def downgrade() -> None:
    op.drop_index("ix_return_record_indicator_id_section", table_name="return_record")
    op.drop_table("return_record")
    op.drop_table("acceptance")
