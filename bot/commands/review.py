"""``intake review`` / ``assign`` / ``dismiss``: the coordinator's queue on the command line."""

from __future__ import annotations

import argparse
import sys

from rich.console import Console
from rich.table import Table

from bot.commands import help_for
from bot.commands._common import add_config_option, cell, open_app, run_action
from bot.coordinator.actions import assign, dismiss
from db.queries import open_review_items
from rules import codes


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser("review", help=help_for("review"))
    add_config_option(p)
    p.set_defaults(func=run_review)

    a = subparsers.add_parser("assign", help=help_for("assign"))
    add_config_option(a)
    a.add_argument("ref", metavar="编号", help="待办编号 R12，或文件编号 A34 / SHA-256 前缀")
    a.add_argument("ids", nargs="*", metavar="指标", help="指标编号，例如 12 13 或 加分项1")
    a.add_argument("--section", metavar="科室", help="文件所属科室（发件人未登记时必填）")
    a.set_defaults(func=run_assign)

    d = subparsers.add_parser("dismiss", help=help_for("dismiss"))
    add_config_option(d)
    d.add_argument("ref", metavar="编号", help="待办编号，例如 R12")
    d.add_argument("--reason", default="", metavar="原因")
    d.set_defaults(func=run_dismiss)


def run_review(args: argparse.Namespace) -> int:
    deps = open_app(args)
    if deps is None:
        return 1
    try:
        with deps.sessions() as s:
            items = open_review_items(s)
            if not items:
                print("没有待人工确认的事项。")
                return 0
            table = Table(title=f"待人工确认（{len(items)} 项）")
            for col in ("编号", "原因", "发件人", "主题", "文件", "候选指标", "说明"):
                table.add_column(col, overflow="fold")
            for r in items:
                # cell(): mail text as sent ("[12]材料" is no markup), minus what a terminal would act on.
                table.add_row(
                    f"R{r.id}",
                    codes.REVIEW_LABELS.get(r.reason, r.reason),
                    cell(r.mail.from_addr or r.mail.from_name),
                    cell(r.mail.subject),
                    cell(f"A{r.attachment.id} {r.attachment.filename}" if r.attachment else ""),
                    "、".join(r.candidates or []),
                    cell(r.detail),
                )
            Console(width=None if sys.stdout.isatty() else 160).print(table)
            print("处理：intake assign R编号 指标…（必要时加 --section 科室）；intake dismiss R编号")
    finally:
        deps.close()
    return 0


def run_assign(args: argparse.Namespace) -> int:
    return run_action(args, lambda deps, s: assign(s, deps.catalogue, args.ref, args.ids, section=args.section))


def run_dismiss(args: argparse.Namespace) -> int:
    return run_action(args, lambda deps, s: dismiss(s, args.ref, reason=args.reason))
