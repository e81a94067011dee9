"""Stopping ``intake run`` as systemd does: SIGTERM with a full outbox, SIGTERM while a document is being
read, and SIGKILL in the middle of sending.

The contract (docs/OPERATIONS.md): on SIGTERM intake finishes the SMTP transaction or the mail at hand,
drops the queued jobs and exits within 10 s, before systemd's ``TimeoutStopSec`` sends SIGKILL; a
kill between the server's 250 and intake's record of it repeats at most that one mail, with the same
Message-ID. The measured times are printed (``pytest -s``); only the behaviour is asserted.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

import bot.ingest.documents
from bot.app import Deps, build
from bot.config import load_config
from bot.ingest.poll import poll_once
from bot.mime.textreaders import DEFAULT_LIMITS
from bot.outgoing.outbox import enqueue
from bot.outgoing.sending import flush_outbox
from db.models import Mail, Outbox
from tests.fixtures.smtpd import SmtpServer
from tests.support.bombs import pdf_bomb
from tests.support.faults import assert_invariant, wait_until, write_config
from tests.support.mails import doc, submission

ROOT = Path(__file__).resolve().parents[2]
QUEUED = 20


def systemd_stop_timeout() -> float:
    """``TimeoutStopSec`` of the shipped unit: how long systemd waits before SIGKILL."""
    unit = (ROOT / "deploy" / "intake.service").read_text()
    found = re.search(r"^TimeoutStopSec=(\d+)s?$", unit, re.MULTILINE)
    assert found is not None
    return float(found.group(1))


@pytest.fixture
def config(tmp_path: Path, db_url: str, dovecot: Any, smtpd_tls: SmtpServer, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = write_config(tmp_path / "config.toml", dovecot, tmp_path / "files", db_url)
    with path.open("a", encoding="utf-8") as f:
        f.write(
            f'\n[smtp]\nhost = "{smtpd_tls.host}"\nport = {smtpd_tls.port}\nssl = true\n'
            f'ca_file = "{smtpd_tls.ca_file}"\nusername = "{smtpd_tls.username}"\n'
            'password_env = "INTAKE_TEST_SMTP_PASSWORD"\n'
        )
    monkeypatch.setenv("INTAKE_TEST_IMAP_PASSWORD", dovecot.password)
    monkeypatch.setenv("INTAKE_TEST_SMTP_PASSWORD", smtpd_tls.password)
    return path


@pytest.fixture
def deps(config: Path) -> Iterator[Deps]:
    app = build(load_config(config))
    yield app
    app.close()


def fill_outbox(deps: Deps, sender: str, count: int = QUEUED) -> list[str]:
    ids = []
    with deps.sessions.begin() as s:
        for n in range(count):
            message = EmailMessage()
            message["From"], message["To"] = sender, f"section{n}@example.com"
            message["Subject"], message["Message-ID"] = f"回执 {n}", f"<queued-{n}@intake>"
            message.set_content(f"第 {n} 封")
            enqueue(s, kind="receipt", dedupe_key=f"test:{n}", message=message, now=deps.clock())
            ids.append(f"<queued-{n}@intake>")
    return ids


def start_run(config: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "run", "--config", str(config)],
        cwd=ROOT, env=os.environ.copy(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


def sent_rows(deps: Deps) -> int:
    with deps.sessions() as s:
        return s.scalar(select(func.count()).select_from(Outbox).where(Outbox.status == "sent")) or 0


def stop(proc: subprocess.Popen[str], sig: signal.Signals) -> float:
    started = time.monotonic()
    proc.send_signal(sig)
    proc.wait(120)
    return time.monotonic() - started


def test_sigterm_with_a_full_outbox(config: Path, deps: Deps, smtpd_tls: SmtpServer) -> None:
    queued = fill_outbox(deps, smtpd_tls.username)
    proc = start_run(config)
    try:
        wait_until(lambda: len(smtpd_tls.messages) >= 2, timeout=120)  # paced: one mail every 3 s
        seconds = stop(proc, signal.SIGTERM)
    finally:
        if proc.poll() is None:
            proc.kill()
    output = proc.stdout.read() if proc.stdout else ""
    print(f"\nintake run stopped {seconds:.2f} s after SIGTERM, {len(smtpd_tls.messages)} of {QUEUED} sent")
    assert proc.returncode == 0, output
    assert seconds < systemd_stop_timeout()  # never ends in systemd's SIGKILL
    received = [m.message["Message-ID"] for m in smtpd_tls.messages]
    assert len(received) < QUEUED  # the queue was not drained before exiting
    assert sent_rows(deps) == len(received)  # every accepted mail recorded as sent: no repeat pending

    flush_outbox(deps, pace_seconds=0)  # the next start sends the rest
    received = [m.message["Message-ID"] for m in smtpd_tls.messages]
    assert set(queued) <= set(received)
    assert_invariant(deps, [], sent=[m.data for m in smtpd_tls.messages])


def test_sigterm_while_a_document_is_read(
    config: Path, deps: Deps, dovecot: Any, smtpd_tls: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A PDF that keeps its reader busy for the whole CPU cap: the stop does not wait for it; the mail
    is left unrecorded and read again by the next poll."""
    mails = [
        submission("指标12", [("12-清理情况.pdf", doc("first"))], message_id="<first@x>"),
        submission("指标36", [("36-统计情况说明.pdf", pdf_bomb(4, 20))], message_id="<slow@x>"),
    ]
    dovecot.append_many(mails)
    proc = start_run(config)
    try:
        wait_until(lambda: _recorded(deps) == 1, timeout=120)
        wait_until(lambda: _reading(proc.pid), timeout=60)
        seconds = stop(proc, signal.SIGTERM)
    finally:
        if proc.poll() is None:
            proc.kill()
    output = proc.stdout.read() if proc.stdout else ""
    print(f"\nintake run stopped {seconds:.2f} s after SIGTERM while a document was being read")
    assert proc.returncode == 0, output
    assert seconds < systemd_stop_timeout()
    assert _recorded(deps) == 1  # the slow one is not recorded half-read ...
    assert not _reading(proc.pid)
    monkeypatch.setattr(bot.ingest.documents, "LIMITS", replace(DEFAULT_LIMITS, cpu_seconds=1))
    assert poll_once(deps).mails == 1  # ... and the next poll records it
    assert_invariant(deps, mails, sent=[m.data for m in smtpd_tls.messages])


