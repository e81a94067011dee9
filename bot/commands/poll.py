"""``intake poll``: read the mailbox once and record what arrived."""

from __future__ import annotations

import argparse
import sys

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from bot.app import Deps
from bot.commands import help_for
from bot.commands._common import add_config_option, err, open_app
from bot.commands.remind import print_flush
from bot.config import ConfigError
from bot.ingest.faults import PollStopped
from bot.ingest.poll import PollReport, poll_once
from bot.mailbox.errors import ImapAuthError, ImapError, ImapUnsafeLoginError
from bot.outgoing.sending import flush_outbox
from bot.scheduler import stop_on_signals


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser("poll", help=help_for("poll"))
    add_config_option(p)
    p.add_argument("--no-send", action="store_true", help="只收取和登记，回执留在发件队列中暂不发送")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    deps = open_app(args)
    if deps is None:
        return 1
    stop_on_signals(deps.stopping)  # SIGTERM / Ctrl-C: stop after the current mail, spool cleaned
    try:
        report = _poll(deps)
        print(summary(report))
        if not args.no_send:
            # Receipts the poll queued go out at once.
            return 0 if print_flush(flush_outbox(deps), deps.config.smtp) else 1
    except ConfigError as exc:
        err(str(exc))
        return 1
    except PollStopped as exc:
        if isinstance(exc.report, PollReport):
            print(summary(exc.report))
        err(f"收信中止：{exc.message}")
        return 1
    except ImapAuthError:
        err(
            "邮箱登录失败：用户名或授权码错误。163 邮箱须使用“客户端授权码”而不是网页登录密码，"
            "并在网页版“设置 → POP3/SMTP/IMAP”中开启 IMAP 服务。"
        )
        return 1
    except ImapUnsafeLoginError:
        err("163 拒绝访问（Unsafe Login）：客户端未发送 ID 命令或账号被风控，请联系管理员。")
        return 1
    except ImapError as exc:
        err(f"读取邮箱失败：{exc}（已记录的邮件不受影响，下次轮询会从断点继续）")
        return 1
    finally:
        deps.close()
    return 0


def _poll(deps: Deps) -> PollReport:
    if not sys.stderr.isatty():
        return poll_once(deps)
    with Progress(
        TextColumn("收取邮件"), BarColumn(), MofNCompleteColumn(), console=Console(stderr=True), transient=True
    ) as bar:
        task = bar.add_task("poll", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        return poll_once(deps, progress=progress)


def summary(r: PollReport) -> str:
    return (
        f"新邮件 {r.mails} 封（重复 {r.duplicates}），文件 {r.files} 个，计入指标 {r.assignments} 次，"
        f"待人工确认 {r.reviews} 项，忽略 {r.ignored} 封（自动回复/退信等），解析失败 {r.errors} 封。"
    )
