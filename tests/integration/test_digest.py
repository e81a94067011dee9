"""The daily digest with an injected ``now``, against a real SMTP server and database."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.app import Deps, build
from bot.outgoing.digest import build_digest, send_digest, write_digest_html
from bot.outgoing.messages import build_message, make_message_id
from bot.outgoing.outbox import enqueue
from bot.outgoing.render import render
from bot.outgoing.sending import flush_outbox
from db.models import CloudFile, Mail, Outbox
from tests.fixtures.smtpd import SmtpServer
from tests.support.app import config_for

CST = ZoneInfo("Asia/Shanghai")


def at(day: int, hour: int = 17, minute: int = 30) -> datetime:
    return datetime(2021, 10, day, hour, minute, tzinfo=CST)


@pytest.fixture
def app(tmp_path: Path, db_url: str, smtpd_tls: SmtpServer) -> Iterator[Deps]:
    smtp = {
        "host": smtpd_tls.host,
        "port": smtpd_tls.port,
        "ssl": True,
        "ca_file": smtpd_tls.ca_file,
        "username": smtpd_tls.username,
        "_password": smtpd_tls.password,
    }
    cfg = config_for(tmp_path, db_url, host="127.0.0.1", port=1, username="jzhbjfzk@163.com", password="x", smtp=smtp)
    deps = build(cfg)
    yield deps
    deps.close()


def digest(deps: Deps, now: datetime) -> bool:
    run = send_digest(deps, now, flush=False)
    flush_outbox(deps, now=now, pace_seconds=0)
    return run.queued


def add_mail(deps: Deps, n: int, *, processed_at: datetime, **values: object) -> int:
    with deps.sessions.begin() as s:
        row = Mail(
            dedupe_key=f"<m{n}@example.com>",
            message_id=f"<m{n}@example.com>",
            raw_sha256="0" * 64,
            raw_path=f"mail/{n}.eml",
            from_addr=str(values.pop("from_addr", "zhidui@example.com")),
            subject=str(values.pop("subject", f"指标{n}")),
            received_at=processed_at,
            processed_at=processed_at,
            section=values.pop("section", "支队"),
            kind=str(values.pop("kind", "submission")),
            status=str(values.pop("status", "recorded")),
            **values,
        )
        s.add(row)
        s.flush()
        return row.id


def keys(deps: Deps) -> list[str]:
    with deps.sessions() as s:
        return sorted(s.scalars(select(Outbox.dedupe_key)))


def test_digest_is_sent_once_a_day_at_its_time(app: Deps, smtpd_tls: SmtpServer) -> None:
    # The very first run catches up the latest digest time that has passed (yesterday's), once.
    assert digest(app, at(20, 17, 29)) is True
    assert digest(app, at(20, 17, 29)) is False
    assert keys(app) == ["digest:2021-10-19"]
    assert digest(app, at(20)) is True
    assert digest(app, at(20, 17, 31)) is False
    assert digest(app, at(20, 23, 59)) is False
    assert keys(app) == ["digest:2021-10-19", "digest:2021-10-20"]
    assert len(smtpd_tls.messages) == 2
    got = smtpd_tls.messages[-1]
    assert got.rcpt_tos == ("coordinator@example.com",)
    assert str(got.message["Subject"]) == "【进度汇总】焦作市生态环境局依法行政示范单位创建（2021年10月20日）"
    assert got.message["Auto-Submitted"] == "auto-generated"
    assert digest(app, at(21, 8)) is False  # before the 21st's time
    # Down from the 21st 08:00 to the 23rd 09:00: one digest (the 22nd's), then the 23rd's at 17:30.
    assert digest(app, at(23, 9)) is True
    assert digest(app, at(23, 9, 5)) is False
    assert digest(app, at(23)) is True
    assert keys(app)[-2:] == ["digest:2021-10-22", "digest:2021-10-23"]
    assert len(smtpd_tls.messages) == 4


def test_arrivals_since_the_previous_digest(app: Deps) -> None:
    add_mail(app, 12, processed_at=at(20, 10))
    assert digest(app, at(20))
    add_mail(app, 24, processed_at=at(21, 9), from_addr="stranger@qq.com", section=None)
    context = build_digest(app, at(21))
    assert context.since == at(20)
    assert [(a.sender, a.section, a.subject) for a in context.arrivals] == [("stranger@qq.com", None, "指标24")]


def test_permanent_refusal_shows_in_the_next_digest(app: Deps, smtpd_tls: SmtpServer) -> None:
    now = at(20, 10)
    message = build_message(
        "receipt",
        ["zhidui@example.com"],
        "回执：指标12",
        "正文",
        "<p>正文</p>",
        from_addr=smtpd_tls.username,
        message_id=make_message_id("receipt:<x@example.com>", "163.com"),
        date=now,
    )
    with app.sessions.begin() as s:
        enqueue(s, kind="receipt", dedupe_key="receipt:<x@example.com>", message=message, now=now)
    smtpd_tls.fail_next(554, "DT:SPM 163 smtp3, content rejected")
    report = flush_outbox(app, now=now, pace_seconds=0)
    assert report is not None and report.failed == 1
    assert digest(app, at(20))
    text = smtpd_tls.messages[-1].message.get_body(("plain",))
    assert text is not None
    body = text.get_content()
    assert "十一、发送失败的邮件（1封）" in body
    assert "554 DT:SPM" in body and "zhidui@example.com" in body


def test_overdue_sections_expiring_cloud_files_errors_and_unreachable_sections(app: Deps) -> None:
    mail_id = add_mail(app, 1, processed_at=at(27, 9))
    with app.sessions.begin() as s:
        s.add(CloudFile(mail_id=mail_id, filename="执法视频.zip", url="https://mail.163.com/la/1", provider="163",
                        size_text="1.2G", expires_at=at(31, 10), status="pending"))  # fmt: skip
        s.add(CloudFile(mail_id=mail_id, filename="later.zip", url="https://mail.163.com/la/2", provider="163",
                        expires_at=at(31, 10) + timedelta(days=10), status="pending"))  # fmt: skip
    add_mail(app, 2, processed_at=at(27, 9), kind="unparseable", status="error", error="附件解压失败", section=None)
    context = build_digest(app, at(29))
    assert context.days_left == -1
    assert {o.section for o in context.overdue_sections} == set(app.catalogue.sections)
    assert all(o.days_overdue == 1 for o in context.overdue_sections)
    assert [c.filename for c in context.cloud_expiring] == ["执法视频.zip"]
    assert [e.error for e in context.errors] == ["附件解压失败"]
    assert any(n.startswith("人事科尚缺") for n in context.notices)
    assert not any(n.startswith("支队") for n in context.notices)  # 支队 has owners
    assert all(r.id != 0 for r in context.review_queue)
    text, html = render("digest", context)
    assert "【请协调人处理】" in text and "人事科尚缺" in html
    # Before the deadline nothing is overdue.
    assert build_digest(app, at(20)).overdue_sections == ()


def test_progress_lines_and_html_file(app: Deps, tmp_path: Path) -> None:
    context = build_digest(app, at(20))
    assert context.overall.total == sum(s.progress.total for s in context.by_section)
    assert [s.progress.label for s in context.by_section] == list(app.catalogue.sections)
    path = write_digest_html(app, tmp_path / "out" / "digest.html", at(20))
    html = path.read_text(encoding="utf-8")
    assert "<table" in html and "按科室" in html and "<script" not in html
    with app.sessions() as s:
        assert list(s.scalars(select(Outbox))) == []  # writing the file records nothing


def test_dry_run_records_nothing(app: Deps, smtpd_tls: SmtpServer) -> None:
    run = send_digest(app, at(20), dry_run=True)
    assert run.slot is not None and run.context is not None and not run.queued
    with app.sessions() as s:
        assert list(s.scalars(select(Outbox))) == []
    assert digest(app, at(20))
    with app.sessions() as s:
        row = s.scalars(select(Outbox)).one()
    assert (row.status, row.created_at) == ("sent", at(20))
