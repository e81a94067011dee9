"""``intake run``'s wiring (jobs, triggers, time zone, signals) and its job functions with an injected
clock; the CLI commands ``remind``/``digest``/``send``/``poll --no-send`` against real servers.

Nothing here waits for the scheduler to fire: the wiring is inspected, the jobs are called.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import select

from bot.app import Deps, build, with_clock
from bot.cli import main
from bot.scheduler import (
    ReminderSlots,
    build_scheduler,
    configure,
    install_signal_handlers,
    run_digest_job,
    run_flush_job,
    run_poll_job,
)
from db.models import Outbox
from tests.fixtures.smtpd import SmtpServer
from tests.support.app import SECTIONS, app_for, config_for
from tests.support.mails import doc, submission

CST = ZoneInfo("Asia/Shanghai")
T0 = datetime(2021, 10, 21, 9, 0, tzinfo=CST)


def smtp_config(server: SmtpServer, password: str | None = None) -> dict[str, Any]:
    return {
        "host": server.host,
        "port": server.port,
        "ssl": server.ssl,
        "ca_file": server.ca_file,
        "username": server.username,
        "pace_seconds": 0,  # [smtp] pace_seconds = 0: the test sink needs no pacing
        "_password": server.password if password is None else password,
    }


@pytest.fixture
def app(tmp_path: Path, sqlite_url: str, smtpd_tls: SmtpServer) -> Iterator[Deps]:
    cfg = config_for(
        tmp_path, sqlite_url, host="127.0.0.1", port=1, username="jzhbjfzk@163.com", password="x",
        smtp=smtp_config(smtpd_tls),
    )  # fmt: skip
    deps = with_clock(build(cfg), lambda: T0)
    yield deps
    deps.close()


# -- wiring -------------------------------------------------------------------------------------


def test_jobs_triggers_and_time_zone(app: Deps) -> None:
    scheduler = BackgroundScheduler(timezone=CST)
    configure(scheduler, app, start_now=T0)
    scheduler.start(paused=True)
    try:
        jobs = {job.id: job for job in scheduler.get_jobs()}
        assert set(jobs) == {"poll", "flush", "reminders", "digest"}
        poll, flush, reminders, digest = (jobs[k] for k in ("poll", "flush", "reminders", "digest"))
        assert isinstance(poll.trigger, IntervalTrigger) and poll.trigger.interval == timedelta(minutes=5)
        assert isinstance(flush.trigger, IntervalTrigger) and flush.trigger.interval == timedelta(minutes=1)
        assert isinstance(reminders.trigger, ReminderSlots) and isinstance(digest.trigger, CronTrigger)
        # Reminders fire at the slots only: 7, 3 and 1 days before 10-28 at 09:00, then overdue ones.
        fire, when = [], T0
        for _ in range(5):
            nxt = reminders.trigger.get_next_fire_time(when, when)
            assert nxt is not None
            fire.append(nxt.astimezone(CST).strftime("%m-%d %H:%M"))
            when = nxt
        assert fire == ["10-25 09:00", "10-27 09:00", "10-29 09:00", "10-30 09:00", "10-31 09:00"]
        fields = {f.name: str(f) for f in digest.trigger.fields}
        assert (fields["hour"], fields["minute"]) == ("17", "30")
        for job in jobs.values():
            assert job.coalesce is True and job.max_instances == 1
            assert job.args == (app,)
        assert poll.misfire_grace_time == 15 * 60
        assert reminders.misfire_grace_time >= 3600 and digest.misfire_grace_time >= 3600
        # Poll, reminders and digest run once at start-up (the catch-up); flush waits a minute.
        assert poll.next_run_time == reminders.next_run_time == digest.next_run_time == T0
        assert flush.next_run_time > T0
        # Configuring again replaces the jobs instead of adding copies.
        configure(scheduler, app, start_now=T0)
        assert len(scheduler.get_jobs()) == 4
    finally:
        scheduler.shutdown(wait=False)


def test_build_scheduler_is_blocking_in_the_campaign_time_zone(app: Deps) -> None:
    scheduler = build_scheduler(app)
    assert isinstance(scheduler, BlockingScheduler)
    assert str(scheduler.timezone) == "Asia/Shanghai"
    assert sorted(job.id for job in scheduler.get_jobs()) == ["digest", "flush", "poll", "reminders"]


def test_sigterm_stops_the_scheduler(app: Deps) -> None:
    scheduler = BackgroundScheduler(timezone=CST)
    configure(scheduler, app, start_now=T0 + timedelta(days=365))
    old_term, old_int = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    scheduler.start(paused=True)
    try:
        install_signal_handlers(scheduler)
        os.kill(os.getpid(), signal.SIGTERM)
        assert not scheduler.running
    finally:
        signal.signal(signal.SIGTERM, old_term)
        signal.signal(signal.SIGINT, old_int)
        if scheduler.running:
            scheduler.shutdown(wait=False)


# -- the jobs -----------------------------------------------------------------------------------


def test_poll_job_sends_the_receipt(tmp_path: Path, sqlite_url: str, dovecot: Any, smtpd_tls: SmtpServer) -> None:
    deps = with_clock(app_for(tmp_path, sqlite_url, dovecot, smtp=smtp_config(smtpd_tls)), lambda: T0)
    try:
        dovecot.append(submission("指标12-支队-清理情况", [("清理情况.docx", doc("job"))]))
        run_poll_job(deps)
        assert [m.rcpt_tos for m in smtpd_tls.messages] == [("zhidui@example.com",)]
        run_poll_job(deps)
        assert len(smtpd_tls.messages) == 1
    finally:
        deps.close()


def test_jobs_never_raise(tmp_path: Path, sqlite_url: str, smtpd_tls: SmtpServer) -> None:
    cfg = config_for(
        tmp_path, sqlite_url, host="127.0.0.1", port=1, username="u", password="x",
        smtp=smtp_config(smtpd_tls, password="wrong"),
    )  # fmt: skip
    deps = with_clock(build(cfg), lambda: datetime(2021, 10, 21, 18, 0, tzinfo=CST))
    try:
        run_poll_job(deps)  # IMAP connection refused: logged
        run_digest_job(deps)  # queued; SMTP login refused: stays queued
        run_flush_job(deps)
        with deps.sessions() as s:
            rows = list(s.scalars(select(Outbox)))
        assert [(r.kind, r.status) for r in rows] == [("digest", "queued")]
        assert smtpd_tls.messages == []
    finally:
        deps.close()


# -- the commands -------------------------------------------------------------------------------


def write_config(tmp_path: Path, server: SmtpServer, *, imap_port: int = 1, imap_user: str = "u") -> Path:
    sections = "\n".join(
        f'[[sections]]\nname = "{s["name"]}"\nowners = {s["owners"]!r}\nsenders = {s["senders"]!r}\n'.replace("'", '"')
        for s in SECTIONS
    )
    path = tmp_path / "config.toml"
    path.write_text(
        f"""
