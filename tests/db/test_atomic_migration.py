"""A migration interrupted half-way leaves the database untouched (kill -9 during the first start)."""

from __future__ import annotations

from typing import Any

import pytest
from alembic import op
from sqlalchemy import inspect

from db.session import current_revision, head_revision, make_engine, upgrade


def test_interrupted_first_migration_leaves_no_tables_and_a_rerun_succeeds(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = make_engine(db_url)
    real_create = op.create_table
    calls = {"n": 0}

    def dies_on_the_third_table(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt("killed half-way through the migration")
        return real_create(*args, **kwargs)

    monkeypatch.setattr(op, "create_table", dies_on_the_third_table)
    try:
        with pytest.raises(KeyboardInterrupt):
            upgrade(engine)
        assert calls["n"] == 3
        assert inspect(engine).get_table_names() == []
        assert current_revision(engine) is None
        monkeypatch.undo()
        upgrade(engine)
        assert current_revision(engine) == head_revision()
        assert "mail" in inspect(engine).get_table_names()
    finally:
        engine.dispose()
