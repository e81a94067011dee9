"""``intake remind``: queue and send the reminders due now (or at ``--now``); ``--dry-run`` prints them."""

from __future__ import annotations

import argparse
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.commands import help_for
from bot.commands._common import add_config_option, err, open_app
from bot.config import ConfigError, SmtpConfig
from bot.outgoing.outbox import FlushReport
from bot.outgoing.reminders import send_reminders
from bot.outgoing.render import cn_date, render
from bot.outgoing.sending import explain_smtp_error, flush_summary


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser("remind", help=help_for("remind"))
    add_config_option(p)
    add_time_options(p)
    p.set_defaults(func=run)


def add_time_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dry-run", action="store_true", help="只显示将要发送的内容，不发送也不记录")
    p.add_argument(
        "--now",
        metavar="时间",
        help="按此时间判断是否到期（ISO 格式，如 2021-10-21T09:00；不带时区时按配置的时区），用于补发和测试",
    )


def parse_now(text: str | None, tz: ZoneInfo, clock: datetime) -> datetime:
    """``--now``: ISO date or datetime; without an offset it is read in the campaign time zone."""
    if text is None:
        return clock
    value = datetime.fromisoformat(text)
    return value.replace(tzinfo=tz) if value.tzinfo is None else value


def print_flush(report: FlushReport | None, smtp: SmtpConfig | None) -> bool:
    """Print a flush's outcome; False when the batch stopped on an error worth the user's attention."""
    print(flush_summary(report))
    if report is None:
        return True
    for failure in report.failures:
        key, _, detail = failure.partition(": ")
        err(f"{key}：{explain_smtp_error(detail, smtp)}")
    if report.error and not report.failures:
        err(explain_smtp_error(report.error, smtp))
    return not report.error


def run(args: argparse.Namespace) -> int:
    deps = open_app(args)
    if deps is None:
        return 1
    try:
        try:
            now = parse_now(args.now, deps.config.campaign.tz, deps.clock())
        except ValueError:
            err(f"--now 的时间格式不正确：{args.now!r}（例如 2021-10-21T09:00）")
            return 2
        result = send_reminders(deps, now, dry_run=args.dry_run)
        if not result.due:
            print("当前没有到期的提醒。")
            return 0
        if args.dry_run:
            for item in result.due:
                text, _ = render("reminder", item.context)
                print(f"收件人：{', '.join(item.to)}" + (f"　抄送：{', '.join(item.cc)}" if item.cc else ""))
                print(f"主题：{item.subject}")
                print(f"（提醒时点：{cn_date(item.slot)}）\n")
                print(text)
                print("-" * 60)
            print(f"（试运行）共 {len(result.due)} 封提醒将发送，未发送也未记录。")
            return 0
        if deps.config.smtp is None:
            err("到期的提醒未发送：配置文件中没有 [smtp] 段。请配置发信邮箱后重新运行。")
            return 1
        for item in result.queued:
            print(f"已生成提醒：{item.section}（尚缺 {len(item.context.outstanding)} 项）→ {', '.join(item.to)}")
        return 0 if print_flush(result.flush, deps.config.smtp) else 1
    except ConfigError as exc:
        err(str(exc))
        return 1
    finally:
        deps.close()
