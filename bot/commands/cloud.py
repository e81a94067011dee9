"""``intake cloud``: cloud files (超大附件, 金山文档, 腾讯文档, QQ 中转站, 网盘) announced by link.

``intake cloud`` lists the open links (``--all``: closed ones too); ``intake cloud fetched C3 FILE``
records the file the coordinator downloaded by hand as if it had been attached, and closes the link;
``intake cloud dismiss C3`` closes a link that will not be fetched. Both are logged actions
(``intake undo``), the same as the mailed ``已下载 C3`` and ``关闭 C3`` (``bot.coordinator.cloud``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bot.commands import help_for
from bot.commands._actions import add_dry_run, run_logged
from bot.commands._common import add_config_option, cell, open_app, terminal_json
from bot.coordinator.cloud import cloud_files, dismiss, fetch_path
from bot.coordinator.status import cloud_json

_STATUS = {"pending": "待下载", "fetched": "已下载", "dismissed": "已关闭"}


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser("cloud", help=help_for("cloud"))
    add_config_option(p)
    p.add_argument("--all", action="store_true", help="也列出已下载、已关闭的链接")
    p.add_argument("--json", action="store_true", help="输出 JSON")
    p.set_defaults(func=run_list)
    actions = p.add_subparsers(dest="cloud_action", metavar="操作")

    f = actions.add_parser("fetched", help="登记手工下载的文件（与邮件附件同样存储、校验、计入指标），并关闭链接")
    add_config_option(f)
    f.add_argument("ref", metavar="编号", help="云附件编号，例如 C3（见 intake cloud）")
    f.add_argument("file", type=Path, metavar="文件", help="下载后保存的文件")
    f.add_argument("--name", metavar="文件名", help="登记用的文件名（默认：下载文件本身的名称）")
    add_dry_run(f)
    f.set_defaults(func=run_fetched)

    d = actions.add_parser("dismiss", help="关闭链接，不再下载（例如已请科室重新发送）")
    add_config_option(d)
    d.add_argument("ref", metavar="编号", help="云附件编号，例如 C3")
    d.add_argument("--reason", default="", metavar="原因", help="关闭的原因（记入操作日志）")
    add_dry_run(d)
    d.set_defaults(func=run_dismiss)


def run_list(args: argparse.Namespace) -> int:
    deps = open_app(args)
    if deps is None:
        return 1
    tz = deps.config.campaign.tz
    now = deps.clock()
    try:
        with deps.sessions() as s:
            rows = cloud_files(s, include_closed=args.all)
            if args.json:
                sys.stdout.write(terminal_json([cloud_json(c) for c in rows]) + "\n")
                return 0
            if not rows:
                print("没有待下载的云附件。" if not args.all else "没有云附件。")
                return 0
            table = Table(title="云附件（超大附件、在线文档、网盘）")
            for column in ("编号", "状态", "科室 / 发件人", "文件", "指标", "到期", "链接"):
                table.add_column(column, overflow="fold")
            for c in rows:
                expiry = "未知"
                if c.expires_at is not None:
                    expiry = f"{c.expires_at.astimezone(tz):%Y-%m-%d %H:%M}"
                    expiry += "（已过期）" if c.expires_at <= now else ""
                table.add_row(
                    f"C{c.id}",
                    _STATUS.get(c.status, c.status),
                    cell(c.mail.section or c.mail.from_addr),
                    cell(c.filename + (f"（{c.size_text}）" if c.size_text else "")),
                    "、".join(c.indicators or []) or "—",
                    expiry,
                    cell(c.url),
                )
            Console(width=None if sys.stdout.isatty() else 180).print(table)
            print("下载后登记：intake cloud fetched C编号 文件；不再下载：intake cloud dismiss C编号 --reason 原因")
    finally:
        deps.close()
    return 0


def run_fetched(args: argparse.Namespace) -> int:
    return run_logged(
        args,
        lambda deps, s, actor, command: fetch_path(
            s, deps, args.ref, args.file, filename=args.name, actor=actor, command=command
        ),
    )


def run_dismiss(args: argparse.Namespace) -> int:
    return run_logged(
        args,
        lambda deps, s, actor, command: dismiss(s, deps, args.ref, reason=args.reason, actor=actor, command=command),
    )
