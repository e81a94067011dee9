"""Which database failure is which, on SQLite and PostgreSQL alike.

Callers catch only the failure they expect: ``unique_violation(exc, table, columns)`` says whether an
``IntegrityError`` is the refusal of one particular unique key (and not, say, a foreign key or
another key raced by a concurrent writer); ``is_unavailable`` says whether an error means the
database is away or busy (locked, connection lost, disk full under it), which is never a property of
the data being written. ``describe`` gives the driver's one-line message, never the SQL or its
parameters (which may carry a whole mail).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.exc import DBAPIError, DisconnectionError, IntegrityError, InterfaceError, OperationalError

# SQLSTATE classes of PostgreSQL that mean "not now" rather than "not this data": connection
# exceptions, insufficient resources, operator intervention, system errors, and lock timeouts /
# serialization failures (retry the transaction).
_PG_TRANSIENT_CLASSES = ("08", "53", "57", "58")
_PG_TRANSIENT_STATES = frozenset({"40001", "40P01", "55P03"})


def _sqlstate(exc: DBAPIError) -> str | None:
    state = getattr(exc.orig, "sqlstate", None)
    return state if isinstance(state, str) else None


def unique_violation(exc: IntegrityError, table: str, columns: Sequence[str], name: str | None = None) -> bool:
    """Whether ``exc`` is the refusal of the unique key on ``table(columns)`` (PostgreSQL names it
    ``name``, default ``uq_<table>_<columns>`` as ``db.models`` names constraints)."""
    state = _sqlstate(exc)
    if state is not None:  # PostgreSQL: 23505 with the constraint's name
        diag = getattr(exc.orig, "diag", None)
        expected = name or f"uq_{table}_{'_'.join(columns)}"
        return state == "23505" and getattr(diag, "constraint_name", None) == expected
    # SQLite: "UNIQUE constraint failed: mail.dedupe_key" (columns of a unique index are listed too).
    message = str(exc.orig)
    return message == "UNIQUE constraint failed: " + ", ".join(f"{table}.{c}" for c in columns)


def is_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` says the database cannot be used right now (locked, gone, out of space),
    as opposed to refusing the data."""
    if isinstance(exc, DisconnectionError | InterfaceError):
        return True
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    state = _sqlstate(exc)
    if state is not None:
        return state in _PG_TRANSIENT_STATES or state[:2] in _PG_TRANSIENT_CLASSES
    # SQLite reports locks, I/O errors, a full disk and a read-only file as OperationalError.
    return isinstance(exc, OperationalError)


def describe(exc: BaseException) -> str:
    """The driver's first line for a database error (no SQL, no parameters); ``str(exc)`` otherwise."""
    source = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    text = str(source).strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    return first[:300]
