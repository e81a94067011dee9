"""The confirmation code end to end (real Dovecot, real SMTP sink, SQLite and PostgreSQL): a command that
could not be verified is held; the code goes to the coordinator's configured address; her plain reply
runs it once, within 24 hours, and the answer echoes it in Chinese. Also the daily cap on receipts to
strangers, and a rescan that must not record anything twice."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from email.utils import make_msgid
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.app import Deps, with_clock
from bot.ingest.poll import poll_once
from bot.outgoing.sending import flush_outbox
from db.models import Acceptance, Mail, MailboxCursor, PendingCommand, ReviewItem
from tests.fixtures.smtpd import ReceivedMail, SmtpServer
from tests.integration.test_mailcommands import smtp_config, text_of
from tests.support.app import app_for
from tests.support.mails import doc, submission

CST = ZoneInfo("Asia/Shanghai")
T0 = datetime(2021, 10, 20, 10, 0, tzinfo=CST)
COORDINATOR = "coordinator@example.com"


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def app(tmp_path: Path, db_url: str, dovecot: Any, smtpd_tls: SmtpServer, clock: Clock) -> Iterator[Deps]:
    deps = with_clock(app_for(tmp_path, db_url, dovecot, smtp=smtp_config(smtpd_tls)), clock)
    yield deps
    deps.close()


def run(app: Deps) -> None:
    poll_once(app)
    flush_outbox(app, now=app.clock(), pace_seconds=0)


def to_coordinator(server: SmtpServer) -> list[ReceivedMail]:
    return [m for m in server.messages if COORDINATOR in m.rcpt_tos]


def accepted(app: Deps) -> set[tuple[str, str]]:
    with app.sessions() as s:
        return {(a.indicator_id, a.section) for a in s.scalars(select(Acceptance))}


def reply(subject: str, body: str = "\n", *, sender: str = COORDINATOR) -> bytes:
    """What the coordinator's client sends back: "Re:" and the subject, no Authentication-Results."""
    return submission(f"Re: {subject}", [], sender=sender, name="刘海利", body=body)


def held_command(app: Deps, dovecot: Any, smtpd_tls: SmtpServer, text: str = "确认 指标7") -> tuple[str, str]:
    """A 支队 file for 7, then an unverified command: returns the request's subject and its code."""
    dovecot.append(submission("指标7", [("监管情况说明.docx", doc("7"))]))
    mid = make_msgid(domain="example.com")
    dovecot.append(submission(text, [], sender="Coordinator@Example.com", name="刘海利", body="\n", message_id=mid))
    run(app)
    [request] = to_coordinator(smtpd_tls)
    subject = str(request.message["Subject"])
    assert request.rcpt_tos == (COORDINATOR,)  # the configured spelling, not the header's
    assert request.message["In-Reply-To"] == mid  # threads under the held command in her client
    code = subject.split("确认码 ", 1)[1][:8]
    assert f"确认码 {code} 会随回复带回" in text_of(request)
    return subject, code


def test_a_plain_reply_runs_the_held_command_once(app: Deps, dovecot: Any, smtpd_tls: SmtpServer) -> None:
    subject, code = held_command(app, dovecot, smtpd_tls)
    assert accepted(app) == set()
    with app.sessions() as s:
        assert s.scalars(select(ReviewItem).where(ReviewItem.reason == "command_pending")).one().status == "open"

    dovecot.append(reply(subject))
    run(app)
    assert accepted(app) == {("7", "支队")}
    answer = to_coordinator(smtpd_tls)[-1]
    assert str(answer.message["Subject"]).startswith("指令已执行：确认 指标7")
    echoed = text_of(answer)
    assert f"已凭确认码 {code} 执行您" in echoed and "已确认：指标7（支队）" in echoed
    with app.sessions() as s:
        pending = s.scalars(select(PendingCommand)).one()
        assert pending.status == "done" and pending.confirmed_mail_id is not None
        assert s.scalars(select(ReviewItem).where(ReviewItem.reason == "command_pending")).one().status == "resolved"
        assert s.get_one(Mail, pending.confirmed_mail_id).kind == "command"

    # The same code again (a second reply, or someone who saw it): used, nothing runs twice.
    dovecot.append(reply(subject, "再确认一次"))
    run(app)
    again = to_coordinator(smtpd_tls)[-1]
    assert "已使用过" in text_of(again) and str(again.message["Subject"]).startswith("指令未执行：确认码")
    with app.sessions() as s:
        assert len(s.scalars(select(Acceptance)).all()) == 1

    # A new command written in that old thread is a new command (held for its own code), not a reuse.
    dovecot.append(reply(subject, "不涉及 指标45 人事科\n\n-----原始邮件-----\n确认码 " + code))
    run(app)
    newest = str(to_coordinator(smtpd_tls)[-1].message["Subject"])
    assert newest.startswith("【待确认指令】确认码 ") and code not in newest
    with app.sessions() as s:
        assert [p.status for p in s.scalars(select(PendingCommand).order_by(PendingCommand.id))] == ["done", "pending"]


