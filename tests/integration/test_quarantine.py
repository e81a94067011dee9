"""Poison-mail quarantine: a mail the poller dies on (SIGKILL, as the OOM killer or systemd's
MemoryMax deliver it) is retried once, then set aside for the coordinator with its raw .eml kept, and
the mail behind it is recorded. Spool folders the killed processes left are removed."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import build
from bot.config import load_config
from bot.ingest.poll import poll_once
from db.models import Mail, MailAttempt, ReviewItem
from tests.support.faults import assert_invariant, write_config
from tests.support.mails import doc, submission

ROOT = Path(__file__).resolve().parents[2]

# A poller that dies like a process killed for memory while it parses the poison mail.
DYING_POLLER = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    import bot.ingest.poll as poll
    from bot.app import build
    from bot.config import load_config

    real = poll.parse_within_limits

    def parse(raw, workdir):
        data = raw if isinstance(raw, bytes) else raw.read_bytes()
        if b"<poison@x>" in data:
            os.kill(os.getpid(), signal.SIGKILL)
        return real(raw, workdir)

    poll.parse_within_limits = parse
    report = poll.poll_once(build(load_config(Path(sys.argv[1]))))
    print(report.mails, report.errors)
    """
)


def run_dying_poller(config: Path, password: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "INTAKE_TEST_IMAP_PASSWORD": password}
    return subprocess.run(
        [sys.executable, "-c", DYING_POLLER, str(config)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def spool_entries(files: Path) -> list[str]:
    spool = files / "spool"
    return sorted(p.name for p in spool.iterdir()) if spool.exists() else []


def test_a_mail_the_poller_dies_on_twice_is_set_aside_and_the_rest_recorded(
    tmp_path: Path, db_url: str, dovecot: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INTAKE_TEST_IMAP_PASSWORD", dovecot.password)
    mails = [
        submission("指标12", [("清理情况.pdf", doc("before"))], message_id="<before@x>"),
        submission("指标24", [("炸.docx", doc("poison"))], message_id="<poison@x>"),
        submission("指标36", [("统计.pdf", doc("after"))], message_id="<after@x>"),
    ]
    dovecot.append_many(mails)
    config, files = tmp_path / "config.toml", tmp_path / "files"
    write_config(config, dovecot, files, db_url)

    for death in (1, 2):
        died = run_dying_poller(config, dovecot.password)
        assert died.returncode == -9, died.stderr
        deps = build(load_config(config))
        try:
            with deps.sessions() as s:
                mark = s.scalars(select(MailAttempt)).one()
                assert [m.message_id for m in s.scalars(select(Mail))] == ["<before@x>"]
            assert mark.attempts == death  # found in progress once, then twice
        finally:
            deps.close()
        assert len(spool_entries(files)) == 1  # what the killed process left (removed by the next one)

    survived = run_dying_poller(config, dovecot.password)  # the poison is not even parsed now
    assert survived.returncode == 0, survived.stderr
    assert survived.stdout.split() == ["2", "1"]
    assert spool_entries(files) == []  # the dead processes' folders went; the last one removed its own

    deps = build(load_config(config))
    try:
        with deps.sessions() as s:
            aside = s.scalars(select(Mail).where(Mail.status == "error")).one()
            review = s.scalars(select(ReviewItem).where(ReviewItem.mail_id == aside.id)).one()
            assert s.scalars(select(MailAttempt)).all() == []
        assert review.reason == "quarantined" and "2 次意外中止" in review.detail
        with deps.storage.open(aside.raw_path) as f:
            assert b"<poison@x>" in f.read()
        assert poll_once(deps).mails == 0  # the cursor moved past it: not retried forever
        assert_invariant(deps, mails)
    finally:
        deps.close()


def test_one_death_is_retried_normally(
    tmp_path: Path, db_url: str, dovecot: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INTAKE_TEST_IMAP_PASSWORD", dovecot.password)
    mails = [submission("指标24", [("24-执法.pdf", doc("poison once"))], message_id="<poison@x>")]
    dovecot.append_many(mails)
    config, files = tmp_path / "config.toml", tmp_path / "files"
    write_config(config, dovecot, files, db_url)
    assert run_dying_poller(config, dovecot.password).returncode == -9
    deps = build(load_config(config))
    try:
        report = poll_once(deps)  # a poller that survives it: recorded as usual
        assert (report.mails, report.errors) == (1, 0)
        with deps.sessions() as s:
            assert s.scalars(select(Mail.status)).all() == ["recorded"]
            assert s.scalars(select(MailAttempt)).all() == []
        assert_invariant(deps, mails)
    finally:
        deps.close()
