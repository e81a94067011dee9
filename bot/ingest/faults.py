"""What stops a poll, and what only sets one mail aside.

Transient faults belong to the machine, not to the mail: a full, read-only or failing disk
(``OSError``: ENOSPC, EDQUOT, EROFS, EIO, EACCES ...), the database locked or away, the process out of
memory. A poll that meets one stops cleanly: the mail at hand is not recorded, the cursor stays
before it, and the next poll retries it. ``PollStopped`` carries one Chinese sentence naming the cause
and the fix, for ``intake poll`` (which exits non-zero) and the journal of ``intake run``. Mailbox
connection failures keep their own type (``bot.mailbox.errors.ImapError``), which the callers already
explain.

Everything else that goes wrong while processing one mail is the mail's own doing (a structure no
library reads, a bug it triggers): it becomes an error row for the coordinator, with the raw .eml
kept, and the poll goes on (``bot.ingest.poll``).
"""

from __future__ import annotations

import errno
from typing import Any


def describe_db(exc: BaseException) -> str:
    # db.errors (SQLAlchemy's exception classes) is imported on first use, not with this module: the
    # worker processes that read mails import this module and never touch a database, and their fork
    # server starts faster without SQLAlchemy (bot.ingest.workers).
    from db.errors import describe

    return describe(exc)


def is_unavailable(exc: BaseException) -> bool:
    from db.errors import is_unavailable as unavailable

    return unavailable(exc)


_RESUME = "已登记的邮件不受影响；这封及之后的邮件尚未登记，问题解决后下次收信会从这里继续，不会丢失或重复。"

_OS_ADVICE = {
    errno.ENOSPC: "磁盘空间已满：请清理或扩容（df -h 查看各分区剩余空间）",
    errno.EDQUOT: "磁盘配额已用完：请清理文件或提高 intake 用户的配额",
    errno.EROFS: "磁盘处于只读状态（磁盘出错后常被系统改为只读）：请检查磁盘（dmesg、fsck）并重新挂载为可写",
    errno.EIO: "读写磁盘出错，磁盘可能损坏：请检查磁盘（dmesg、smartctl），必要时从备份恢复",
    errno.EACCES: "没有写入权限：请确认存储目录属于 intake 用户（chown -R intake:intake /var/lib/intake）",
    errno.EPERM: "操作不被允许：请确认存储目录属于 intake 用户（chown -R intake:intake /var/lib/intake）",
    errno.ENOMEM: "内存不足：请检查服务器内存，或调高 systemd 的 MemoryMax",
    errno.EMFILE: "打开的文件过多：请重启服务；反复出现请报告维护者",
    errno.ENFILE: "系统打开的文件过多：请检查服务器上的其他程序，然后重启服务",
}


class PollStopped(Exception):
    """The poll stopped on a transient fault; ``str()`` is the Chinese message (cause and fix), and
    ``report`` what the poll recorded before it stopped."""

    def __init__(self, message: str, report: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.report = report


def transient_message(exc: BaseException) -> str | None:
    """The Chinese message for a fault that should stop the poll, or None when ``exc`` is not one."""
    if isinstance(exc, MemoryError):
        return f"收信进程内存不足：请检查服务器内存，或调高 systemd 的 MemoryMax。{_RESUME}"
    if is_unavailable(exc):
        return _database_message(exc)
    if isinstance(exc, OSError):
        where = f"（{exc.filename}）" if exc.filename else ""
        advice = _OS_ADVICE.get(exc.errno or 0, f"系统错误：{exc.strerror or exc}")
        return f"写入存储目录失败{where}，{advice}。{_RESUME}"
    return None


def _database_message(exc: BaseException) -> str:
    text = describe_db(exc)
    lower = text.lower()
    if "locked" in lower or "lock timeout" in lower or "lock_timeout" in lower:
        return (
            f"数据库被其他程序锁定，等待后仍未释放（{text}）：请检查是否有备份、sqlite3/psql 命令"
            f"或另一个 intake 进程正在写数据库，结束它后重新收信。{_RESUME}"
        )
    if "disk" in lower or "full" in lower or "readonly" in lower or "read-only" in lower:
        return f"数据库无法写入（{text}）：请检查数据库所在磁盘的剩余空间和读写状态。{_RESUME}"
    return (
        f"无法访问数据库（{text}）：请检查数据库服务是否运行、网络和磁盘是否正常（intake doctor 可协助检查）。{_RESUME}"
    )


def is_transient(exc: BaseException) -> bool:
    return transient_message(exc) is not None


def describe(exc: BaseException) -> str:
    """A short description of a failure for an error row or a log line: type and first line of the
    message, never SQL with its parameters (which may carry a whole mail)."""
    return f"{type(exc).__name__}: {describe_db(exc)}"
