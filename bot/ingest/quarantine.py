"""Poison-mail quarantine: no single mail can keep the poller from the mail behind it.

Before the expensive work on a mail (parsing, unpacking, reading documents) the poll marks it as in
progress by folder, UIDVALIDITY and UID, in its own committed transaction (``begin``). The
transaction that records the mail removes the mark (``finish``), and so does a clean stop
(``abandon``). A mark left by a process that no longer runs (``bot.ingest.process``) therefore means
that process died on that mail: killed by the OOM killer or systemd's ``MemoryMax``, or by SIGKILL.

When the poll finds a mail's mark left by dead processes ``MAX_DEATHS`` times, it does not try again:
the mail is recorded as an error for the coordinator, its raw .eml kept, and the cursor moves past it.
A mark held by a live process (a second poller working on the same mail) is not a death.

Batches (``bot.ingest.pipeline``): most mails are marked several at a time (``mark_ahead``, in the
transaction that commits the batch before them), so a death leaves marks on every mail that was in
flight, not only on the one that caused it. The poll therefore treats a mail with a dead process's
mark as suspect (``suspects``) and handles it alone, with its own ``begin``: an innocent mail is
recorded on that attempt, and only a mail that kills its poller when handled alone reaches
``MAX_DEATHS``. A worker process that dies (``bot.ingest.workers``) is a death too: the poll notes it
(``count_as_death``) for each mail the worker had in flight and retries them alone at once.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session, sessionmaker

from bot.ingest.process import is_alive, process_token
from bot.ingest.record import Source
from db.models import MailAttempt, utcnow
from db.upserts import dialect_insert, insert_or_ignore

log = logging.getLogger(__name__)

MAX_DEATHS = 2


def _key(source: Source) -> tuple[str, int, int] | None:
    if source.folder is None or source.uidvalidity is None or source.uid is None:
        return None
    return source.folder, source.uidvalidity, source.uid


def begin(sessions: sessionmaker[Session], source: Source) -> int:
    """Mark the mail as in progress by this process; returns how many earlier attempts died on it."""
    key = _key(source)
    if key is None:
        return 0
    token = process_token()
    with sessions.begin() as s:
        # Insert-or-ignore, then lock: two pollers reaching the same new mail must not both insert.
        values = {"folder": key[0], "uidvalidity": key[1], "uid": key[2], "attempts": 1, "owner": token,
                  "started_at": utcnow()}  # fmt: skip
        if insert_or_ignore(s, MailAttempt.__table__, values, ["folder", "uidvalidity", "uid"], "uid") is not None:
            return 0
        mark = s.get_one(MailAttempt, key, with_for_update=True, populate_existing=True)
        if mark.owner == token or is_alive(mark.owner):
            # This process stopped on it earlier without clearing the mark, or another live poller is
            # working on it right now: nobody died. (Dedupe keeps the two pollers from recording it twice.)
            deaths = mark.attempts - 1
        else:
            deaths = mark.attempts
            mark.attempts += 1
            log.warning("mail uid=%s in %s: a poller died while processing it (%d time(s))", key[2], key[0], deaths)
        mark.owner = token
        mark.started_at = utcnow()
        return deaths


def finish(s: Session, source: Source) -> None:
    """Remove the mark inside the transaction that records the mail (or sets it aside)."""
    key = _key(source)
    if key is not None:
        s.execute(
            delete(MailAttempt).where(
                MailAttempt.folder == key[0], MailAttempt.uidvalidity == key[1], MailAttempt.uid == key[2]
            )
        )


def abandon(sessions: sessionmaker[Session], source: Source) -> None:
    """Remove the mark after a clean stop (nothing recorded; the next poll retries the mail)."""
    if _key(source) is None:
        return
    with sessions.begin() as s:
        finish(s, source)


def count_as_death(sessions: sessionmaker[Session], source: Source) -> None:
    """The process ran out of memory on the mail and lives on (the MemoryError was caught): leave the
    mark as if its owner had died, so that the next attempt counts it."""
    key = _key(source)
    if key is None:
        return
    with sessions.begin() as s:
        mark = s.get(MailAttempt, key)
        if mark is not None:
            mark.owner = "out-of-memory"  # no process token: never alive


def forget_settled(s: Session, folder: str, uidvalidity: int, last_uid: int) -> None:
    """Drop marks the folder's cursor has passed (another poller recorded those mails) or that belong
    to an older UIDVALIDITY."""
    s.execute(
        delete(MailAttempt).where(
            MailAttempt.folder == folder,
            or_(MailAttempt.uidvalidity != uidvalidity, MailAttempt.uid <= last_uid),
        )
    )


def suspects(s: Session, folder: str, uidvalidity: int, after: int) -> set[int]:
    """UIDs after ``after`` whose mark a process that no longer runs left: each is handled alone."""
    rows = s.execute(
        select(MailAttempt.uid, MailAttempt.owner).where(
            MailAttempt.folder == folder, MailAttempt.uidvalidity == uidvalidity, MailAttempt.uid > after
        )
    )
    token = process_token()
    return {uid for uid, owner in rows if owner != token and not is_alive(owner)}


def mark_ahead(s: Session, sources: Sequence[Source]) -> None:
    """Mark several mails as in progress by this process, in the caller's transaction (committed
    before any of them is read). A mail that has a mark already keeps it."""
    token, now = process_token(), utcnow()
    rows = [
        {"folder": k[0], "uidvalidity": k[1], "uid": k[2], "attempts": 1, "owner": token, "started_at": now}
        for k in map(_key, sources)
        if k is not None
    ]
    if rows:
        stmt = dialect_insert(s, MailAttempt).on_conflict_do_nothing(index_elements=["folder", "uidvalidity", "uid"])
        s.execute(stmt, rows)


def abandon_many(sessions: sessionmaker[Session], sources: Iterable[Source]) -> None:
    """``abandon`` for several mails in one transaction (a clean stop in the middle of a batch)."""
    keys = [k for k in map(_key, sources) if k is not None]
    if not keys:
        return
    with sessions.begin() as s:
        for folder, uidvalidity, uid in keys:
            s.execute(
                delete(MailAttempt).where(
                    MailAttempt.folder == folder, MailAttempt.uidvalidity == uidvalidity, MailAttempt.uid == uid,
                    MailAttempt.owner == process_token(),
                )
            )  # fmt: skip