[campaign]
name = "焦作市生态环境局依法行政示范单位创建"
deadline = 2021-10-28
[mailbox]
host = "127.0.0.1"
port = {imap_port}
ssl = false
username = "{imap_user}"
password_env = "TEST_IMAP_PASSWORD"
[storage]
database = "sqlite:///intake.db"
files = "files"
[coordinator]
name = "刘海利"
emails = ["coordinator@example.com"]
[smtp]
host = "{server.host}"
port = {server.port}
ssl = true
ca_file = "{server.ca_file}"
username = "{server.username}"
password_env = "TEST_SMTP_PASSWORD"
{sections}
""",
        encoding="utf-8",
    )
    return path


def test_remind_and_digest_commands(
    tmp_path: Path, smtpd_tls: SmtpServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(write_config(tmp_path, smtpd_tls))
    monkeypatch.setenv("TEST_SMTP_PASSWORD", smtpd_tls.password)
    assert main(["remind", "--config", config, "--now", "2021-10-21T08:00"]) == 0
    assert "当前没有到期的提醒" in capsys.readouterr().out

    assert main(["remind", "--config", config, "--now", "2021-10-21T09:00", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "收件人：zhidui@example.com" in out and "（试运行）共 4 封提醒" in out
    assert smtpd_tls.messages == []

    assert main(["remind", "--config", config, "--now", "2021-10-21T09:00"]) == 0
    out = capsys.readouterr().out
    assert "已生成提醒：支队" in out and "已发送 4 封" in out
    assert main(["remind", "--config", config, "--now", "2021-10-21T09:05"]) == 0
    assert "当前没有到期的提醒" in capsys.readouterr().out
    assert len(smtpd_tls.messages) == 4

    assert main(["digest", "--config", config, "--now", "2021-10-21T17:30"]) == 0
    assert main(["digest", "--config", config, "--now", "2021-10-21T17:30"]) == 0
    assert main(["digest", "--config", config, "--now", "2021-10-21T20:00"]) == 0
    out = capsys.readouterr().out
    assert out.count("已生成") == 1 and "当前没有到期的汇总" in out
    # The first digest run also caught up the 20th (no digest had ever been sent).
    assert [m.rcpt_tos for m in smtpd_tls.messages[4:]] == [("coordinator@example.com",)]

    html = tmp_path / "digest.html"
    assert main(["digest", "--config", config, "--html", str(html)]) == 0
    assert "<table" in html.read_text(encoding="utf-8")


def test_wrong_authorization_code_is_explained(
    tmp_path: Path, smtpd_tls: SmtpServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(write_config(tmp_path, smtpd_tls))
    monkeypatch.setenv("TEST_SMTP_PASSWORD", "not-the-code")
    assert main(["remind", "--config", config, "--now", "2021-10-21T09:00"]) == 1
    captured = capsys.readouterr()
    assert "授权码" in captured.err and "535" in captured.err
    # Nothing was lost: with the right code, ``intake send`` delivers the queued reminders.
    monkeypatch.setenv("TEST_SMTP_PASSWORD", smtpd_tls.password)
    assert main(["send", "--config", config]) == 0
    assert len(smtpd_tls.messages) == 4


def test_poll_command_flushes_unless_no_send(
    tmp_path: Path, dovecot: Any, smtpd_tls: SmtpServer, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    config = str(write_config(tmp_path, smtpd_tls, imap_port=dovecot.port, imap_user=dovecot.username))
    monkeypatch.setenv("TEST_IMAP_PASSWORD", dovecot.password)
    monkeypatch.setenv("TEST_SMTP_PASSWORD", smtpd_tls.password)
    dovecot.append(submission("指标12", [("a.pdf", doc("cli 1"))]))
    assert main(["poll", "--config", config, "--no-send"]) == 0
    assert smtpd_tls.messages == []
    dovecot.append(submission("指标24", [("b.pdf", doc("cli 2"))], sender="fgk@example.com"))
    assert main(["poll", "--config", config]) == 0
    assert "已发送 2 封" in capsys.readouterr().out
    assert sorted(m.rcpt_tos for m in smtpd_tls.messages) == [("fgk@example.com",), ("zhidui@example.com",)]
