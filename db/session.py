"""Engines, sessions and schema migrations. Nothing here runs at import time.

``make_engine`` takes any SQLAlchemy URL the configuration names (SQLite file or PostgreSQL);
``upgrade`` brings that database to the newest Alembic revision, wherever the process was started.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

# How long a writer waits for another writer's lock before giving up (milliseconds): then the poll
# stops with "database locked" instead of hanging (SQLite busy_timeout, PostgreSQL lock_timeout).
SQLITE_BUSY_TIMEOUT_MS = 30_000
POSTGRES_LOCK_TIMEOUT_MS = 30_000

# Arbitrary constant key for the PostgreSQL advisory lock that serialises concurrent ``upgrade`` calls.
_MIGRATION_LOCK_KEY = 0x1A7A6E


def normalize_url(url: str | URL) -> URL:
    """The URL to hand to SQLAlchemy: plain ``postgresql://`` (or ``postgres://``) means psycopg 3."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def display_url(url: str | URL) -> str:
    """``url`` as it may be printed or logged: the password shown as ``***``."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        # Not a URL SQLAlchemy can parse, and its error message would repeat it whole: hide whatever
        # stands between "//user:" and "@" all the same.
        return re.sub(r"(//[^/:@]*:)[^@]*@", r"\1***@", str(url))


def make_engine(url: str | URL, **kwargs: Any) -> Engine:
    """Create an engine for ``url``. Connects lazily, on first use.

    SQLite: the parent folder of the database file is created; every connection gets WAL journaling
    (readers do not block the writer), a busy timeout (a second writer waits instead of failing at
    once) and foreign key enforcement. PostgreSQL goes through psycopg 3, pings pooled connections
    before use, so a long-running bot survives a server restart, and waits at most
    ``POSTGRES_LOCK_TIMEOUT_MS`` for a lock (a held lock fails the transaction instead of hanging it).
    """
    parsed = normalize_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        _create_sqlite_parent(parsed)
        engine = create_engine(parsed, **kwargs)
        event.listen(engine, "connect", _configure_sqlite_connection)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    if backend == "postgresql" and "options" not in parsed.query:
        connect_args = dict(kwargs.pop("connect_args", {}))
        connect_args.setdefault("options", f"-c lock_timeout={POSTGRES_LOCK_TIMEOUT_MS}")
        kwargs["connect_args"] = connect_args
    return create_engine(parsed, **kwargs)


def _create_sqlite_parent(url: URL) -> None:
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def _configure_sqlite_connection(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        # In WAL mode NORMAL never corrupts the database and loses nothing when the process dies
        # (kill -9); only a power loss can roll back the last commits, and then mail and cursor roll
        # back together, so the mail is simply read again. FULL would fsync on every per-mail commit.
        cursor.execute("PRAGMA synchronous = NORMAL")
    finally:
        cursor.close()


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Sessions bound to ``engine``. Objects stay readable after commit (``expire_on_commit=False``),
    so a caller can report on what it just recorded without another round trip."""
    return sessionmaker(bind=engine, expire_on_commit=False)


def migrations_dir() -> Path:
    """The folder of the Alembic environment shipped inside the ``db`` package."""
    return Path(str(resources.files("db.migrations")))


def alembic_config() -> Config:
    """An Alembic configuration that needs no ini file and no particular working directory."""
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Run the Alembic migrations on ``engine`` up to ``revision`` (default: the newest), atomically:
    a process killed half-way leaves the database as it was, never half-migrated."""
    config = alembic_config()
    if engine.dialect.name == "sqlite":
        _upgrade_sqlite(engine, config, revision)
        return
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Two processes starting at once must not both create the tables.
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY})
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def _upgrade_sqlite(engine: Engine, config: Config, revision: str) -> None:
    # SQLite can roll back DDL, but Python's sqlite3 module (before 3.12) commits on its own around
    # CREATE/ALTER, so a kill -9 during the first migration left tables without alembic_version
    # ("table mail already exists" on restart). Take the transaction out of the driver's hands:
    # autocommit mode plus an explicit BEGIN IMMEDIATE, which also serialises two processes that
    # start at once (SQLAlchemy's documented pysqlite recipe, applied to this one connection).
    with engine.connect() as connection:
        dbapi = connection.connection.driver_connection
        assert dbapi is not None
        previous = dbapi.isolation_level
        dbapi.isolation_level = None
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
            dbapi.execute("COMMIT")
        except BaseException:
            if dbapi.in_transaction:
                dbapi.execute("ROLLBACK")
            raise
        finally:
            connection.rollback()  # SQLAlchemy's own bookkeeping; the driver has nothing open now
            dbapi.isolation_level = previous


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None for a database that was never migrated."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str:
    """The newest revision among the shipped migrations."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError(f"no Alembic revisions found in {migrations_dir()}")
    return head


def is_at_head(engine: Engine) -> bool:
    """Whether the database schema is the one this code expects."""
    return current_revision(engine) == head_revision()