def test_the_code_expires_after_24_hours(app: Deps, dovecot: Any, smtpd_tls: SmtpServer, clock: Clock) -> None:
    subject, _ = held_command(app, dovecot, smtpd_tls)
    clock.now = T0 + timedelta(hours=24, minutes=1)
    dovecot.append(reply(subject))
    run(app)
    assert accepted(app) == set()
    assert "已过期" in text_of(to_coordinator(smtpd_tls)[-1])


def test_only_a_coordinator_address_can_use_the_code(app: Deps, dovecot: Any, smtpd_tls: SmtpServer) -> None:
    subject, _ = held_command(app, dovecot, smtpd_tls)
    dovecot.append(reply(subject, sender="zhidui@example.com"))  # the code leaked to someone else
    run(app)
    assert accepted(app) == set()
    with app.sessions() as s:
        assert s.scalars(select(PendingCommand)).one().status == "pending"


def test_a_verified_command_runs_at_once_and_require_auth_pass_false_trusts_the_address(
    app: Deps, dovecot: Any, smtpd_tls: SmtpServer
) -> None:
    relaxed = replace(
        app, config=replace(app.config, coordinator=replace(app.config.coordinator, require_auth_pass=False))
    )
    dovecot.append(submission("指标7", [("监管情况说明.docx", doc("7"))]))
    dovecot.append(submission("确认 指标7", [], sender=COORDINATOR, name="刘海利", body="\n"))
    run(relaxed)
    assert accepted(relaxed) == {("7", "支队")}  # no code: the configuration trusts the address alone
    assert [str(m.message["Subject"]) for m in to_coordinator(smtpd_tls)] == ["指令已执行：确认 指标7"]


def test_strangers_receipts_have_their_own_daily_cap(app: Deps, dovecot: Any, smtpd_tls: SmtpServer) -> None:
    capped = replace(
        app, config=replace(app.config, receipts=replace(app.config.receipts, max_stranger_receipts_per_day=2))
    )
    for n in range(3):
        dovecot.append(submission(f"指标1{n}", [(f"{10 + n}-材料.pdf", doc(f"s{n}"))], sender=f"new{n}@jz.gov.cn"))
    dovecot.append(submission("指标24", [("24-移送清单.pdf", doc("24"))]))  # a section is never capped by them
    run(capped)
    assert sorted(r for m in smtpd_tls.messages for r in m.rcpt_tos) == [
        "new0@jz.gov.cn",
        "new1@jz.gov.cn",
        "zhidui@example.com",
    ]
    with capped.sessions() as s:
        assert len(s.scalars(select(Mail).where(Mail.kind == "submission")).all()) == 4  # all recorded


def test_a_rescan_records_nothing_twice(app: Deps, dovecot: Any, smtpd_tls: SmtpServer) -> None:
    """Rescanning (as after a UIDVALIDITY change) finds every mail already recorded: by its bytes, and
    by Message-ID with its sender."""
    dovecot.append(submission("指标7", [("监管情况说明.docx", doc("7"))]))
    dovecot.append(submission("指标12", [("清理情况.pdf", doc("12"))], sender="stranger@jz.gov.cn"))
    run(app)
    with app.sessions.begin() as s:
        s.execute(MailboxCursor.__table__.delete())
    report = poll_once(app)
    assert (report.mails, report.duplicates) == (0, 2)
