"""Initial schema: every table of docs/ARCHITECTURE.md "Database schema".

Revision ID: 0001
Revises:
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "mail",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dedupe_key", sa.String(), nullable=False),
        sa.Column("message_id", sa.String(), nullable=True),
        sa.Column("raw_sha256", sa.String(length=64), nullable=False),
        sa.Column("raw_path", sa.String(), nullable=False),
        sa.Column("folder", sa.String(length=255), nullable=True),
        sa.Column("uidvalidity", sa.BigInteger(), nullable=True),
        sa.Column("uid", sa.BigInteger(), nullable=True),
        sa.Column("from_addr", sa.String(), nullable=False),
        sa.Column("from_name", sa.String(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("subject_raw", sa.LargeBinary(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("section", sa.String(length=255), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_mail"),
        sa.UniqueConstraint("dedupe_key", name="uq_mail_dedupe_key"),
    )
    op.create_index("ix_mail_message_id", "mail", ["message_id"])

    op.create_table(
        "mailbox_cursor",
        sa.Column("folder", sa.String(length=255), nullable=False),
        sa.Column("uidvalidity", sa.BigInteger(), nullable=False),
        sa.Column("last_uid", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("folder", name="pk_mailbox_cursor"),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("dedupe_key", sa.String(), nullable=False),
        sa.Column("message_id", sa.String(), nullable=False),
        sa.Column("recipients", sa.JSON(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
        sa.UniqueConstraint("dedupe_key", name="uq_outbox_dedupe_key"),
    )
    op.create_index("ix_outbox_status_next_attempt_at", "outbox", ["status", "next_attempt_at"])

    op.create_table(
        "stored_file",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("path", sa.String(), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sha256", name="pk_stored_file"),
    )
    op.create_table(
        "attachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mail_id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(), nullable=False),
        sa.Column("filename_raw", sa.LargeBinary(), nullable=True),
        sa.Column("origin", sa.String(length=32), nullable=False),
        sa.Column("container", sa.String(), nullable=True),
        sa.Column("content_type", sa.String(length=255), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["mail_id"], ["mail.id"], name="fk_attachment_mail_id_mail"),
        sa.ForeignKeyConstraint(["sha256"], ["stored_file.sha256"], name="fk_attachment_sha256_stored_file"),
        sa.PrimaryKeyConstraint("id", name="pk_attachment"),
    )
    op.create_index("ix_attachment_mail_id", "attachment", ["mail_id"])
    op.create_index("ix_attachment_sha256", "attachment", ["sha256"])

    op.create_table(
        "cloud_file",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mail_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("size_text", sa.String(length=64), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["mail_id"], ["mail.id"], name="fk_cloud_file_mail_id_mail"),
        sa.PrimaryKeyConstraint("id", name="pk_cloud_file"),
    )
    op.create_index("ix_cloud_file_mail_id", "cloud_file", ["mail_id"])
    op.create_index("ix_cloud_file_status", "cloud_file", ["status"])

    op.create_table(
        "declaration",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mail_id", sa.Integer(), nullable=True),
        sa.Column("indicator_id", sa.String(length=64), nullable=False),
        sa.Column("section", sa.String(length=255), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["mail_id"], ["mail.id"], name="fk_declaration_mail_id_mail"),
        sa.PrimaryKeyConstraint("id", name="pk_declaration"),
        sa.UniqueConstraint("indicator_id", "section", name="uq_declaration_indicator_id_section"),
    )
    op.create_table(
        "assignment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("attachment_id", sa.Integer(), nullable=False),
        sa.Column("indicator_id", sa.String(length=64), nullable=False),
        sa.Column("section", sa.String(length=255), nullable=False),
        sa.Column("name_key", sa.String(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("is_current", sa.Boolean(), nullable=False),
        sa.Column("matched_by", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["attachment_id"], ["attachment.id"], name="fk_assignment_attachment_id_attachment"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_assignment"),
        sa.UniqueConstraint("attachment_id", "indicator_id", name="uq_assignment_attachment_id_indicator_id"),
    )
    op.create_index("ix_assignment_indicator_id_section", "assignment", ["indicator_id", "section"])

    op.create_table(
        "problem",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mail_id", sa.Integer(), nullable=False),
        sa.Column("attachment_id", sa.Integer(), nullable=True),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["attachment_id"], ["attachment.id"], name="fk_problem_attachment_id_attachment"
        ),
        sa.ForeignKeyConstraint(["mail_id"], ["mail.id"], name="fk_problem_mail_id_mail"),
        sa.PrimaryKeyConstraint("id", name="pk_problem"),
    )
    op.create_index("ix_problem_mail_id", "problem", ["mail_id"])

    op.create_table(
        "review_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mail_id", sa.Integer(), nullable=False),
        sa.Column("attachment_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("candidates", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["attachment_id"], ["attachment.id"], name="fk_review_item_attachment_id_attachment"
        ),
        sa.ForeignKeyConstraint(["mail_id"], ["mail.id"], name="fk_review_item_mail_id_mail"),
        sa.PrimaryKeyConstraint("id", name="pk_review_item"),
    )
    op.create_index("ix_review_item_mail_id", "review_item", ["mail_id"])
    op.create_index("ix_review_item_status", "review_item", ["status"])


def downgrade() -> None:
    op.drop_index("ix_review_item_status", table_name="review_item")
    op.drop_index("ix_review_item_mail_id", table_name="review_item")

    op.drop_table("review_item")
    op.drop_index("ix_problem_mail_id", table_name="problem")

    op.drop_table("problem")
    op.drop_index("ix_assignment_indicator_id_section", table_name="assignment")

    op.drop_table("assignment")
    op.drop_table("declaration")
    op.drop_index("ix_cloud_file_status", table_name="cloud_file")
    op.drop_index("ix_cloud_file_mail_id", table_name="cloud_file")

    op.drop_table("cloud_file")
    op.drop_index("ix_attachment_sha256", table_name="attachment")
    op.drop_index("ix_attachment_mail_id", table_name="attachment")

    op.drop_table("attachment")
    op.drop_table("stored_file")
    op.drop_index("ix_outbox_status_next_attempt_at", table_name="outbox")

    op.drop_table("outbox")
    op.drop_table("mailbox_cursor")
    op.drop_index("ix_mail_message_id", table_name="mail")

    op.drop_table("mail")
