"""Alembic environment for intake.

Used two ways: programmatically by ``db.session.upgrade`` (which passes an open connection in
``config.attributes["connection"]``), and from the command line with ``alembic -c db/alembic.ini``
(which reads ``sqlalchemy.url`` or the ``INTAKE_DATABASE_URL`` environment variable).
"""

from __future__ import annotations

import os
from logging.config import fileConfig
from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import Connection

from db.hygiene import CleanJSON, CleanString, CleanText
from db.models import Base, UTCDateTime

config = context.config
target_metadata = Base.metadata

# Only the command line configures logging; a program calling upgrade() keeps its own.
if config.config_file_name is not None and "connection" not in config.attributes:
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def _database_url() -> str:
    url = os.environ.get("INTAKE_DATABASE_URL") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("set INTAKE_DATABASE_URL or sqlalchemy.url to run migrations")
    return url


def _render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    # Migrations must not import application types: write our UTC wrapper as the plain column type.
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if type_ == "type" and isinstance(obj, CleanString):  # db.hygiene: the text types clean what they bind
        length = getattr(obj.impl_instance, "length", None)
        return f"sa.String(length={length})" if length is not None else "sa.String()"
    if type_ == "type" and isinstance(obj, CleanText):
        return "sa.Text()"
    if type_ == "type" and isinstance(obj, CleanJSON):
        return "sa.JSON()"
    return False


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=_render_item,
    )


def run_migrations_offline() -> None:
    context.configure(
        url=_database_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        render_as_batch=True,
        render_item=_render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return

    from db.session import make_engine

    engine = make_engine(_database_url())
    try:
        with engine.begin() as connection:
            _configure(connection)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
