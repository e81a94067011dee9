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
from bot.mailbox.errors import ImapAuthError, ImapConnectionError, ImapError, ImapTlsError, ImapUnsafeLoginError
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
        print(summary(report, deps.config.receipts.max_age_hours))
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
        where = f"{deps.config.mailbox.host}:{deps.config.mailbox.port}"
        err(f"读取邮箱失败（{where}）：{imap_reason(exc)}。已记录的邮件不受影响，下次轮询会从断点继续；")
        err("可运行 intake doctor 逐项检查连接、证书和登录。")
        return 1
    finally:
        deps.close()
    return 0


def imap_reason(exc: ImapError) -> str:
    """The mailbox failure in Chinese (the library's own words are English and go to the log)."""
    text = (exc.server_text or str(exc)).lower()
    if isinstance(exc, ImapTlsError):
        return "TLS 证书校验失败（本机时间不对、CA 证书过旧或网络中有 SSL 拦截）"
    if isinstance(exc, ImapConnectionError):
        if "refused" in text or "errno 111" in text:
            return "连接被拒绝：该端口没有邮件服务在监听（检查 host 和 port）"
        if "timed out" in text or "timeout" in text:
            return "连接超时：防火墙或云服务器可能封锁了端口"
        if "name or service not known" in text or "errno -2" in text or "errno -3" in text:
            return "找不到服务器：域名无法解析（检查 host 和本机 DNS）"
        if "unavailable" in text:
            return "服务器暂时不可用"
        return "连接中断"
    return "服务器拒绝了请求"


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


def summary(r: PollReport, max_age_hours: int | None = None) -> str:
    line = (
        f"新邮件 {r.mails} 封（重复 {r.duplicates}），文件 {r.files} 个，计入指标 {r.assignments} 次，"
        f"待人工确认 {r.reviews} 项，忽略 {r.ignored} 封（自动回复/退信等），解析失败 {r.errors} 封。"
    )
    if r.too_old:
        age = f"{max_age_hours} 小时" if max_age_hours is not None else "[receipts] max_age_hours"
        line += (
            f"\n其中 {r.too_old} 封收到已超过 {age}（[receipts] max_age_hours），已登记但未发回执："
            "积压的旧邮件不逐封回复，各科室的报送情况见下次催报提醒。"
        )
    return line
