"""Poison-mail quarantine: no single mail can keep the poller from the mail behind it.

Before the expensive work on a mail (parsing, unpacking, reading documents) the poll marks it as in
progress by folder, UIDVALIDITY and UID, in its own committed transaction (``begin``). The
transaction that records the mail removes the mark (``finish``), and so does a clean stop
(``abandon``). A mark left by a process that no longer runs (``bot.ingest.process``) therefore means
that process died on that mail: killed by the OOM killer or systemd's ``MemoryMax``, or by SIGKILL.

When the poll finds a mail's mark left by dead processes ``MAX_DEATHS`` times, it does not try again:
the mail is recorded as an error for the coordinator, its raw .eml kept, and the cursor moves past it.
A mark held by a live process (a second poller working on the same mail) is not a death.
"""

from __future__ import annotations

import logging

from sqlalchemy import delete, or_
from sqlalchemy.orm import Session, sessionmaker

from bot.ingest.process import is_alive, process_token
from bot.ingest.record import Source
from db.models import MailAttempt, utcnow
from db.upserts import insert_or_ignore

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
