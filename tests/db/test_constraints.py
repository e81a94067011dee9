"""The unique keys that make recording and sending safe to repeat hold on both backends."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from db.models import Attachment, Declaration, Outbox
from tests.db import factories


def test_second_mail_with_same_dedupe_key_is_refused(migrated_session: sessionmaker[Session]) -> None:
    with migrated_session.begin() as s:
        s.add(factories.mail(dedupe_key="<same@example.org>"))
    with pytest.raises(IntegrityError), migrated_session.begin() as s:
        s.add(factories.mail(dedupe_key="<same@example.org>", raw_path="raw/other.eml"))


def test_mails_without_message_id_share_nothing_but_their_hash_key(
    migrated_session: sessionmaker[Session],
) -> None:
    with migrated_session.begin() as s:
        s.add(factories.mail(dedupe_key="sha256:" + "a" * 64, message_id=None))
        s.add(factories.mail(dedupe_key="sha256:" + "b" * 64, message_id=None))
    with pytest.raises(IntegrityError), migrated_session.begin() as s:
        s.add(factories.mail(dedupe_key="sha256:" + "a" * 64, message_id=None))


def _outbox(key: str) -> Outbox:
    return Outbox(
        kind="receipt", dedupe_key=key, message_id="<r@bot>", recipients=["a@example.org"],
        subject="回执", raw=b"From: bot\r\n\r\nbody",
    )  # fmt: skip


def test_outbox_key_is_unique(migrated_session: sessionmaker[Session]) -> None:
    with migrated_session.begin() as s:
        s.add(_outbox("receipt:<m@x>"))
    with pytest.raises(IntegrityError), migrated_session.begin() as s:
        s.add(_outbox("receipt:<m@x>"))


def test_outbox_defaults(migrated_session: sessionmaker[Session]) -> None:
    with migrated_session.begin() as s:
        s.add(_outbox("digest:2021-10-20"))
    with migrated_session() as s:
        row = s.get(Outbox, 1)
        assert row is not None
        assert (row.status, row.attempts, row.recipients) == ("queued", 0, ["a@example.org"])
        assert row.raw == b"From: bot\r\n\r\nbody"
        assert row.next_attempt_at.tzinfo is not None


def test_one_assignment_per_attachment_and_indicator(migrated_session: sessionmaker[Session]) -> None:
    with migrated_session.begin() as s:
        file = factories.attachment(s, factories.mail(), "content")
        s.add(factories.assignment(file, "1.1", "服务科"))
        s.add(factories.assignment(file, "1.2", "服务科"))  # the same file for another indicator is fine
    with pytest.raises(IntegrityError), migrated_session.begin() as s:
        again = s.get(Attachment, file.id)
        assert again is not None
        s.add(factories.assignment(again, "1.1", "服务科", version=2))


def test_one_declaration_per_indicator_and_section(migrated_session: sessionmaker[Session]) -> None:
    with migrated_session.begin() as s:
        s.add(Declaration(indicator_id="2.3", section="服务科", source="coordinator"))
        s.add(Declaration(indicator_id="2.3", section="法规科", source="coordinator"))
    with pytest.raises(IntegrityError), migrated_session.begin() as s:
        s.add(Declaration(indicator_id="2.3", section="服务科", source="mail"))


def test_binary_and_unicode_values_round_trip(migrated_session: sessionmaker[Session]) -> None:
    raw_name = "附件一.doc".encode("gbk")
    with migrated_session.begin() as s:
        owner = factories.mail(dedupe_key="<bin@x>", subject="关于报送材料的通知", subject_raw=b"\xb9\xd8\xff")
        file = factories.attachment(s, owner, "x", filename="附件一.doc")
        file.filename_raw = raw_name
    with migrated_session() as s:
        row = s.scalars(factories.select_mail("<bin@x>")).one()
        assert row.subject == "关于报送材料的通知"
        assert row.subject_raw == b"\xb9\xd8\xff"
        assert row.attachments[0].filename_raw == raw_name
        assert row.attachments[0].stored_file.size == 1
