"""Insert-if-absent for rows that concurrent pollers may both try to create.

Two pollers (or a poller and a retry) can store the same file or the same 无材料 declaration at the
same moment; a plain INSERT would make the second mail's whole transaction fail. ``ON CONFLICT DO
NOTHING`` (SQLite >= 3.24, PostgreSQL >= 9.5) makes the second insert a no-op instead.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Table, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from db.models import Declaration, StoredFile, utcnow


def dialect_insert(s: Session, table: Any) -> postgresql.Insert | sqlite.Insert:
    """``INSERT`` for the session's database, with its ``ON CONFLICT`` clauses available (the two
    dialects spell the same SQL through different classes)."""
    dialect = s.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"database dialect {dialect!r} is not supported")  # pragma: no cover


def insert_or_ignore(s: Session, table: Any, values: dict[str, Any], conflict: list[str], returning: str) -> Any:
    """Insert ``values`` unless a row with the same ``conflict`` columns exists. Returns the new row's
    ``returning`` column, or None when nothing was inserted."""
    stmt = dialect_insert(s, table).values(**values).on_conflict_do_nothing(index_elements=conflict)
    # RETURNING, not rowcount: psycopg reports rowcount -1 for ON CONFLICT DO NOTHING.
    return s.execute(stmt.returning(table.c[returning])).scalar_one_or_none()


def _insert_ignore(s: Session, table: Table, values: dict[str, Any], conflict: list[str]) -> bool:
    return insert_or_ignore(s, table, values, conflict, conflict[0]) is not None


def ensure_stored_file(s: Session, sha256: str, size: int, path: str, *, now: datetime | None = None) -> bool:
    return _insert_ignore(
        s,
        StoredFile.__table__,  # type: ignore[arg-type]
        {"sha256": sha256, "size": size, "path": path, "first_seen_at": now or utcnow()},
        ["sha256"],
    )


_STORED_FILES: dict[str, Any] = {}  # dialect name -> the compiled-once statement of ensure_stored_files


def ensure_stored_files(s: Session, files: list[tuple[str, int, str]], *, now: datetime | None = None) -> None:
    """``ensure_stored_file`` for several (sha256, size, path) at once: one statement, run for each
    row (executemany), built once per dialect (no RETURNING: nobody asks which were new)."""
    if not files:
        return
    dialect = s.get_bind().dialect.name
    stmt = _STORED_FILES.get(dialect)
    if stmt is None:
        stmt = dialect_insert(s, StoredFile.__table__).on_conflict_do_nothing(index_elements=["sha256"])
        _STORED_FILES[dialect] = stmt
    at = now or utcnow()
    rows = {sha: {"sha256": sha, "size": size, "path": path, "first_seen_at": at} for sha, size, path in files}
    s.connection().execute(stmt, list(rows.values()))  # Core: no autoflush (it runs inside one)


def defer_stored_files(s: Session, files: list[tuple[str, int, str]]) -> None:
    """``ensure_stored_files`` at the session's next flush, just before the rows that refer to them
    (the file rows' foreign key): a batch of mails inserts them in one statement. Forgotten on rollback."""
    pending: dict[str, tuple[str, int, str]] = s.info.setdefault(_PENDING_FILES, {})
    for f in files:
        pending.setdefault(f[0], f)


_PENDING_FILES = "intake.pending_stored_files"


@event.listens_for(Session, "before_flush")
def _write_deferred_files(s: Session, _flush_context: object, _instances: object) -> None:
    pending = s.info.pop(_PENDING_FILES, None)
    if pending:
        ensure_stored_files(s, list(pending.values()))


@event.listens_for(Session, "after_rollback")
def _forget_deferred_files(s: Session) -> None:
    s.info.pop(_PENDING_FILES, None)


def ensure_declaration(
    s: Session,
    indicator_id: str,
    section: str,
    *,
    mail_id: int | None,
    source: str,
    now: datetime | None = None,
) -> bool:
    return _insert_ignore(
        s,
        Declaration.__table__,  # type: ignore[arg-type]
        {
            "indicator_id": indicator_id,
            "section": section,
            "mail_id": mail_id,
            "source": source,
            "created_at": now or utcnow(),
        },
        ["indicator_id", "section"],
    )
