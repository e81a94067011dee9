"""Migration 0003 on a database with mail in it: keys gain the sender, outbox keys follow, and back."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from sqlalchemy import Connection, Engine, text

from db.session import alembic_config, make_engine, upgrade

NOW = datetime(2021, 10, 20, 9, 0, tzinfo=UTC)

MAILS = [
    # (id, dedupe_key, from_addr)
    (1, "<a1@example.com>", "zhidui@example.com"),
    (2, "<a1@example.com>#sha256:" + "b" * 64, "Fwk@Example.com"),  # a reused Message-ID, other content
    (3, "sha256:" + "c" * 64, "csk@example.com"),  # no Message-ID: the key has no sender part
    (4, "<cmd@example.com>", "coordinator@example.com"),
]
OUTBOX = [
    (1, "receipt:<a1@example.com>"),
    (2, "receipt:<a1@example.com>#sha256:" + "b" * 64),
    (3, "receipt:sha256:" + "c" * 64),
    (4, "command:<cmd@example.com>"),
    (5, "command:<cmd@example.com>:status"),
    (6, "digest:2021-10-20"),
]


def _fill(conn: Connection) -> None:
    for row_id, key, sender in MAILS:
        conn.execute(
            text(
                "INSERT INTO mail (id, dedupe_key, message_id, raw_sha256, raw_path, from_addr, from_name, subject,"
                " received_at, kind, status, processed_at) VALUES (:id, :key, NULL, :sha, 'raw/x.eml', :sender, '',"
                " '', :now, 'submission', 'recorded', :now)"
            ),
            {"id": row_id, "key": key, "sha": f"{row_id:064d}", "sender": sender, "now": NOW},
        )
    for row_id, key in OUTBOX:
        conn.execute(
            text(
                "INSERT INTO outbox (id, kind, dedupe_key, message_id, recipients, subject, raw, status, attempts,"
                " next_attempt_at, created_at) VALUES (:id, 'receipt', :key, :mid, '[]', '', :raw, 'sent', 1,"
                " :now, :now)"
            ),
            {"id": row_id, "key": key, "mid": f"<{row_id}@intake>", "raw": b"x", "now": NOW},
        )


def _keys(engine: Engine, table: str) -> list[str]:
    with engine.connect() as c:
        return [r[0] for r in c.execute(text(f"SELECT dedupe_key FROM {table} ORDER BY id"))]


def test_existing_keys_gain_their_sender_and_lose_it_on_downgrade(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        upgrade(engine, "0002")
        with engine.begin() as connection:
            _fill(connection)
        upgrade(engine)
        assert _keys(engine, "mail") == [
            "<a1@example.com>#from:zhidui@example.com",
            "<a1@example.com>#from:fwk@example.com#sha256:" + "b" * 64,
            "sha256:" + "c" * 64,
            "<cmd@example.com>#from:coordinator@example.com",
        ]
        assert _keys(engine, "outbox") == [
            "receipt:<a1@example.com>#from:zhidui@example.com",
            "receipt:<a1@example.com>#from:fwk@example.com#sha256:" + "b" * 64,
            "receipt:sha256:" + "c" * 64,
            "command:<cmd@example.com>#from:coordinator@example.com",
            "command:<cmd@example.com>#from:coordinator@example.com:status",
            "digest:2021-10-20",
        ]
        upgrade(engine)  # at head already: nothing is rewritten twice
        assert _keys(engine, "mail")[0] == "<a1@example.com>#from:zhidui@example.com"

        with engine.begin() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.downgrade(config, "0002")
        assert _keys(engine, "mail") == [key for _, key, _ in MAILS]
        assert _keys(engine, "outbox") == [key for _, key in OUTBOX]
    finally:
        engine.dispose()
