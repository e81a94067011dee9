"""Engine and session behaviour: URL handling, SQLite pragmas, timezone-aware timestamps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from db.models import Attachment, Mail
from db.session import make_engine, normalize_url
from tests.db import factories


@pytest.mark.parametrize(
    ("url", "driver"),
    [
        ("postgresql://u@localhost/x", "postgresql+psycopg"),
        ("postgres://u@localhost/x", "postgresql+psycopg"),
        ("postgresql+psycopg://u@localhost/x", "postgresql+psycopg"),
        ("sqlite:///var/intake.db", "sqlite"),
    ],
)
def test_normalize_url_picks_psycopg(url: str, driver: str) -> None:
    assert normalize_url(url).drivername == driver


def test_make_engine_does_not_connect(tmp_path: Path) -> None:
    make_engine("postgresql://nobody@127.0.0.1:1/none")  # nothing listens there; must not matter
    target = tmp_path / "a" / "b" / "intake.db"
    engine = make_engine(f"sqlite:///{target}")
    assert target.parent.is_dir()
    assert not target.exists()
    engine.dispose()


def test_sqlite_connections_use_wal_busy_timeout_and_foreign_keys(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    try:
        with engine.connect() as connection:
            assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert (connection.execute(text("PRAGMA busy_timeout")).scalar() or 0) >= 1000
    finally:
        engine.dispose()


def test_foreign_keys_are_enforced(migrated_session: sessionmaker[Session]) -> None:
    with pytest.raises(IntegrityError), migrated_session.begin() as s:
        owner = factories.mail()
        s.add(owner)
        s.flush()
        s.add(Attachment(
            mail_id=owner.id, sha256="0" * 64, filename="x", origin="attachment",
            content_type="text/plain", size=1,
        ))  # fmt: skip


def test_timestamps_come_back_aware_utc(migrated_session: sessionmaker[Session]) -> None:
    beijing = timezone(timedelta(hours=8))
    sent = datetime(2021, 10, 28, 23, 59, tzinfo=beijing)
    with migrated_session.begin() as s:
        s.add(factories.mail(dedupe_key="<tz@x>", sent_at=sent))
    with migrated_session() as s:
        row = s.scalars(factories.select_mail("<tz@x>")).one()
        assert row.sent_at == sent
        assert row.sent_at is not None and row.sent_at.tzinfo == UTC
        assert row.sent_at.hour == 15
        assert row.processed_at.tzinfo == UTC


def test_naive_timestamps_are_refused(migrated_session: sessionmaker[Session]) -> None:
    with pytest.raises(Exception, match="timezone-aware"), migrated_session.begin() as s:
        s.add(factories.mail(received_at=datetime(2021, 10, 20, 9, 30)))
        s.flush()


def test_mail_defaults(migrated_session: sessionmaker[Session]) -> None:
    with migrated_session.begin() as s:
        s.add(factories.mail(dedupe_key="<d@x>"))
    with migrated_session() as s:
        row = s.scalars(factories.select_mail("<d@x>")).one()
        assert isinstance(row, Mail)
        assert (row.from_name, row.subject, row.subject_raw, row.section) == ("", "", None, None)
