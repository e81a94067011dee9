"""The Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from db.models import Base
from db.session import current_revision, head_revision, is_at_head, make_engine, upgrade


def test_fresh_database_has_no_revision(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        assert current_revision(engine) is None
        assert not is_at_head(engine)
    finally:
        engine.dispose()


def test_upgrade_creates_every_table_and_reaches_head(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        upgrade(engine)
        assert current_revision(engine) == head_revision()
        assert is_at_head(engine)
        tables = set(inspect(engine).get_table_names())
        assert set(Base.metadata.tables) <= tables
    finally:
        engine.dispose()


def test_upgrade_twice_is_harmless(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        upgrade(engine)
        upgrade(engine)
        assert is_at_head(engine)
    finally:
        engine.dispose()


def test_migrations_match_models(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        upgrade(engine)
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()


def test_required_constraints_and_indexes_exist(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        upgrade(engine)
        inspector = inspect(engine)

        def unique_sets(table: str) -> set[tuple[str | None, ...]]:
            found: set[tuple[str | None, ...]]
            found = {tuple(c["column_names"]) for c in inspector.get_unique_constraints(table)}
            found |= {tuple(i["column_names"]) for i in inspector.get_indexes(table) if i["unique"]}
            return found

        def index_sets(table: str) -> set[tuple[str | None, ...]]:
            return {tuple(i["column_names"]) for i in inspector.get_indexes(table)}

        assert ("dedupe_key",) in unique_sets("mail")
        assert ("dedupe_key",) in unique_sets("outbox")
        assert ("attachment_id", "indicator_id") in unique_sets("assignment")
        assert ("indicator_id", "section") in unique_sets("declaration")
        assert ("message_id",) in index_sets("mail")
        assert ("indicator_id", "section") in index_sets("assignment")
    finally:
        engine.dispose()


def test_upgrade_does_not_depend_on_working_directory(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    engine = make_engine(sqlite_url)
    try:
        upgrade(engine)
        assert is_at_head(engine)
    finally:
        engine.dispose()
    assert os.listdir(tmp_path) == ["db"]  # nothing written beside the database
