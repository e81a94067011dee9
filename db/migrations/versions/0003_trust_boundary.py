"""Trust boundary (issue 10): pending mailed commands, and mail deduplicated by Message-ID *and* sender.

- ``pending_command``: a command that could not be verified waits here for the coordinator's reply
  quoting its one-time code.
- ``mail.dedupe_key`` becomes ``<Message-ID>#from:<sender>`` (``#sha256:<raw hash>`` still follows
  when a Message-ID was reused with other content): a stranger who sends first with a section's
  Message-ID no longer swallows the section's mail. Existing keys are rewritten with the ``from_addr``
  recorded for them, and the outbox keys built from them (``receipt:<key>``, ``command:<key>`` and
  ``command:<key>:status``) follow, so replies to old receipts still find their mail. Keys
  ``sha256:<hash>`` (no Message-ID) stay as they are.
- ``ix_mail_raw_sha256``: the poller treats the same raw bytes as the same mail before anything else,
  so a rescan after this upgrade never records an old mail again, even one whose From the new parser
  reads differently (it no longer guesses at malformed headers).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SHA_MARK = "#sha256:"
_FROM_MARK = "#from:"

mail = sa.table("mail", sa.column("id", sa.Integer), sa.column("dedupe_key", sa.String), sa.column("from_addr", sa.String))
outbox = sa.table("outbox", sa.column("id", sa.Integer), sa.column("dedupe_key", sa.String))


def _with_sender(key: str, sender: str) -> str:
    base, mark, raw_hash = key.partition(_SHA_MARK)
    return f"{base}{_FROM_MARK}{sender}" + (f"{_SHA_MARK}{raw_hash}" if mark else "")


def _without_sender(key: str) -> str:
    base, mark, raw_hash = key.partition(_SHA_MARK)
    return base.partition(_FROM_MARK)[0] + (f"{_SHA_MARK}{raw_hash}" if mark else "")


def _outbox_keys(key: str) -> tuple[str, ...]:
    return (f"receipt:{key}", f"command:{key}", f"command:{key}:status")


def _rewrite(forward: bool) -> None:
    connection = op.get_bind()
    rows = connection.execute(sa.select(mail.c.id, mail.c.dedupe_key, mail.c.from_addr)).all()
    for row_id, key, sender in rows:
        if key.startswith("sha256:") or (_FROM_MARK in key) == forward:
            continue
        new = _with_sender(key, (sender or "").strip().lower()) if forward else _without_sender(key)
        connection.execute(sa.update(mail).where(mail.c.id == row_id).values(dedupe_key=new))
        for old_outbox, new_outbox in zip(_outbox_keys(key), _outbox_keys(new), strict=True):
            connection.execute(
                sa.update(outbox).where(outbox.c.dedupe_key == old_outbox).values(dedupe_key=new_outbox)
            )


def upgrade() -> None:
    op.create_table(
        "pending_command",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("mail_id", sa.Integer(), nullable=False),
        sa.Column("scope_mail_id", sa.Integer(), nullable=True),
        sa.Column("commands", sa.Text(), nullable=False),
        sa.Column("sent_to", sa.String(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed_mail_id", sa.Integer(), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["mail_id"], ["mail.id"], name="fk_pending_command_mail_id_mail"),
        sa.ForeignKeyConstraint(["scope_mail_id"], ["mail.id"], name="fk_pending_command_scope_mail_id_mail"),
        sa.ForeignKeyConstraint(
            ["confirmed_mail_id"], ["mail.id"], name="fk_pending_command_confirmed_mail_id_mail"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_pending_command"),
        sa.UniqueConstraint("code", name="uq_pending_command_code"),
    )
    op.create_index("ix_pending_command_mail_id", "pending_command", ["mail_id"])
    op.create_index("ix_mail_raw_sha256", "mail", ["raw_sha256"])
    _rewrite(forward=True)


def downgrade() -> None:
    _rewrite(forward=False)
    op.drop_index("ix_mail_raw_sha256", table_name="mail")
    op.drop_index("ix_pending_command_mail_id", table_name="pending_command")
    op.drop_table("pending_command")
