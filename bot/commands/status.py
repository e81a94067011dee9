"""``intake status``: each indicator's state per section, and what waits for the coordinator."""

from __future__ import annotations

import argparse
import sys

from rich.console import Console
from rich.table import Table

from bot.commands import help_for
from bot.commands._common import add_config_option, cell, err, open_app, terminal_json
from bot.coordinator.status import Snapshot, snapshot_json, take_snapshot
from rules.progress import STATE_LABELS, State, tally

_STYLE = {
    State.OUTSTANDING: "red",
    State.RECEIVED: "green",
    State.ACCEPTED: "bold green",
    State.NOT_APPLICABLE: "yellow",
    State.NOT_REQUIRED: "dim",
}


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser("status", help=help_for("status"))
    add_config_option(p)
    p.add_argument("--section", metavar="科室", help="只看该科室负责的指标")
    p.add_argument("--json", action="store_true", help="输出 JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    deps = open_app(args)
    if deps is None:
        return 1
    try:
        if args.section and args.section not in deps.catalogue.sections:
            err(f"没有科室“{args.section}”。已知科室：{'、'.join(deps.catalogue.sections)}")
            return 1
        with deps.sessions() as s:
            snap = take_snapshot(s, deps.catalogue)
            if args.json:
                sys.stdout.write(terminal_json(snapshot_json(snap, section=args.section)) + "\n")
            else:
                print_status(snap, args.section, Console(width=None if sys.stdout.isatty() else 140))
    finally:
        deps.close()
    return 0


def print_status(snap: Snapshot, section: str | None, console: Console) -> None:
    t = tally(snap.items, section=section)
    console.print(f"[bold]总体进度[/bold]：{t.done}/{t.total}（{t.percent}%）" + (f" —— {section}" if section else ""))
    table = Table(show_lines=False)
    table.add_column("序号", justify="right")
    table.add_column("状态")
    table.add_column("各科室", overflow="fold")
    table.add_column("文件", overflow="fold")
    for p in snap.items:
        if section is not None and section not in p.indicator.sections:
            continue
        owners = "，".join(
            f"{o.section}:[{_STYLE[o.state]}]{STATE_LABELS[o.state]}[/]"
            for o in p.owners
            if section is None or o.section == section
        )
        files = cell(
            "；".join(
                f"{f.filename}（{f.section or '未知发件人'}）"
                for f in snap.files.get(p.indicator.id, [])
                if section is None or f.section == section
            )
        )  # not markup: a file called "[12]材料.docx" must show as sent
        table.add_row(p.indicator.id, f"[{_STYLE[p.state]}]{STATE_LABELS[p.state]}[/]", owners, files)
    console.print(table)
    if snap.review:
        console.print(f"[bold]待人工确认[/bold]（{len(snap.review)} 项，用 intake review 查看）")
    if snap.cloud_files:
        console.print(f"[bold]待下载的云附件[/bold]：{len(snap.cloud_files)} 个")
    if snap.errors:
        console.print(f"[bold red]解析失败的邮件[/bold red]：{len(snap.errors)} 封")
