"""Real faults for tests, and the invariant every fault test ends with.

- ``Tmpfs``: a tmpfs of a few MB mounted (as root) where the storage root goes: a full disk, and a
  read-only one after ``remount("ro")``. Where mounting is not permitted the test skips, except under
  ``INTAKE_REQUIRE_SERVERS=1`` (CI), where it fails.
- ``hold_sqlite_write_lock`` / ``hold_postgres_lock``: a second process holding the database's write
  lock until told to let go.
- ``assert_invariant``: every mail recorded exactly once or shown to the coordinator as an error (its
  raw .eml kept), nothing sent twice beyond the documented window, nothing written outside the
  storage root.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from email.parser import BytesParser
from email.policy import compat32
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import Deps
from db.models import Mail, ReviewItem
from tests.support.app import write_config_file


def _unavailable(reason: str) -> None:
    if os.environ.get("INTAKE_REQUIRE_SERVERS") == "1":
        pytest.fail(f"a fault test needs this and it is unavailable: {reason}")
    pytest.skip(reason)


class Tmpfs:
    """A mounted tmpfs at ``path`` of ``size`` (``"4m"``)."""

    def __init__(self, path: Path, size: str) -> None:
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(path)], capture_output=True, text=True
        )
        if done.returncode != 0:
            _unavailable(f"cannot mount a tmpfs (needs root): {done.stderr.strip()}")

    def remount(self, options: str) -> None:
        subprocess.run(["mount", "-o", f"remount,{options}", str(self.path)], check=True, capture_output=True)

    def unmount(self) -> None:
        subprocess.run(["umount", "-l", str(self.path)], capture_output=True)


@contextmanager
def tmpfs(path: Path, size: str) -> Iterator[Tmpfs]:
    disk = Tmpfs(path, size)
    try:
        yield disk
    finally:
        disk.unmount()


_SQLITE_HOLDER = """
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
db.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
sys.stdin.readline()
db.execute("ROLLBACK")
"""

_POSTGRES_HOLDER = """
import sys, psycopg
with psycopg.connect(sys.argv[1]) as db:
    db.execute("LOCK TABLE mail, mailbox_cursor, mail_attempt IN EXCLUSIVE MODE")
    print("locked", flush=True)
    sys.stdin.readline()
"""


@contextmanager
def hold_write_lock(db_url: str) -> Iterator[subprocess.Popen[str]]:
    """A second process holding the database's write lock (SQLite ``BEGIN IMMEDIATE``; PostgreSQL an
    EXCLUSIVE lock on the tables a poll writes first) until the block ends."""
    if db_url.startswith("sqlite"):
        code, target = _SQLITE_HOLDER, db_url.removeprefix("sqlite:///")
    else:
        code, target = _POSTGRES_HOLDER, db_url
    proc = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code), target], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdin is not None
    try:
        assert proc.stdout.readline().strip() == "locked"
        yield proc
    finally:
        if proc.poll() is None:
            proc.stdin.write("\n")
            proc.stdin.flush()
            proc.wait(30)


def write_config(path: Path, dovecot: Any, files: Path, db_url: str) -> Path:
    """A config.toml for subprocess tests (``tests.support.app.write_config_file``) on any database."""
    write_config_file(path, dovecot, files, path.parent / "unused.db")
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace(f'database = "sqlite:///{path.parent / "unused.db"}"', f'database = "{db_url}"'))
    return path


def message_id_of(raw: bytes) -> str:
    parsed = BytesParser(policy=compat32).parsebytes(raw, headersonly=True)
    return str(parsed["Message-ID"] or "").strip()


def recorded_message_ids(deps: Deps) -> Counter[str]:
    """How often each Message-ID is in the database: recorded and ignored mails by their column, error
    rows by the Message-ID in their stored raw .eml (which must exist)."""
    found: Counter[str] = Counter()
    with deps.sessions() as s:
        for mail in s.scalars(select(Mail)):
            if mail.status == "error":
                with deps.storage.open(mail.raw_path) as f:
                    found[message_id_of(f.read())] += 1
            else:
                found[mail.message_id or ""] += 1
    return found


def assert_invariant(
    deps: Deps,
    mails: Iterable[bytes],
    *,
    sent: Iterable[bytes] = (),
    repeats_allowed: int = 0,
    sandbox: Path | None = None,
    allowed: Iterable[str] = (),
) -> None:
    """Every mail recorded exactly once or shown to the coordinator as an error; no Message-ID sent
    more than once, except ``repeats_allowed`` (the documented SMTP window); nothing under ``sandbox``
    but ``allowed`` top-level entries (the storage root, the database ...)."""
    expected = Counter(message_id_of(raw) for raw in mails)
    assert recorded_message_ids(deps) == expected
    with deps.sessions() as s:
        for mail in s.scalars(select(Mail).where(Mail.status == "error")):
            reviews = s.scalars(select(ReviewItem).where(ReviewItem.mail_id == mail.id)).all()
            assert reviews, f"error mail {mail.id} is not before the coordinator"
            assert deps.storage.resolve(mail.raw_path).exists()
    sent_ids = Counter(message_id_of(raw) for raw in sent)
    repeats = sum(n - 1 for n in sent_ids.values())
    assert repeats <= repeats_allowed, f"sent twice: {[m for m, n in sent_ids.items() if n > 1]}"
    if sandbox is not None:
        assert sorted(p.name for p in sandbox.iterdir()) == sorted(allowed)
        tmp = sandbox / "tmp"
        if tmp.exists():
            assert list(tmp.iterdir()) == [], "something was written to the temporary folder"
    spool = deps.storage.root / "spool"
    if spool.exists():
        left = [p for p in spool.rglob("*") if p.is_file()]
        assert left == [], f"spool not cleaned: {left}"


def wait_until(predicate, timeout: float = 30.0, step: float = 0.05) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(step)
