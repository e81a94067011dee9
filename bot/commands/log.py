"""``intake log`` / ``undo``: the action log (who, when, what, before and after) and undoing one entry.

Every change the coordinator makes (assign, dismiss, return, accept, declare, by CLI or by mail) is
logged with its row changes; ``undo N`` reverses entry N unless a later change got in the way.
"""

from __future__ import annotations

import argparse
import json
import sys

from rich.console import Console
from rich.table import Table
from rich.text import Text
from sqlalchemy import select

from bot.commands import help_for
from bot.commands._actions import add_dry_run, run_logged
from bot.commands._common import add_config_option, open_app
from bot.coordinator.actions import undo_action
from bot.coordinator.journal import describe
from db.models import ActionLog

_VERBS = {
    **{"assign": "指派", "dismiss": "关闭", "return": "退回", "accept": "确认", "declare": "不涉及", "undo": "撤销"},
    **{"fetched": "已下载", "clear_flag": "解除涉密"},
}


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser("log", help=help_for("log"))
    add_config_option(p)
    p.add_argument("--limit", type=int, default=20, metavar="条数", help="显示最近多少条（默认 20；0 表示全部）")
    p.add_argument("--json", action="store_true", help="输出 JSON")
    p.set_defaults(func=run_log)

    u = subparsers.add_parser("undo", help=help_for("undo"))
    add_config_option(u)
    u.add_argument("number", metavar="操作编号", help="intake log 中的编号，例如 7")
    add_dry_run(u)
    u.set_defaults(func=run_undo)


def run_log(args: argparse.Namespace) -> int:
    deps = open_app(args)
    if deps is None:
        return 1
    tz = deps.config.campaign.tz
    try:
        with deps.sessions() as s:
            stmt = select(ActionLog).order_by(ActionLog.id.desc())
            if args.limit > 0:
                stmt = stmt.limit(args.limit)
            entries = list(reversed(s.scalars(stmt).all()))
            rows = [
                (entry, [describe(s, change) for change in entry.changes]) for entry in entries
            ]  # described inside the session: names of files are looked up
        if args.json:
            json.dump([_json(e, changes) for e, changes in rows], sys.stdout, ensure_ascii=False, indent=2)
            sys.stdout.write("\n")
            return 0
        if not rows:
            print("操作日志为空：还没有人指派、退回、确认、登记不涉及或关闭待办。")
            return 0
        table = Table(title=f"操作日志（最近 {len(rows)} 条）", show_lines=True)
        for col in ("编号", "时间", "谁", "指令", "结果", "改动（前 → 后）", "状态"):
            table.add_column(col, overflow="fold")
        for entry, changes in rows:
            who = ("命令行 " if entry.source == "cli" else "邮件 ") + entry.actor
            state = f"已撤销（操作 {entry.undone_by}）" if entry.undone_at is not None else ""
            lines = "\n".join(f"{what}：{before} → {after}" for what, before, after in changes)
            table.add_row(
                str(entry.id),
                f"{entry.created_at.astimezone(tz):%m-%d %H:%M}",
                Text(who),
                Text(entry.command),
                Text(entry.summary),
                Text(lines),
                state,
            )
        Console(width=None if sys.stdout.isatty() else 180).print(table)
        print("撤销某条操作：intake undo 编号（邮件中写“撤销 编号”）。")
    finally:
        deps.close()
    return 0


def _json(entry: ActionLog, changes: list[tuple[str, str, str]]) -> dict[str, object]:
    return {
        "id": entry.id,
        "at": entry.created_at.isoformat(),
        "source": entry.source,
        "actor": entry.actor,
        "verb": entry.verb,
        "verb_label": _VERBS.get(entry.verb, entry.verb),
        "command": entry.command,
        "summary": entry.summary,
        "changes": [{"what": w, "before": b, "after": a} for w, b, a in changes],
        "undone_by": entry.undone_by,
    }


def run_undo(args: argparse.Namespace) -> int:
    return run_logged(args, lambda deps, s, actor, command: undo_action(s, args.number, actor=actor))
