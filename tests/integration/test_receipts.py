"""Receipts end to end: a mail in real Dovecot -> poll -> receipt accepted by a real SMTP server.

The clock is injected (``with_clock``); flushes run with ``pace_seconds=0`` so nothing sleeps.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot.app import Deps, with_clock
from bot.config import ReceiptsConfig
from bot.ingest.poll import poll_once
from bot.outgoing.messages import LOOP_HEADER
from bot.outgoing.sending import flush_outbox
from db.models import Mail, Outbox, ReviewItem
from tests.fixtures.smtpd import SmtpServer
from tests.support.app import app_for
from tests.support.mails import auto_reply, doc, submission

CST = ZoneInfo("Asia/Shanghai")
T0 = datetime(2021, 10, 20, 10, 0, tzinfo=CST)


def smtp_config(server: SmtpServer) -> dict[str, Any]:
    return {
        "host": server.host,
        "port": server.port,
        "ssl": server.ssl,
        "ca_file": server.ca_file,
        "username": server.username,
        "from": server.username,
        "_password": server.password,
    }


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


@pytest.fixture
def app(tmp_path: Path, db_url: str, dovecot: Any, smtpd_tls: SmtpServer, clock: Clock) -> Iterator[Deps]:
    deps = with_clock(app_for(tmp_path, db_url, dovecot, smtp=smtp_config(smtpd_tls)), clock)
    yield deps
    deps.close()


def send(deps: Deps, now: datetime | None = None) -> None:
    flush_outbox(deps, now=now, pace_seconds=0)


def outbox(deps: Deps) -> list[Outbox]:
    with deps.sessions() as s:
        return list(s.scalars(select(Outbox).order_by(Outbox.id)))


def test_submission_gets_a_threaded_chinese_receipt(app: Deps, dovecot: Any, smtpd_tls: SmtpServer) -> None:
    mid = make_msgid(domain="example.com")
    dovecot.append(
        submission(
            "指标12-支队-涉企收费清理情况说明",
            [("涉企收费清理情况说明.docx", doc("12")), ("扫描件001.jpg", doc("scan"))],
            message_id=mid,
            headers={"References": "<older@example.com>"},
        )
    )
    poll_once(app)
    send(app)
    assert len(smtpd_tls.messages) == 1
    got = smtpd_tls.messages[0]
    assert got.rcpt_tos == ("zhidui@example.com",)
    assert got.mail_from == smtpd_tls.username
    msg = got.message
    assert msg["In-Reply-To"] == mid
    assert msg["References"].split() == ["<older@example.com>", mid]
    assert msg["Auto-Submitted"] == "auto-replied"
    assert msg[LOOP_HEADER] == smtpd_tls.username
    assert str(msg["Subject"]) == "回执：指标12-支队-涉企收费清理情况说明"
    assert isinstance(msg, EmailMessage)
    body = msg.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert "刘建设同志" in text
    assert "涉企收费清理情况说明.docx" in text
    assert "登记为指标12：" in text
    assert "材料时限：2019年以来" in text
    assert "支队尚未报送的指标" in text
    assert "扫描件001.jpg" in text  # went to review, and the receipt says so
    html = msg.get_body(("html",))
    assert html is not None and "指标12" in html.get_content()

    # A second poll and flush send nothing again.
    poll_once(app)
    send(app, T0 + timedelta(hours=1))
    assert len(smtpd_tls.messages) == 1
    assert [r.status for r in outbox(app)] == ["sent"]


def bounce(original_subject: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = "MAILER-DAEMON@163.com"
    msg["To"] = "jzhbjfzk@163.com"
    msg["Subject"] = "系统退信"
    msg["Message-ID"] = make_msgid(domain="163.com")
    msg.set_content("邮件无法投递")
    msg.make_mixed()
    report = EmailMessage()
    report.set_content("Final-Recipient: rfc822; nobody@example.com\nAction: failed\nStatus: 5.1.1\n")
    msg.attach(report)
    raw = msg.as_bytes().replace(b"multipart/mixed", b'multipart/report; report-type="delivery-status"', 1)
    return raw


def test_automatic_and_list_mail_get_no_receipt(app: Deps, dovecot: Any, smtpd_tls: SmtpServer) -> None:
    dovecot.append(auto_reply("回执：指标12"))
    dovecot.append(bounce("回执：指标12"))
    dovecot.append(
        submission("[环保通讯] 指标12 政策解读", [("解读.pdf", doc("list"))], headers={"List-Id": "<news.example.com>"})
    )
    dovecot.append(submission("指标12", [("a.pdf", doc("noreply"))], sender="noreply@example.com"))
    dovecot.append(
        submission("指标24", [("b.pdf", doc("suppress"))], sender="fgk@example.com",
                   headers={"X-Auto-Response-Suppress": "All"})
    )  # fmt: skip
    dovecot.append(submission("指标24", [("c.pdf", doc("loop"))], sender="fgk@example.com",
                              headers={LOOP_HEADER: "jzhbjfzk@163.com"}))  # fmt: skip
    report = poll_once(app)
    send(app)
    assert report.mails == 6
    with app.sessions() as s:
        kinds = sorted(s.scalars(select(Mail.kind)))
    # The X-Auto-Response-Suppress mail is a real submission (Outlook's "send to"), still not answered.
    assert kinds == ["auto_reply", "bounce", "newsletter", "newsletter", "own", "submission"]
    assert outbox(app) == []
    assert smtpd_tls.messages == []


def test_receipts_per_address_are_capped_per_local_day(app: Deps, dovecot: Any, clock: Clock) -> None:
    app.config = replace(app.config, receipts=ReceiptsConfig(max_per_address_per_day=2))
    for n in range(4):
        dovecot.append(submission(f"指标{12 + n}", [(f"{n}.pdf", doc(f"cap {n}"))]))
    poll_once(app)
    with app.sessions() as s:
        receipts = s.scalar(select(func.count()).select_from(Outbox).where(Outbox.kind == "receipt"))
        capped = list(s.scalars(select(ReviewItem).where(ReviewItem.reason == "receipt_capped")))
        mails = s.scalar(select(func.count()).select_from(Mail))
    assert (mails, receipts) == (4, 2)  # every mail recorded, two answered
    assert len(capped) == 1 and "每日上限" in capped[0].detail  # shown once to the coordinator

    # Past local midnight (16:00 UTC) the count starts again.
    clock.now = datetime(2021, 10, 21, 0, 5, tzinfo=CST)
    assert clock.now.astimezone(UTC).date().isoformat() == "2021-10-20"
    dovecot.append(submission("指标20", [("n.pdf", doc("next day"))]))
    poll_once(app)
    with app.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Outbox).where(Outbox.kind == "receipt")) == 3


def test_unknown_sender_is_told_the_file_counts_for_no_section_yet(
    app: Deps, dovecot: Any, smtpd_tls: SmtpServer
) -> None:
    dovecot.append(submission("指标12材料", [("x.pdf", doc("x"))], sender="stranger@qq.com", name=""))
    poll_once(app)
    send(app)
    (got,) = smtpd_tls.messages
    body = got.message.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert got.rcpt_tos == ("stranger@qq.com",)
    assert "不在各科室报送人名单中" in text
    assert "待报送指标将由法规科人工核对后告知" in text


def test_a_file_in_review_is_explained_once_with_what_to_write_next_time(
    app: Deps, dovecot: Any, smtpd_tls: SmtpServer
) -> None:
    # From 支队 (zhidui@): 24's number and words agree, so the covering note's 12 does not matter; 30's
    # "情况说明" cannot settle the conflict.
    files = [("24-行刑衔接案件移送清单.xlsx", doc("24")), ("30-情况说明.docx", doc("30"))]
    dovecot.append(submission("指标12-支队", files))
    poll_once(app)
    send(app)
    body = smtpd_tls.messages[0].message.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert "登记为指标24：" in text
    why = "30-情况说明.docx：文件名中的编号30与邮件主题中的编号12不一致"
    assert why in text
    line = next(line for line in text.splitlines() if why in line)
    assert "今后请" in line  # what to write next time, on the same line
    assert text.count("文件名中的编号30与邮件主题中的编号12不一致") == 1  # not again among the problems
    with app.sessions() as s:
        (item,) = s.scalars(select(ReviewItem))
    assert item.detail.startswith("文件名中的编号30与邮件主题中的编号12不一致")  # the coordinator's view
    assert item.candidates[:2] == ["30", "12"]


def test_possibly_classified_file_reminds_that_classified_material_is_not_mailed(
    app: Deps, dovecot: Any, smtpd_tls: SmtpServer
) -> None:
    dovecot.append(submission("指标12", [("内部会议纪要（机密）.pdf", doc("secret"))]))
    poll_once(app)
    send(app)
    body = smtpd_tls.messages[0].message.get_body(("plain",))
    assert body is not None
    assert "涉密材料不通过邮件报送" in body.get_content()


def test_no_smtp_section_means_no_receipt(tmp_path: Path, db_url: str, dovecot: Any) -> None:
    deps = with_clock(app_for(tmp_path, db_url, dovecot), lambda: T0)
    try:
        dovecot.append(submission("指标12", [("a.pdf", doc("a"))]))
        report = poll_once(deps)
        assert report.mails == 1
        assert outbox(deps) == []
        assert flush_outbox(deps) is None
    finally:
        deps.close()


def test_receipt_and_mail_commit_together(app: Deps, dovecot: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The process dying while queuing the receipt records nothing; the next poll records mail and
    receipt. (A BaseException stands for the crash: ordinary exceptions are bugs, which the poll
    records as an error mail and goes on.)"""
    import bot.outgoing.receipts

    class Crash(BaseException):
        pass

    def broken(*args: object, **kwargs: object) -> None:
        raise Crash("crash while queuing the receipt")

    dovecot.append(submission("指标12", [("a.pdf", doc("atomic"))]))
    monkeypatch.setattr(bot.outgoing.receipts, "enqueue", broken)
    with pytest.raises(Crash):
        poll_once(app)
    with app.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Mail)) == 0
    monkeypatch.undo()
    assert poll_once(app).mails == 1
    assert [r.kind for r in outbox(app)] == ["receipt"]


def test_temporary_refusal_is_retried_on_a_later_flush(app: Deps, dovecot: Any, smtpd_tls: SmtpServer) -> None:
    dovecot.append(submission("指标12", [("a.pdf", doc("retry"))]))
    poll_once(app)
    smtpd_tls.fail_next(451, "DT:SPM 163 smtp14,temporarily deferred")
    report = flush_outbox(app, now=T0, pace_seconds=0)
    assert report is not None and (report.sent, report.retry) == (0, 1)
    assert smtpd_tls.messages == []
    report = flush_outbox(app, now=T0 + timedelta(minutes=1), pace_seconds=0)
    assert report is not None and report.attempted == 0  # not due yet
    report = flush_outbox(app, now=T0 + timedelta(minutes=3), pace_seconds=0)
    assert report is not None and report.sent == 1
    assert len(smtpd_tls.messages) == 1
    assert [r.status for r in outbox(app)] == ["sent"]
