"""What the poll's helper processes import: their fork server preloads it before the first mail can be
read, so the reading code stays free of the database layer (SQLAlchemy alone took a third of a
second there)."""

from __future__ import annotations

import subprocess
import sys


def test_the_reading_code_imports_no_database_layer() -> None:
    code = (
        "import sys, bot.ingest.prepare, bot.ingest.downloader, bot.ingest.workers; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in {'sqlalchemy', 'alembic', 'psycopg'} "
        "or m in {'db.models', 'db.queries', 'db.errors', 'db.hygiene'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout


def test_the_database_errors_are_still_told_apart_where_a_database_is_used() -> None:
    # faults imports db.errors on first use: a database fault still stops the poll with its message.
    from sqlalchemy.exc import OperationalError

    from bot.ingest.faults import describe, is_transient, transient_message

    exc = OperationalError("INSERT", {}, Exception("database is locked"))
    assert is_transient(exc)
    assert "数据库被其他程序锁定" in (transient_message(exc) or "")
    assert describe(ValueError("bad\nsecond line")).startswith("ValueError: bad")
