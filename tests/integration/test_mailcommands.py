"""The coordinator's commands by mail, end to end: real Dovecot -> poll -> database -> real SMTP server.

Every command is sent as a real mail, answered through the outbox, and its effect read back from the
database (and from ``take_snapshot``, which status, reminders and the digest share).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.app import Deps, with_clock
from bot.coordinator.status import take_snapshot
from bot.ingest.poll import poll_once
from bot.outgoing.sending import flush_outbox
from db.models import Acceptance, Assignment, Attachment, Declaration, Mail, Outbox, ReturnRecord, ReviewItem
from rules.progress import State
from tests.fixtures.smtpd import ReceivedMail, SmtpServer
from tests.support.app import app_for
from tests.support.mails import doc, submission, verified

CST = ZoneInfo("Asia/Shanghai")
T0 = datetime(2021, 10, 20, 10, 0, tzinfo=CST)
COORDINATOR = "coordinator@example.com"


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


@pytest.fixture
def app(tmp_path: Path, db_url: str, dovecot: Any, smtpd_tls: SmtpServer) -> Iterator[Deps]:
    deps = with_clock(app_for(tmp_path, db_url, dovecot, smtp=smtp_config(smtpd_tls)), lambda: T0)
    yield deps
    deps.close()


def command(
    text: str,
    *,
    body: str = "",
    sender: str = COORDINATOR,
    headers: dict[str, str] | None = None,
    mx_auth: str | None = "verified",
) -> bytes:
    """A command mail; by default as our MX stamps one whose From domain passed (``verified``)."""
    auth = verified(sender) if mx_auth == "verified" else mx_auth
    return submission(text, [], sender=sender, name="刘海利", body=body or "\n", headers=headers, mx_auth=auth)


def run(app: Deps) -> None:
    poll_once(app)
    flush_outbox(app, pace_seconds=0)


def text_of(mail: ReceivedMail) -> str:
    msg = mail.message
    assert isinstance(msg, EmailMessage)
    part = msg.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def sent_to(server: SmtpServer, address: str) -> list[ReceivedMail]:
    return [m for m in server.messages if address in m.rcpt_tos]


def state(app: Deps, indicator: str, section: str) -> State:
    with app.sessions() as s:
        snap = take_snapshot(s, app.catalogue)
    item = next(p for p in snap.items if p.indicator.id == indicator)
    return next(o.state for o in item.owners if o.section == section)


def current(app: Deps) -> set[tuple[str, str, str]]:
    with app.sessions() as s:
        rows = s.execute(
            select(Assignment.indicator_id, Assignment.section, Attachment.filename)
            .join(Attachment)
            .where(Assignment.is_current.is_(True))
        ).all()
    return {(r[0], r[1], r[2]) for r in rows}


def test_assign_a_review_item_and_a_file_by_mail(app: Deps, dovecot: Any, smtpd_tls: SmtpServer) -> None:
    dovecot.append(submission("支队材料", [("工作材料.docx", doc("unclear")), ("24-移送清单.pdf", doc("24"))]))
    run(app)
    with app.sessions() as s:
        item = s.scalars(select(ReviewItem).where(ReviewItem.reason == "needs_review")).one()
        file24 = s.scalars(select(Attachment).where(Attachment.filename == "24-移送清单.pdf")).one()
        item_id, file_id = item.id, file24.id
    mid = make_msgid(domain="example.com")
    dovecot.append(
        submission(
            f"指派 R{item_id} 指标12",
            [],
            sender=COORDINATOR,
            body=f"指派 A{file_id} 24 25\n",
            message_id=mid,
            mx_auth=verified(COORDINATOR),
        )
    )
    run(app)
    assert current(app) >= {("12", "支队", "工作材料.docx"), ("24", "支队", "24-移送清单.pdf")}
    assert ("25", "支队", "24-移送清单.pdf") in current(app)
    with app.sessions() as s:
        assert s.get_one(ReviewItem, item_id).status == "resolved"
        kinds = {m.subject: m.kind for m in s.scalars(select(Mail))}
    assert kinds[f"指派 R{item_id} 指标12"] == "command"  # not recorded as a submission
    replies = sent_to(smtpd_tls, COORDINATOR)
    assert len(replies) == 1
    reply = replies[0].message
    assert reply["In-Reply-To"] == mid
    assert str(reply["Subject"]).startswith("指令已执行：")
    body = text_of(replies[0])
    assert "“工作材料.docx”（支队）计入指标12" in body
    assert "计入指标24、25" in body


def test_return_by_replying_to_the_receipt(app: Deps, dovecot: Any, smtpd_tls: SmtpServer) -> None:
    sub_id = make_msgid(domain="example.com")
    dovecot.append(
        submission("指标12-支队-涉企收费清理情况说明", [("清理情况说明.docx", doc("v1"))], message_id=sub_id)
    )
    run(app)
    assert state(app, "12", "支队") is State.RECEIVED
    receipt = sent_to(smtpd_tls, "zhidui@example.com")[0].message
    receipt_id = str(receipt["Message-ID"])

    body = "退回 原因：缺少盖章页，请补充后重新报送。\n\n-----原始邮件-----\n发件人：jzhbjfzk@163.com\n确认 12\n"
    dovecot.append(
        command(
            f"Re: {receipt['Subject']}",
            body=body,
            headers={"In-Reply-To": receipt_id, "References": f"{sub_id} {receipt_id}"},
        )
    )
    run(app)
    # The item is owed again: status and reminders (both read take_snapshot) show it outstanding.
    assert state(app, "12", "支队") is State.OUTSTANDING
    assert ("12", "支队", "清理情况说明.docx") not in current(app)
    with app.sessions() as s:
        record = s.scalars(select(ReturnRecord)).one()
        assert (record.indicator_id, record.section, record.reason, record.source) == (
            "12",
            "支队",
            "缺少盖章页，请补充后重新报送。",
            "mail",
        )
        assert s.scalars(select(Acceptance)).all() == []  # the quoted "确认 12" was not read

    notices = [m for m in sent_to(smtpd_tls, "zhidui@example.com") if "材料退回通知" in str(m.message["Subject"])]
    assert len(notices) == 1
    notice = text_of(notices[0])
    assert "退回原因：缺少盖章页，请补充后重新报送。" in notice
    assert "清理情况说明.docx" in notice and "指标12" in notice
    assert notices[0].message["In-Reply-To"] == sub_id
    reply = text_of(sent_to(smtpd_tls, COORDINATOR)[0])
    assert "已退回支队指标12的材料“清理情况说明.docx”" in reply

    # A corrected file makes the item received again.
    dovecot.append(submission("指标12-支队-情况说明（修改稿）", [("清理情况说明（修改稿）.docx", doc("v2"))]))
    run(app)
    assert state(app, "12", "支队") is State.RECEIVED


def test_return_by_indicator_accept_declare_status_help(app: Deps, dovecot: Any, smtpd_tls: SmtpServer) -> None:
    dovecot.append(submission("指标7", [("监管情况说明.docx", doc("7"))]))
    dovecot.append(submission("指标12", [("清理情况.docx", doc("12"))]))
    run(app)
    dovecot.append(
        command(
            "指令",
            body="刘科长：\n确认 指标7\n退回 指标12 支队 原因：未写清理数量\n不涉及 指标45 人事科\n状态\n帮助\n\n谢谢",
        )
    )
    run(app)
    assert state(app, "7", "支队") is State.ACCEPTED
    assert state(app, "12", "支队") is State.OUTSTANDING
    assert state(app, "45", "人事科") is State.NOT_APPLICABLE
    with app.sessions() as s:
        decl = s.scalars(select(Declaration)).one()
        assert (decl.indicator_id, decl.section, decl.source) == ("45", "人事科", "coordinator")
    replies = sent_to(smtpd_tls, COORDINATOR)
    subjects = sorted(str(m.message["Subject"]) for m in replies)
    assert len(replies) == 2  # the command reply and the digest
    assert any(s.startswith("【进度汇总】") for s in subjects)
    answer = text_of(next(m for m in replies if str(m.message["Subject"]).startswith("指令")))
    assert "已确认：指标7（支队）" in answer
    assert "已退回支队指标12" in answer
    assert "已登记人事科指标45不涉及" in answer
    assert "可用指令" in answer  # help

    # A later file for an accepted item needs checking again.
    dovecot.append(submission("指标7 补充", [("监管补充说明.docx", doc("7b"))]))
    run(app)
    assert state(app, "7", "支队") is State.RECEIVED


def test_errors_are_answered_and_do_not_undo_other_commands(app: Deps, dovecot: Any, smtpd_tls: SmtpServer) -> None:
    dovecot.append(submission("指标7", [("监管情况说明.docx", doc("7"))]))
    run(app)
    dovecot.append(command("确认 指标7", body="退回 A999 原因：不清楚\n不涉及 指标45 支队\n退回 A1\n确认 指标7 全部\n"))
    run(app)
    assert state(app, "7", "支队") is State.ACCEPTED
    reply = sent_to(smtpd_tls, COORDINATOR)[0]
    assert str(reply.message["Subject"]).startswith("指令未执行：")
    body = text_of(reply)
    assert "没有编号为 A999 的文件" in body
    assert "指标45的责任单位是财审科、人事科，不包括支队" in body
    assert "请写明退回原因" in body
    assert "无法识别“全部”" in body
    with app.sessions() as s:
        assert s.scalars(select(ReturnRecord)).all() == []
        assert s.scalars(select(Declaration)).all() == []


def test_commands_from_others_are_not_obeyed(app: Deps, dovecot: Any, smtpd_tls: SmtpServer) -> None:
    dovecot.append(submission("指标7", [("监管情况说明.docx", doc("7"))]))
    run(app)
    dovecot.append(command("确认 指标7", sender="zhidui@example.com"))
    run(app)
    assert state(app, "7", "支队") is State.RECEIVED
    with app.sessions() as s:
        mail = s.scalars(select(Mail).where(Mail.subject == "确认 指标7")).one()
        assert mail.kind == "submission"  # treated as an ordinary mail
        refused = s.scalars(select(ReviewItem).where(ReviewItem.reason == "command_refused")).one()
    assert "不是协调人" in refused.detail and "确认 指标7" in refused.detail
    assert sent_to(smtpd_tls, COORDINATOR) == []


def test_commands_failing_authentication_wait_for_the_confirmation_code(
    app: Deps, dovecot: Any, smtpd_tls: SmtpServer
) -> None:
    dovecot.append(submission("指标7", [("监管情况说明.docx", doc("7"))]))
    run(app)
    dovecot.append(command("确认 指标7", mx_auth="dkim=fail header.d=example.com; spf=fail smtp.mailfrom=example.com"))
    run(app)
    assert state(app, "7", "支队") is State.RECEIVED  # not run
    # Not an ordinary mail either (no receipt): a held command, and a request to confirm it.
    [request] = sent_to(smtpd_tls, COORDINATOR)
    assert str(request.message["Subject"]).startswith("【待确认指令】确认码 ")
    assert "dkim=fail" in text_of(request)
    with app.sessions() as s:
        mail = s.scalars(select(Mail).where(Mail.subject == "确认 指标7")).one()
        assert mail.kind == "command"
        assert s.scalars(select(ReviewItem).where(ReviewItem.reason == "command_pending")).one().mail_id == mail.id
        assert len(s.scalars(select(Outbox).where(Outbox.kind == "receipt")).all()) == 1  # the first mail's


def test_authentication_check_can_be_switched_off(app: Deps, dovecot: Any, smtpd_tls: SmtpServer) -> None:
    relaxed = replace(
        app, config=replace(app.config, coordinator=replace(app.config.coordinator, require_auth_pass=False))
    )
    dovecot.append(submission("指标7", [("监管情况说明.docx", doc("7"))]))
    run(relaxed)
    dovecot.append(command("确认 指标7", headers={"Authentication-Results": "mx.163.com; dkim=fail"}))
    run(relaxed)
    assert state(relaxed, "7", "支队") is State.ACCEPTED


def test_a_coordinator_mail_with_files_is_material_not_a_command(
    app: Deps, dovecot: Any, smtpd_tls: SmtpServer
) -> None:
    """法规科's coordinator also sends her own section's files; "确认指标12材料" with an attachment
    must record the file, not accept indicator 12 and drop it."""
    dovecot.append(
        submission("确认指标12材料", [("12-清理情况说明.docx", doc("12 by coordinator"))], sender=COORDINATOR)
    )
    run(app)
    with app.sessions() as s:
        mail = s.scalars(select(Mail).where(Mail.subject == "确认指标12材料")).one()
        assert mail.kind == "submission"
        assert [a.filename for a in mail.attachments] == ["12-清理情况说明.docx"]
        refused = s.scalars(select(ReviewItem).where(ReviewItem.reason == "command_refused")).one()
    assert "带有附件" in refused.detail
    assert state(app, "12", "支队") is State.OUTSTANDING  # nothing was accepted