def test_sigkill_while_sending_repeats_at_most_one_mail(config: Path, deps: Deps, smtpd_tls: SmtpServer) -> None:
    """The documented window: SMTP cannot make "the server accepted it" and "we recorded it" one step."""
    queued = fill_outbox(deps, smtpd_tls.username)
    proc = start_run(config)
    try:
        wait_until(lambda: len(smtpd_tls.messages) >= 3, timeout=120)
        stop(proc, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            proc.kill()
    with deps.sessions.begin() as s:  # the next start finds the claimed row due again after its retry delay
        s.execute(Outbox.__table__.update().values(next_attempt_at=deps.clock()))
    flush_outbox(deps, pace_seconds=0)
    received = [m.message["Message-ID"] for m in smtpd_tls.messages]
    assert set(queued) <= set(received)
    assert_invariant(deps, [], sent=[m.data for m in smtpd_tls.messages], repeats_allowed=1)


def _recorded(deps: Deps) -> int:
    with deps.sessions() as s:
        return s.scalar(select(func.count()).select_from(Mail)) or 0


def _reading(parent: int) -> bool:
    """Whether ``parent`` has a document-reading child right now."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if int(stat.rpartition(")")[2].split()[1]) == parent and b"bot.mime.textextract" in cmdline:
            return True
    return False
