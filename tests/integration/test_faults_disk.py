"""A full disk and a read-only disk under the storage root (a real tmpfs of a few MB, mounted here).

A full disk while storing a file or unpacking a zip, or a disk that turned read-only, stops the
poll cleanly: the mail is not recorded (no "unparseable" row, no zip kept whole), the cursor stays
before it, ``intake poll`` says in Chinese what happened and what to do and exits 1. Once there is
room again, the next poll records everything exactly once.
"""

from __future__ import annotations

import os
import random
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import Deps
from bot.cli import main
from bot.config import load_config
from bot.ingest.faults import PollStopped
from bot.ingest.poll import poll_once
from db.models import Attachment, Mail, MailboxCursor
from tests.support.app import app_for, write_config_file
from tests.support.faults import Tmpfs, assert_invariant, tmpfs
from tests.support.mails import doc, gbk_zip, submission


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Path:
    """``tmp_path`` as the only place the poll may write to, with its own temporary folder."""
    if "db_url" in request.fixturenames:
        request.getfixturevalue("db_url")  # servers start first, in their own temporary folders
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    monkeypatch.setenv("TMPDIR", str(tmp))
    return tmp_path


@pytest.fixture
def disk(sandbox: Path) -> Iterator[Tmpfs]:
    with tmpfs(sandbox / "files", "4m") as mounted:
        yield mounted


def incompressible(size: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(size)


def two_letters(size: int, seed: int) -> bytes:
    """Text that deflate packs about 7:1."""
    return bytes(random.Random(seed).choices(b"ab", k=size))


def cursor(deps: Deps) -> int | None:
    with deps.sessions() as s:
        row = s.scalars(select(MailboxCursor)).one_or_none()
        return row.last_uid if row else None


def mail_rows(deps: Deps) -> list[tuple[str | None, str]]:
    with deps.sessions() as s:
        return [(m.message_id, m.status) for m in s.scalars(select(Mail).order_by(Mail.id))]


def test_full_disk_while_storing_a_file_stops_the_poll_and_loses_nothing(
    sandbox: Path, disk: Tmpfs, db_url: str, dovecot: Any
) -> None:
    mails = [
        submission("指标12", [("清理情况.pdf", doc("small"))], message_id="<m1@x>"),
        submission("指标24", [("执法案卷.pdf", incompressible(3 << 20, 1))], message_id="<m2@x>"),
        submission("指标36", [("统计.pdf", doc("after"))], message_id="<m3@x>"),
    ]
    uids = dovecot.append_many(mails)
    deps = app_for(sandbox, db_url, dovecot)
    try:
        with pytest.raises(PollStopped) as stopped:
            poll_once(deps)
        assert "磁盘空间已满" in stopped.value.message and "df -h" in stopped.value.message
        assert stopped.value.report.mails == 1
        assert mail_rows(deps) == [("<m1@x>", "recorded")]  # no "unparseable" row for the big one
        assert cursor(deps) == uids[0]

        disk.remount("size=64m")
        report = poll_once(deps)
        assert (report.mails, report.errors) == (2, 0)
        assert_invariant(deps, mails, sandbox=sandbox, allowed=_allowed(db_url))
    finally:
        deps.close()


def test_full_disk_while_unpacking_a_zip_is_not_a_corrupt_zip(
    sandbox: Path, disk: Tmpfs, db_url: str, dovecot: Any
) -> None:
    members = {f"{n}-材料{n}.pdf": doc(f"第{n}份") + two_letters(1 << 20, n) for n in (7, 8, 9, 10, 11, 12)}
    archive = gbk_zip(members)  # 6 MB unpacked, under 1 MB packed (a ratio no bomb limit minds)
    mails = [submission("支队材料", [("材料.zip", archive)], message_id="<zip@x>")]
    dovecot.append_many(mails)
    deps = app_for(sandbox, db_url, dovecot)
    try:
        with pytest.raises(PollStopped) as stopped:
            poll_once(deps)
        assert "磁盘空间已满" in stopped.value.message
        assert mail_rows(deps) == [] and cursor(deps) in (None, 0)

        disk.remount("size=64m")
        poll_once(deps)
        with deps.sessions() as s:
            names = sorted(s.scalars(select(Attachment.filename)))
        assert names == sorted(members)  # unpacked, not kept whole and assigned by the subject
        assert_invariant(deps, mails, sandbox=sandbox, allowed=_allowed(db_url))
    finally:
        deps.close()


def test_read_only_disk_stops_the_poll_until_it_is_writable(
    sandbox: Path, disk: Tmpfs, db_url: str, dovecot: Any
) -> None:
    mails = [submission("指标12", [("清理情况.pdf", doc("ro"))], message_id="<ro@x>")]
    dovecot.append_many(mails)
    deps = app_for(sandbox, db_url, dovecot)
    try:
        disk.remount("ro")
        with pytest.raises(PollStopped) as stopped:
            poll_once(deps)
        assert "只读" in stopped.value.message and "fsck" in stopped.value.message
        assert mail_rows(deps) == []
        disk.remount("rw")
        assert poll_once(deps).mails == 1
        assert_invariant(deps, mails, sandbox=sandbox, allowed=_allowed(db_url))
    finally:
        deps.close()


def test_intake_poll_says_what_to_do_and_exits_1(
    sandbox: Path, disk: Tmpfs, dovecot: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    mails = [
        submission("指标12", [("清理情况.pdf", doc("cli"))], message_id="<c1@x>"),
        submission("指标24", [("执法案卷.pdf", incompressible(3 << 20, 2))], message_id="<c2@x>"),
    ]
    dovecot.append_many(mails)
    config = sandbox / "config.toml"
    write_config_file(config, dovecot, disk.path, sandbox / "db" / "intake.db")
    monkeypatch.setenv("INTAKE_TEST_IMAP_PASSWORD", dovecot.password)
    assert main(["poll", "--no-send", "--config", str(config)]) == 1
    out, err = capsys.readouterr()
    assert "新邮件 1 封" in out
    assert "收信中止：写入存储目录失败" in err and "磁盘空间已满" in err and "不会丢失或重复" in err
    assert "Traceback" not in err

    disk.remount("size=64m")
    assert main(["poll", "--no-send", "--config", str(config)]) == 0
    deps = _deps(config)
    try:
        assert_invariant(deps, mails, sandbox=sandbox, allowed={"files", "db", "tmp", "config.toml"})
    finally:
        deps.close()


def _deps(config: Path) -> Deps:
    from bot.app import build

    return build(load_config(config))


def _allowed(db_url: str) -> set[str]:
    return {"files", "tmp", "db"} if db_url.startswith("sqlite") else {"files", "tmp"}


def test_the_tmpfs_is_really_small(sandbox: Path, disk: Tmpfs) -> None:
    """The faults above are real: the storage root refuses a 5 MB file."""
    with pytest.raises(OSError) as full:
        (disk.path / "big").write_bytes(bytes(5 << 20))
    assert full.value.errno == 28  # ENOSPC
    os.unlink(disk.path / "big")
