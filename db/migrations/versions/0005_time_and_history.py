"""Truthful time and history (issue 13): cloud files to the end, the digest's watermark, cleared flags.

- ``cloud_file``: ``indicators`` (what the mail's subject and the shared name give), ``attachment_id``
  (the file the coordinator fetched by hand), ``closed_at`` (fetched or dismissed: the link is done),
  ``expiry_noted_at`` (when a digest told the coordinator the link had expired unfetched, so it says
  so once, not every day). ``status`` gains "dismissed".
- ``outbox.mail_watermark``: the highest ``mail.id`` a digest covered; the next digest lists mail above
  it (ids, not clocks: two overlapping runs neither drop nor repeat a mail).
- ``problem.cleared_at``: the coordinator checked a ``possibly_classified`` file and cleared the flag.

Revision ID: 0005
Revises: 0004 (the action log)
Create Date: 2026-12-10
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cloud_file") as batch:
        batch.add_column(sa.Column("indicators", sa.JSON(), nullable=False, server_default="[]"))
        batch.add_column(sa.Column("attachment_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("expiry_noted_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_foreign_key(
            "fk_cloud_file_attachment_id_attachment", "attachment", ["attachment_id"], ["id"]
        )
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("mail_watermark", sa.Integer(), nullable=True))
    with op.batch_alter_table("problem") as batch:
        batch.add_column(sa.Column("cleared_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("problem") as batch:
        batch.drop_column("cleared_at")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("mail_watermark")
    with op.batch_alter_table("cloud_file") as batch:
        batch.drop_constraint("fk_cloud_file_attachment_id_attachment", type_="foreignkey")
        batch.drop_column("expiry_noted_at")
        batch.drop_column("closed_at")
        batch.drop_column("attachment_id")
        batch.drop_column("indicators")
