"""Which failures stop a poll (and what they tell the IT person), and which only set a mail aside."""

from __future__ import annotations

import errno
import sqlite3

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from bot.ingest.faults import describe, transient_message
from bot.mailbox.errors import ImapConnectionError
from db.hygiene import clean_text


def os_error(code: int) -> OSError:
    return OSError(code, "x", "/var/lib/intake/files/mail/ab/x.eml")


def locked() -> OperationalError:
    return OperationalError(
        "INSERT INTO mail (subject) VALUES (?)", ("秘密的主题",), sqlite3.OperationalError("database is locked")
    )


@pytest.mark.parametrize(
    ("exc", "words"),
    [
        (os_error(errno.ENOSPC), ["磁盘空间已满", "df -h", "/var/lib/intake/files/mail/ab/x.eml", "不会丢失或重复"]),
        (os_error(errno.EDQUOT), ["配额"]),
        (os_error(errno.EROFS), ["只读", "fsck"]),
        (os_error(errno.EIO), ["磁盘可能损坏", "dmesg"]),
        (os_error(errno.EACCES), ["chown -R intake:intake"]),
        (os_error(errno.EMFILE), ["打开的文件过多"]),
        (os_error(errno.ENOTDIR), ["系统错误"]),
        (MemoryError(), ["内存不足", "MemoryMax"]),
        (locked(), ["数据库被其他程序锁定", "database is locked"]),
        (OperationalError("SELECT 1", {}, sqlite3.OperationalError("disk I/O error")), ["数据库无法写入"]),
        (
            OperationalError("SELECT 1", {}, sqlite3.OperationalError("unable to open database file")),
            ["无法访问数据库"],
        ),
    ],
)
def test_transient_faults_name_cause_and_fix(exc: BaseException, words: list[str]) -> None:
    message = transient_message(exc)
    assert message is not None
    for word in words:
        assert word in message
    assert "INSERT" not in message and "秘密的主题" not in message  # never the SQL or its parameters


@pytest.mark.parametrize(
    "exc",
    [
        ValueError("bad base64"),
        UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid"),
        RecursionError(),
        IntegrityError("INSERT", {}, sqlite3.IntegrityError("UNIQUE constraint failed: mail.dedupe_key")),
        ImapConnectionError("connection lost"),  # explained by the callers themselves
    ],
)
def test_everything_else_is_not_a_stop(exc: BaseException) -> None:
    assert transient_message(exc) is None


def test_describe_gives_the_first_line_without_sql() -> None:
    assert describe(locked()) == "OperationalError: database is locked"
    assert describe(ValueError("a\nb")) == "ValueError: a"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("指标12", "指标12"),
        ("a\x00b", "ab"),
        ("tab\tnew\nline\r", "tab\tnew\nline\r"),
        ("\x1b[31m红\x1b[0m", "[31m红[0m"),
        ("\x7f\x85\x9f", ""),
        ("a\udcb9b", "a\ufffdb"),
        ("\ufffe\uffff", ""),
        ("", ""),
    ],
)
def test_clean_text(given: str, expected: str) -> None:
    assert clean_text(given) == expected
