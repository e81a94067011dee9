"""Poison-mail quarantine: a mail the poller dies on (SIGKILL, as the OOM killer or systemd's
MemoryMax deliver it) is retried once, then set aside for the coordinator with its raw .eml kept, and
the mail behind it is recorded. Spool folders the killed processes left are removed.

Two ways to die: the poller itself (mails read in-process, ``[mailbox] workers = 1``), where a batch
in flight is rolled back with it and its mails are then retried one at a time; and a worker process
of the pool, which the poller survives and handles within the same poll."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
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
    import bot.ingest.pipeline as pipeline
    import bot.ingest.poll as poll
    import bot.ingest.prepare as prepare
    import bot.ingest.workers as workers
    from bot.app import build
    from bot.config import load_config

    real = prepare.parse_within_limits

    def parse(raw, workdir):
        data = raw if isinstance(raw, bytes) else raw.read_bytes()
        if b"<poison@x>" in data:
            os.kill(os.getpid(), signal.SIGKILL)
        return real(raw, workdir)

    prepare.parse_within_limits = parse
    workers.START_METHOD = "fork"  # the pool's workers inherit the patch
    pipeline.PARALLEL_FROM = 1  # a pool even for three mails
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


def with_workers(config: Path, n: int) -> None:
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("[mailbox]\n", f"[mailbox]\nworkers = {n}\n", 1), encoding="utf-8")


def poisoned_mailbox(tmp_path: Path, db_url: str, dovecot: Any) -> tuple[list[bytes], Path, Path]:
    """Three mails, the poison between two good ones; the config of a poller for them."""
    mails = [
        submission("指标12", [("清理情况.pdf", doc("before"))], message_id="<before@x>"),
        submission("指标24", [("炸.docx", doc("poison"))], message_id="<poison@x>"),
        submission("指标36", [("统计.pdf", doc("after"))], message_id="<after@x>"),
    ]
    dovecot.append_many(mails)
    config, files = tmp_path / "config.toml", tmp_path / "files"
    write_config(config, dovecot, files, db_url)
    return mails, config, files


def spool_entries(files: Path) -> list[str]:
    spool = files / "spool"
    return sorted(p.name for p in spool.iterdir()) if spool.exists() else []


def test_a_mail_the_poller_dies_on_twice_is_set_aside_and_the_rest_recorded(
    tmp_path: Path, db_url: str, dovecot: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INTAKE_TEST_IMAP_PASSWORD", dovecot.password)
    mails, config, files = poisoned_mailbox(tmp_path, db_url, dovecot)
    with_workers(config, 1)  # the poller itself reads the mails, and dies

    # The first death takes the uncommitted batch with it: nothing recorded, all three marked. Then
    # each marked mail is handled alone: <before@x> is recorded, the poison kills the poller again.
    expected = {
        1: ([], {"<before@x>": 1, "<poison@x>": 1, "<after@x>": 1}),
        2: (["<before@x>"], {"<poison@x>": 2, "<after@x>": 1}),
    }
    uid_of = {"<before@x>": 1, "<poison@x>": 2, "<after@x>": 3}
    for death in (1, 2):
        died = run_dying_poller(config, dovecot.password)
        assert died.returncode == -9, died.stderr
        deps = build(load_config(config))
        try:
            with deps.sessions() as s:
                marks = {m.uid: m.attempts for m in s.scalars(select(MailAttempt))}
                recorded = [m.message_id for m in s.scalars(select(Mail))]
            wanted, attempts = expected[death]
            assert recorded == wanted
            assert marks == {uid_of[k]: v for k, v in attempts.items()}
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


def test_a_worker_that_dies_on_a_mail_is_survived_and_the_mail_set_aside_in_the_same_poll(
    tmp_path: Path, db_url: str, dovecot: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INTAKE_TEST_IMAP_PASSWORD", dovecot.password)
    mails, config, files = poisoned_mailbox(tmp_path, db_url, dovecot)
    with_workers(config, 2)

    run = run_dying_poller(config, dovecot.password)
    assert run.returncode == 0, run.stderr  # only a worker died, twice: the poller lives on
    assert run.stdout.split() == ["3", "1"]  # before and after recorded, the poison set aside
    assert "worker" in run.stderr
    assert spool_entries(files) == []  # the poller's folder went when it ended
    deps = build(load_config(config))
    try:
        with deps.sessions() as s:
            recorded = {m.message_id: m.status for m in s.scalars(select(Mail)) if m.status == "recorded"}
            aside = s.scalars(select(Mail).where(Mail.status == "error")).one()
            review = s.scalars(select(ReviewItem).where(ReviewItem.mail_id == aside.id)).one()
            assert s.scalars(select(MailAttempt)).all() == []
        assert set(recorded) == {"<before@x>", "<after@x>"}
        assert review.reason == "quarantined" and "2 次意外中止" in review.detail
        with deps.storage.open(aside.raw_path) as f:
            assert b"<poison@x>" in f.read()
        assert poll_once(deps).mails == 0
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
    with_workers(config, 1)
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


# A poller that starts its workers, reads one mail with them, prints their PIDs and dies.
POLLER_KILLED_WITH_WORKERS = textwrap.dedent(
    """
    import multiprocessing, os, signal, sys
    from pathlib import Path
    from bot.ingest.storage import Storage
    from bot.ingest.workers import Preparer

    root = Path(sys.argv[1])
    preparer = Preparer(Storage(root), root, frozenset(), 2)
    prepared = preparer.result(preparer.submit(b"Subject: x\\r\\n\\r\\nbody\\r\\n"), lambda: False)
    assert prepared.mail is not None
    print(" ".join(str(p.pid) for p in multiprocessing.active_children()), flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
    """
)


def test_workers_of_a_poller_killed_with_sigkill_end_with_it(tmp_path: Path) -> None:
    """The OOM killer takes the poller alone: its workers (and the fork server) must not live on,
    holding memory, for ever."""
    run = subprocess.run(
        [sys.executable, "-c", POLLER_KILLED_WITH_WORKERS, str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert run.returncode == -9, run.stderr
    pids = [int(p) for p in run.stdout.split()]
    assert pids, "the poller started no worker"
    deadline = time.monotonic() + 20
    alive = pids
    while alive and time.monotonic() < deadline:
        time.sleep(0.2)
        alive = [p for p in pids if _running(p)]
    assert alive == []


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"  # a zombie has ended; only its parent has not read its status yet
