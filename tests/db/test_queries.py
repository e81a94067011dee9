"""The query functions the pipeline and the CLI read through, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy.orm import Session, sessionmaker

from db import queries
from db.models import CloudFile, Declaration, Outbox, ReviewItem
from tests.db import factories

NOW = datetime(2021, 10, 21, 8, 0, tzinfo=UTC)


def test_mail_by_dedupe_key_and_stored_file(migrated_session: sessionmaker[Session]) -> None:
    with migrated_session.begin() as s:
        factories.attachment(s, factories.mail(dedupe_key="<known@x>"), "payload")
    with migrated_session() as s:
        found = queries.mail_by_dedupe_key(s, "<known@x>")
        assert found is not None and found.dedupe_key == "<known@x>"
        assert queries.mail_by_dedupe_key(s, "<unknown@x>") is None
        file = queries.stored_file(s, factories.sha("payload"))
        assert file is not None and file.size == len("payload")
        assert queries.stored_file(s, factories.sha("other")) is None


def _versions(s: Session) -> None:
    """服务科 sent 1.1 twice under one name (v1, v2) and once under another; 法规科 sent 1.1 and 2.1."""
    v1 = factories.attachment(s, factories.mail(), "v1", filename="制度.docx")
    v2 = factories.attachment(s, factories.mail(), "v2", filename="制度.docx")
    other = factories.attachment(s, factories.mail(), "other", filename="台账.xlsx")
    law = factories.attachment(s, factories.mail(from_addr="fagui@x"), "law", filename="制度.docx")
    s.add_all([
        factories.assignment(v1, "1.1", "服务科", name_key="制度.docx", version=1, is_current=False),
        factories.assignment(v2, "1.1", "服务科", name_key="制度.docx", version=2),
        factories.assignment(other, "1.1", "服务科", name_key="台账.xlsx", matched_by="subject"),
        factories.assignment(law, "1.1", "法规科", name_key="制度.docx"),
        factories.assignment(law, "2.1", "法规科", name_key="制度.docx"),
    ])  # fmt: skip


def test_current_assignments_filters_and_loads_file_and_mail(migrated_session: sessionmaker[Session]) -> None:
    with migrated_session.begin() as s:
        _versions(s)
    with migrated_session() as s:
        every = queries.current_assignments(s)
        by_indicator = queries.current_assignments(s, indicator_id="1.1")
        by_section = queries.current_assignments(s, section="法规科")
        one = queries.current_assignments(s, indicator_id="1.1", section="服务科")
    assert [(a.indicator_id, a.section, a.name_key, a.version) for a in every] == [
        ("1.1", "服务科", "制度.docx", 2),
        ("1.1", "服务科", "台账.xlsx", 1),
        ("1.1", "法规科", "制度.docx", 1),
        ("2.1", "法规科", "制度.docx", 1),
    ]
    assert len(by_indicator) == 3
    assert {a.indicator_id for a in by_section} == {"1.1", "2.1"}
    assert [a.attachment.filename for a in one] == ["制度.docx", "台账.xlsx"]
    # Loaded eagerly: still readable after the session closed.
    assert one[0].attachment.mail.message_id is not None
    assert one[0].attachment.sha256 == factories.sha("v2")


def test_versions_lists_current_and_replaced_for_one_indicator_and_section(
    migrated_session: sessionmaker[Session],
) -> None:
    with migrated_session.begin() as s:
        _versions(s)
    with migrated_session() as s:
        service = sorted(queries.versions(s, "1.1", "服务科"))
        law = queries.versions(s, "2.1", "法规科")
        none = queries.versions(s, "2.1", "服务科")
    assert service == sorted([
        ("制度.docx", 1, factories.sha("v1")),
        ("制度.docx", 2, factories.sha("v2")),
        ("台账.xlsx", 1, factories.sha("other")),
    ])  # fmt: skip
    assert list(law) == [("制度.docx", 1, factories.sha("law"))]
    assert list(none) == []


def test_review_declarations_cloud_files_ignored_and_errors(migrated_session: sessionmaker[Session]) -> None:
    with migrated_session.begin() as s:
        submission = factories.mail(dedupe_key="<sub@x>")
        bounce = factories.mail(dedupe_key="<bounce@x>", kind="bounce", status="ignored")
        broken = factories.mail(dedupe_key="sha256:" + "c" * 64, kind="unparseable", status="error", error="bad")
        file = factories.attachment(s, submission, "unknown", filename="杂项.pdf")
        s.add_all([bounce, broken])
        s.add_all([
            ReviewItem(mail=submission, attachment=file, reason="no_match", detail="无法匹配", candidates=["1.1"]),
            ReviewItem(mail=submission, reason="unknown_sender", detail="未知发件人", status="resolved"),
            Declaration(mail=submission, indicator_id="3.2", section="服务科", source="mail"),
            Declaration(indicator_id="1.4", section="法规科", source="coordinator"),
            CloudFile(mail=submission, filename="late.zip", url="https://u/2", provider="163",
                      expires_at=NOW + timedelta(days=9)),
            CloudFile(mail=submission, filename="unknown.zip", url="https://u/3", provider="other"),
            CloudFile(mail=submission, filename="soon.zip", url="https://u/1", provider="qq",
                      expires_at=NOW + timedelta(days=1)),
            CloudFile(mail=submission, filename="done.zip", url="https://u/4", provider="qq", status="fetched"),
        ])  # fmt: skip
    with migrated_session() as s:
        review = queries.open_review_items(s)
        declared = queries.declarations(s)
        cloud = queries.pending_cloud_files(s)
        ignored = queries.ignored_mails(s)
        errors = queries.error_mails(s)
    assert [(r.reason, r.candidates, r.mail.dedupe_key) for r in review] == [("no_match", ["1.1"], "<sub@x>")]
    assert review[0].attachment is not None and review[0].attachment.filename == "杂项.pdf"
    assert [(d.indicator_id, d.section, d.mail.dedupe_key if d.mail else None) for d in declared] == [
        ("1.4", "法规科", None),
        ("3.2", "服务科", "<sub@x>"),
    ]
    assert [c.filename for c in cloud] == ["soon.zip", "late.zip", "unknown.zip"]
    assert cloud[0].mail.dedupe_key == "<sub@x>"
    assert [(m.dedupe_key, m.kind) for m in ignored] == [("<bounce@x>", "bounce")]
    assert [(m.kind, m.error) for m in errors] == [("unparseable", "bad")]


def _outbox(key: str, **fields: object) -> Outbox:
    values: dict[str, object] = {
        "kind": "receipt", "dedupe_key": key, "message_id": f"<{key}@bot>", "recipients": ["a@x"],
        "subject": "回执", "raw": b"x", "next_attempt_at": NOW,
    }  # fmt: skip
    values.update(fields)
    return Outbox(**values)


def test_outbox_due(migrated_session: sessionmaker[Session]) -> None:
    with migrated_session.begin() as s:
        s.add_all([
            _outbox("later", next_attempt_at=NOW + timedelta(minutes=5)),
            _outbox("due-second", next_attempt_at=NOW - timedelta(minutes=1)),
            _outbox("due-first", next_attempt_at=NOW - timedelta(hours=1)),
            _outbox("due-now"),
            _outbox("sent", status="sent", sent_at=NOW),
            _outbox("failed", status="failed", next_attempt_at=NOW - timedelta(days=1)),
        ])  # fmt: skip
    with migrated_session.begin() as s:
        assert [o.dedupe_key for o in queries.outbox_due(s, NOW)] == ["due-first", "due-second", "due-now"]
        assert [o.dedupe_key for o in queries.outbox_due(s, NOW, limit=1, lock=True)] == ["due-first"]
        # A zone other than UTC means the same instant.
        beijing = NOW.astimezone(timezone(timedelta(hours=8))) + timedelta(minutes=5)
        assert len(queries.outbox_due(s, beijing)) == 4
