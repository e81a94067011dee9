"""Two pollers recording the same mail at the same moment: the unique key lets exactly one win."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from db.models import Mail, MailboxCursor
from db.queries import get_cursor, mail_by_dedupe_key, save_cursor
from tests.db import factories


def _run_together(workers: list[Callable[[], None]]) -> list[BaseException | None]:
    outcomes: list[BaseException | None] = [None] * len(workers)

    def run(i: int) -> None:
        try:
            workers[i]()
        except BaseException as exc:  # reported to the test, not swallowed
            outcomes[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(workers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
        assert not thread.is_alive()
    return outcomes


@pytest.mark.parametrize("round_", range(5))
def test_two_sessions_racing_for_one_dedupe_key(migrated_session: sessionmaker[Session], round_: int) -> None:
    key = f"<race-{round_}@example.org>"
    both_looked = threading.Barrier(2, timeout=30)

    def poller(name: str) -> Callable[[], None]:
        def record() -> None:
            with migrated_session.begin() as s:
                # What the pipeline does: look first, then insert. Both see nothing...
                assert mail_by_dedupe_key(s, key) is None
                both_looked.wait()
                # ...and both insert; the database must turn one of them away.
                s.add(factories.mail(dedupe_key=key, raw_path=f"raw/{name}.eml"))

        return record

    outcomes = _run_together([poller("a"), poller("b")])

    winners = [o for o in outcomes if o is None]
    losers = [o for o in outcomes if o is not None]
    assert len(winners) == 1, outcomes
    assert len(losers) == 1 and isinstance(losers[0], IntegrityError), outcomes
    with migrated_session() as s:
        assert s.scalar(select(func.count()).select_from(Mail).where(Mail.dedupe_key == key)) == 1


def test_concurrent_cursor_saves_keep_the_highest_uid(migrated_session: sessionmaker[Session]) -> None:
    start = threading.Barrier(4, timeout=30)

    def saver(last_uid: int) -> Callable[[], None]:
        def save() -> None:
            start.wait()
            with migrated_session.begin() as s:
                save_cursor(s, "INBOX", 42, last_uid)

        return save

    outcomes = _run_together([saver(uid) for uid in (5, 50, 20, 35)])

    assert outcomes == [None, None, None, None]
    with migrated_session() as s:
        cursor = get_cursor(s, "INBOX")
        assert cursor is not None and cursor.last_uid == 50
        assert s.scalar(select(func.count()).select_from(MailboxCursor)) == 1
