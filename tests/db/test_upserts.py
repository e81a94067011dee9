"""Insert-if-absent helpers report honestly whether they inserted, on both backends."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from db.models import Declaration, StoredFile
from db.upserts import ensure_declaration, ensure_stored_file


def test_stored_file_inserted_once(migrated_session: sessionmaker[Session]) -> None:
    with migrated_session.begin() as s:
        assert ensure_stored_file(s, "a" * 64, 10, "files/aa/aa/" + "a" * 64) is True
        assert ensure_stored_file(s, "a" * 64, 10, "files/aa/aa/" + "a" * 64) is False
        assert s.scalar(select(func.count()).select_from(StoredFile)) == 1


def test_declaration_inserted_once(migrated_session: sessionmaker[Session]) -> None:
    with migrated_session.begin() as s:
        assert ensure_declaration(s, "13", "支队", mail_id=None, source="coordinator") is True
        assert ensure_declaration(s, "13", "支队", mail_id=None, source="mail") is False
        assert ensure_declaration(s, "13", "法规科", mail_id=None, source="mail") is True
        assert s.scalar(select(func.count()).select_from(Declaration)) == 2
