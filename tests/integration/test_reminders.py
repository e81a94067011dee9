"""Reminders at their slots, with an injected ``now``, against a real SMTP server and database.

Campaign of tests/support/app.py: deadline 2021-10-28 (Asia/Shanghai), sections 支队, 法规科, 服务科 and
财审科 with owners; the checklist's other sections (人事科, 办公室, 综合科, 宣教科) have none.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, time
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.app import Deps, build, with_clock
from bot.config import RemindersConfig
from bot.outgoing.reminders import due_reminders, send_reminders
from bot.outgoing.sending import flush_outbox
from bot.scheduler import run_reminder_job
from db.models import Outbox
from db.upserts import ensure_declaration
from tests.fixtures.smtpd import SmtpServer
from tests.support.app import config_for

CST = ZoneInfo("Asia/Shanghai")
OWNED = ["服务科", "财审科", "支队", "法规科"]  # checklist order


def at(day: int, hour: int = 9, minute: int = 0) -> datetime:
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
    cfg = replace(cfg, reminders=RemindersConfig(days_before=(7, 3, 1, 0), overdue_every_days=1, at=time(9, 0)))
    deps = build(cfg)
    yield deps
    deps.close()


def remind(deps: Deps, now: datetime) -> list[str]:
    """Send what is due at ``now``; the sections reminded."""
    run = send_reminders(deps, now, flush=False)
    flush_outbox(deps, now=now, pace_seconds=0)
    return [r.section for r in run.queued]


def keys(deps: Deps) -> list[str]:
    with deps.sessions() as s:
        return sorted(s.scalars(select(Outbox.dedupe_key).where(Outbox.kind == "reminder")))


def plain(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    text: str = body.get_content()
    return text


def test_nothing_before_the_first_slot(app: Deps) -> None:
    assert due_reminders(app, at(21, 8, 59)) == []
    assert due_reminders(app, at(20, 23, 0)) == []


def test_slots_before_on_and_after_the_deadline(app: Deps, smtpd_tls: SmtpServer) -> None:
    assert remind(app, at(21)) == OWNED  # 7 days before
    first = {m.rcpt_tos: m.message for m in smtpd_tls.messages}
    zhidui = first[("zhidui@example.com",)]
    assert str(zhidui["Subject"]) == "【报送提醒】焦作市生态环境局依法行政示范单位创建材料报送（支队，距截止7天）"
    assert zhidui["Auto-Submitted"] == "auto-generated"
    assert zhidui["Cc"] is None
    text = plain(zhidui)
    assert "刘建设同志" in text
    assert "指标12：" in text and "应报材料：" in text and "材料时限：" in text
    assert "例如：指标7-支队-监管工作的情况说明" in text
    assert "2021年10月28日" in text

    assert remind(app, at(22)) == []  # between slots
    assert remind(app, at(25)) == OWNED  # 3 days before
    assert remind(app, at(27, 9, 30)) == OWNED  # 1 day before
    assert remind(app, at(28)) == OWNED  # the deadline day
    deadline_day = smtpd_tls.messages[-1].message
    assert "今日截止" in str(deadline_day["Subject"])
    assert deadline_day["Cc"] is None

    before = len(smtpd_tls.messages)
    assert remind(app, at(29)) == OWNED  # overdue, every day
    overdue = smtpd_tls.messages[before:]
    assert all("coordinator@example.com" in m.rcpt_tos for m in overdue)
    assert all(str(m.message["Cc"]) == "coordinator@example.com" for m in overdue)
    assert "已逾期1天" in str(overdue[0].message["Subject"])
    assert "本提醒同时抄送法规科" in plain(overdue[0].message)
    assert remind(app, datetime(2021, 10, 30, 9, 0, tzinfo=CST)) == OWNED
    assert len(keys(app)) == 4 * 6


def test_same_slot_twice_sends_once(app: Deps, smtpd_tls: SmtpServer) -> None:
    assert remind(app, at(21)) == OWNED
    assert remind(app, at(21, 9, 1)) == []
    assert remind(app, at(21, 18)) == []
    assert len(smtpd_tls.messages) == 4
    assert keys(app) == sorted(f"reminder:{s}:2021-10-21" for s in OWNED)


def test_a_section_that_owes_nothing_gets_nothing(app: Deps) -> None:
    with app.sessions.begin() as s:
        for indicator in app.catalogue.for_section("财审科"):
            ensure_declaration(s, indicator.id, "财审科", mail_id=None, source="coordinator")
    assert remind(app, at(21)) == ["服务科", "支队", "法规科"]


def test_restart_across_slots_catches_up_once(app: Deps, smtpd_tls: SmtpServer) -> None:
    assert remind(app, at(21)) == OWNED
    # Down from the 22nd until the 27th 10:00: the 25th and 27th slots were missed; only the latest
    # is sent, once, however often the job runs after the restart.
    clocked = with_clock(app, lambda: at(27, 10))
    run_reminder_job(clocked)
    run_reminder_job(clocked)
    assert keys(app) == sorted(
        [f"reminder:{s}:2021-10-21" for s in OWNED] + [f"reminder:{s}:2021-10-27" for s in OWNED]
    )
    assert len(smtpd_tls.messages) == 8
    assert "距截止1天" in str(smtpd_tls.messages[-1].message["Subject"])


def test_dry_run_records_nothing(app: Deps, smtpd_tls: SmtpServer) -> None:
    run = send_reminders(app, at(21), dry_run=True)
    assert [r.section for r in run.due] == OWNED
    assert run.queued == [] and keys(app) == [] and smtpd_tls.messages == []
    assert remind(app, at(21)) == OWNED
