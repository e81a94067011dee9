"""The database under fault: a second process holding the write lock, NUL bytes and control characters
from a hostile mail, and two pollers racing on the current version of one file name."""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, func, select

import bot.ingest.poll
import bot.ingest.settle
import db.session
from bot.app import Deps
from bot.ingest.faults import PollStopped
from bot.ingest.poll import poll_once, process_one
from bot.ingest.record import Source
from db.models import Assignment, Attachment, Mail, MailboxCursor, Problem, ReviewItem
from tests.support.app import app_for
from tests.support.faults import assert_invariant, hold_write_lock, wait_until
from tests.support.mails import doc, submission


@pytest.fixture
def short_lock_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    """Give up on a held lock after 0.3 s instead of 30 s (set before the app opens its engine)."""
    monkeypatch.setattr(db.session, "SQLITE_BUSY_TIMEOUT_MS", 300)
    monkeypatch.setattr(db.session, "POSTGRES_LOCK_TIMEOUT_MS", 300)


@pytest.fixture
def app(tmp_path: Path, db_url: str, dovecot: Any, short_lock_waits: None) -> Iterator[Deps]:
    deps = app_for(tmp_path, db_url, dovecot)
    yield deps
    deps.close()


def count(deps: Deps, model: Any) -> int:
    with deps.sessions() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def test_a_locked_database_stops_the_poll_and_the_next_poll_records_everything(
    app: Deps, db_url: str, dovecot: Any
) -> None:
    mails = [submission(f"指标{n}", [(f"{n}.pdf", doc(f"lock {n}"))], message_id=f"<lock{n}@x>") for n in (3, 4, 5)]
    dovecot.append_many(mails)
    with hold_write_lock(db_url):
        with pytest.raises(PollStopped) as stopped:
            poll_once(app)
        assert "数据库被其他程序锁定" in stopped.value.message
        assert "不会丢失或重复" in stopped.value.message
        assert "INSERT" not in stopped.value.message and "DELETE" not in stopped.value.message
    assert count(app, Mail) == 0 and count(app, MailboxCursor) == 0
    assert poll_once(app).mails == 3
    assert_invariant(app, mails)


def test_a_lock_taken_in_the_middle_of_a_poll(app: Deps, db_url: str, dovecot: Any) -> None:
    # Each mail's .docx is read in a child process, so a poll of 12 takes a few seconds: time enough
    # for the second process to take the lock after the first mails are in.
    mails = [submission(f"指标{n}", [(f"{n}-情况说明.docx", _docx(n))], message_id=f"<mid{n}@x>") for n in range(1, 13)]
    dovecot.append_many(mails)
    outcome: list[BaseException | None] = []

    def poll() -> None:
        try:
            poll_once(app)
            outcome.append(None)
        except BaseException as exc:
            outcome.append(exc)

    poller = threading.Thread(target=poll)
    poller.start()
    wait_until(lambda: count(app, Mail) >= 1 or not poller.is_alive())
    with hold_write_lock(db_url):
        poller.join(120)
    assert len(outcome) == 1
    partial = count(app, Mail)
    if isinstance(outcome[0], PollStopped):  # the usual case: stopped cleanly, part recorded
        assert 1 <= partial < 12
    else:  # the poll won the race to the end
        assert outcome[0] is None and partial == 12
    poll_once(app)
    assert_invariant(app, mails)


def _docx(n: int) -> bytes:
    import io

    import docx

    document = docx.Document()
    document.add_paragraph(f"情况说明 {n}")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _encoded(text: str) -> str:
    return "=?utf-8?b?" + base64.b64encode(text.encode()).decode() + "?="


def test_nul_and_control_characters_are_cleaned_at_the_database(app: Deps, dovecot: Any) -> None:
    """On PostgreSQL a NUL in a subject or a file name used to make the whole mail "unparseable" (the
    good file beside it unrecorded) with the SQL in the review text."""
    raw = submission(
        "placeholder", [("b.pdf", doc("bad name")), ("24-执法统计.pdf", doc("good"))], message_id="<nul@x>"
    )
    raw = raw.replace(b"Subject: placeholder", b"Subject: " + _encoded("支队\x00报送\x1b[31m材料").encode())
    raw = raw.replace(b'filename="b.pdf"', b'filename="' + _encoded("12-\x00清理\x07情况.pdf").encode() + b'"')
    dovecot.append(raw)
    report = poll_once(app)
    assert (report.mails, report.errors) == (1, 0)
    with app.sessions() as s:
        mail = s.scalars(select(Mail)).one()
        names = sorted(s.scalars(select(Attachment.filename)))
        assigned = sorted(s.scalars(select(Assignment.indicator_id)))
        texts = [*s.scalars(select(ReviewItem.detail)), *s.scalars(select(Problem.detail))]
    assert (mail.status, mail.subject) == ("recorded", "支队报送[31m材料")
    assert names == ["12-清理情况.pdf", "24-执法统计.pdf"]
    assert assigned == ["12", "24"]
    assert not any("INSERT" in t or "\x00" in t for t in texts)
    with app.storage.open(mail.raw_path) as f:  # the raw mail keeps what was sent
        assert base64.b64encode("支队\x00报送\x1b[31m材料".encode()) in f.read()
    with app.sessions.begin() as s:  # a rescan (UIDVALIDITY changed, cursor cleared by hand) ...
        s.execute(delete(MailboxCursor))
    again = poll_once(app)
    assert (again.mails, again.duplicates) == (0, 1)  # ... knows the cleaned mail for the same one
    assert_invariant(app, [raw])


def test_two_pollers_resending_one_file_name_at_once_leave_one_current_version(
    tmp_path: Path, postgresql_url: str, dovecot: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL, READ COMMITTED: both pollers read "no version yet" and insert version 1 as current.
    The partial unique index refuses the second; its retry reads the first and makes itself version 2.
    (SQLite serialises writers, so the race cannot happen there.)"""
    first = submission("指标12", [("12-清理情况说明.docx", doc("version A"))], message_id="<va@x>")
    second = submission("指标12", [("12-清理情况说明.docx", doc("version B"))], message_id="<vb@x>")
    deps = app_for(tmp_path, postgresql_url, dovecot)
    both_read = threading.Barrier(2, timeout=30)
    real = bot.ingest.settle.record_submission
    calls = 0

    def record_together(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls <= 2:
            both_read.wait()  # both transactions are open and have written their mail rows
        return real(*args, **kwargs)

    monkeypatch.setattr(bot.ingest.settle, "record_submission", record_together)
    errors: list[BaseException] = []

    def record(raw: bytes, n: int) -> None:
        try:
            process_one(deps, raw, Source(None, None, None, deps.clock()))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=record, args=(raw, n)) for n, raw in enumerate((first, second))]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert errors == []
        assert calls == 3  # one of the two was retried
        with deps.sessions() as s:
            rows = s.execute(select(Assignment.version, Assignment.is_current).order_by(Assignment.version)).all()
        assert [tuple(r) for r in rows] == [(1, False), (2, True)]
        assert_invariant(deps, [first, second])
    finally:
        deps.close()
