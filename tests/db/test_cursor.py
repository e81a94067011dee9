"""Mailbox progress: one row per folder, last_uid never moves backwards within one UIDVALIDITY."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from db.queries import get_cursor, save_cursor


def test_no_cursor_before_first_poll(migrated_session: sessionmaker[Session]) -> None:
    with migrated_session() as s:
        assert get_cursor(s, "INBOX") is None


def test_save_then_advance(migrated_session: sessionmaker[Session]) -> None:
    with migrated_session.begin() as s:
        cursor = save_cursor(s, "INBOX", 1_600_000_000, 10)
        assert (cursor.uidvalidity, cursor.last_uid) == (1_600_000_000, 10)
    with migrated_session.begin() as s:
        save_cursor(s, "INBOX", 1_600_000_000, 25)
    with migrated_session() as s:
        stored = get_cursor(s, "INBOX")
        assert stored is not None
        assert (stored.uidvalidity, stored.last_uid) == (1_600_000_000, 25)
        assert stored.updated_at.tzinfo is not None


def test_never_moves_backwards_for_same_uidvalidity(migrated_session: sessionmaker[Session]) -> None:
    with migrated_session.begin() as s:
        save_cursor(s, "INBOX", 7, 40)
    with migrated_session.begin() as s:
        cursor = save_cursor(s, "INBOX", 7, 12)  # a slower poller finishing late
        assert cursor.last_uid == 40
    with migrated_session() as s:
        stored = get_cursor(s, "INBOX")
        assert stored is not None and stored.last_uid == 40


def test_new_uidvalidity_resets_last_uid(migrated_session: sessionmaker[Session]) -> None:
    with migrated_session.begin() as s:
        save_cursor(s, "INBOX", 7, 40)
    with migrated_session.begin() as s:
        save_cursor(s, "INBOX", 8, 3)
    with migrated_session() as s:
        cursor = get_cursor(s, "INBOX")
        assert cursor is not None
        assert (cursor.uidvalidity, cursor.last_uid) == (8, 3)


def test_folders_are_independent_and_uids_can_exceed_int32(migrated_session: sessionmaker[Session]) -> None:
    with migrated_session.begin() as s:
        save_cursor(s, "INBOX", 4_294_967_295, 4_294_967_290)
        save_cursor(s, "Archive", 1, 5)
    with migrated_session() as s:
        inbox, archive = get_cursor(s, "INBOX"), get_cursor(s, "Archive")
        assert inbox is not None and inbox.last_uid == 4_294_967_290
        assert archive is not None and archive.last_uid == 5
