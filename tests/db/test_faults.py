"""The database side of issue 11, on SQLite and PostgreSQL: text cleaned at the boundary, the unique
violations told apart, one current version per file name (and the migration that enforces it on old
data), and the poll's in-progress marks."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.ingest import quarantine
from bot.ingest.process import process_token
from bot.ingest.record import Source
from db.errors import unique_violation
from db.models import Assignment, Attachment, Declaration, MailAttempt, ReviewItem
from db.session import make_engine, make_sessionmaker, upgrade
from tests.db import factories


def test_control_characters_never_reach_a_column(migrated_session: sessionmaker[Session]) -> None:
    with migrated_session.begin() as s:
        owner = factories.mail(dedupe_key="<nul\x00@x>", subject="指标12\x00材料\x1b", from_name="刘\x00建设")
        s.add(owner)
        file = factories.attachment(s, owner, "x", filename="清理\x00情况.docx")
        file.content_type = "application/" + "x" * 400  # VARCHAR(255) on PostgreSQL
        s.flush()
        s.add(ReviewItem(mail_id=owner.id, reason="needs_review", detail="《清理\x00情况》", candidates=["1\x002"]))
    with migrated_session() as s:
        row = s.scalars(factories.select_mail("<nul@x>")).one()  # looked up cleaned, like it was stored
        assert (row.subject, row.from_name) == ("指标12材料", "刘建设")
        assert row.attachments[0].filename == "清理情况.docx"
        assert len(row.attachments[0].content_type) == 255
        review = s.scalars(select(ReviewItem)).one()
        assert (review.detail, review.candidates) == ("《清理情况》", ["12"])


def _violation(sessions: sessionmaker[Session], work) -> IntegrityError:  # type: ignore[no-untyped-def]
    with pytest.raises(IntegrityError) as caught, sessions.begin() as s:
        work(s)
    return caught.value


def test_unique_violations_are_told_apart(migrated_session: sessionmaker[Session]) -> None:
    with migrated_session.begin() as s:
        first = factories.mail(dedupe_key="<same@x>")
        s.add(first)
        s.add(Declaration(indicator_id="8", section="法规科", source="mail"))
        file = factories.attachment(s, first, "v1", filename="情况说明.docx")
        s.add(factories.assignment(file, "12", "支队", is_current=True))

    dedupe = _violation(migrated_session, lambda s: s.add(factories.mail(dedupe_key="<same@x>")))
    assert unique_violation(dedupe, "mail", ["dedupe_key"])

    declared = _violation(
        migrated_session, lambda s: s.add(Declaration(indicator_id="8", section="法规科", source="mail"))
    )
    assert not unique_violation(declared, "mail", ["dedupe_key"])
    assert unique_violation(declared, "declaration", ["indicator_id", "section"])

    def second_current(s: Session) -> None:
        other = factories.mail()
        s.add(other)
        again = factories.attachment(s, other, "v2", filename="情况说明.docx")
        s.add(factories.assignment(again, "12", "支队", is_current=True, version=2))

    current = _violation(migrated_session, second_current)
    columns = ["indicator_id", "section", "name_key"]
    assert unique_violation(current, "assignment", columns, name="uq_assignment_current")
    assert not unique_violation(current, "mail", ["dedupe_key"])


def test_a_replaced_version_may_share_its_name(migrated_session: sessionmaker[Session]) -> None:
    with migrated_session.begin() as s:
        for n, current in ((1, False), (2, False), (3, True)):
            owner = factories.mail()
            s.add(owner)
            file = factories.attachment(s, owner, f"v{n}", filename="情况说明.docx")
            s.add(factories.assignment(file, "12", "支队", version=n, is_current=current))
    with migrated_session() as s:
        assert len(s.scalars(select(Assignment)).all()) == 3


def test_migration_keeps_the_newest_of_duplicate_current_versions(db_url: str) -> None:
    engine: Engine = make_engine(db_url)
    try:
        upgrade(engine, "0003")  # the revision before 0004
        sessions = make_sessionmaker(engine)
        with sessions.begin() as s:  # what two racing pollers could leave before 0004
            for n in (1, 2):
                owner = factories.mail()
                s.add(owner)
                file = factories.attachment(s, owner, f"race {n}", filename="情况说明.docx")
                s.flush()
                s.execute(
                    text(
                        "INSERT INTO assignment (attachment_id, indicator_id, section, name_key, version, is_current,"
                        " matched_by, created_at) VALUES (:a, '12', '支队', '情况说明.docx', 1, :t, 'filename', :c)"
                    ),
                    {"a": file.id, "t": True, "c": datetime(2021, 10, 20, tzinfo=UTC)},
                )
        upgrade(engine)
        with sessions() as s:
            rows = s.execute(select(Attachment.sha256, Assignment.is_current).join(Attachment)).all()
        assert sorted((current, sha) for sha, current in rows) == [
            (False, factories.sha("race 1")),
            (True, factories.sha("race 2")),
        ]
    finally:
        engine.dispose()


def test_in_progress_marks(migrated_session: sessionmaker[Session]) -> None:
    source = Source("INBOX", 7, 42, datetime.now(UTC))
    assert quarantine.begin(migrated_session, source) == 0
    assert quarantine.begin(migrated_session, source) == 0  # this very process: nobody died
    with migrated_session.begin() as s:  # as if the owner was killed
        s.get_one(MailAttempt, ("INBOX", 7, 42)).owner = "p1-1-" + process_token().split("-", 2)[2]
    assert quarantine.begin(migrated_session, source) == 1
    with migrated_session.begin() as s:
        s.get_one(MailAttempt, ("INBOX", 7, 42)).owner = "p1-1-" + process_token().split("-", 2)[2]
    assert quarantine.begin(migrated_session, source) == 2
    with migrated_session.begin() as s:
        quarantine.finish(s, source)
        assert s.scalars(select(MailAttempt)).all() == []

    for uid in (40, 41, 43):
        quarantine.begin(migrated_session, Source("INBOX", 7, uid, datetime.now(UTC)))
    quarantine.begin(migrated_session, Source("INBOX", 6, 99, datetime.now(UTC)))
    quarantine.begin(migrated_session, Source("垃圾邮件", 6, 1, datetime.now(UTC)))
    with migrated_session.begin() as s:
        quarantine.forget_settled(s, "INBOX", 7, 41)
    with migrated_session() as s:
        left = sorted((m.folder, m.uidvalidity, m.uid) for m in s.scalars(select(MailAttempt)))
    assert left == [("INBOX", 7, 43), ("垃圾邮件", 6, 1)]
    quarantine.abandon(migrated_session, Source("INBOX", 7, 43, datetime.now(UTC)))
    assert quarantine.begin(migrated_session, Source(None, None, None, datetime.now(UTC))) == 0  # no UID: no mark


def test_running_out_of_memory_counts_as_a_death(migrated_session: sessionmaker[Session]) -> None:
    source = Source("INBOX", 7, 42, datetime.now(UTC))
    assert quarantine.begin(migrated_session, source) == 0
    quarantine.count_as_death(migrated_session, source)  # this process caught a MemoryError and lives on
    assert quarantine.begin(migrated_session, source) == 1
    quarantine.count_as_death(migrated_session, source)
    assert quarantine.begin(migrated_session, source) == quarantine.MAX_DEATHS  # set aside now
