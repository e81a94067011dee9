"""``intake doctor``: check config, mailbox, SMTP, database, storage and clock; explain each failure."""

from __future__ import annotations

import argparse

from bot.commands import help_for
from bot.commands._common import add_config_option
from bot.config import default_config_path
from bot.doctor import FAIL, OK, SKIP, WARN, Check, run_checks

_MARK = {OK: "✓", WARN: "!", FAIL: "✗", SKIP: "-"}


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser("doctor", help=help_for("doctor"),
        description="逐项检查 intake 依赖的外部条件；不发送任何邮件，不改动邮箱。有任何一项失败时退出码为 1。",
    )
    add_config_option(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    path = args.config or default_config_path()
    checks = run_checks(path)
    print(render(checks))
    return 1 if any(c.failed for c in checks) else 0


def render(checks: list[Check]) -> str:
    lines: list[str] = []
    area = None
    for c in checks:
        if c.area != area:
            area = c.area
            lines.append(f"【{area}】")
        lines.append(f"  {_MARK[c.status]} {c.step}：{c.detail}")
        if c.fix and c.status in (WARN, FAIL):
            lines.append(f"      解决：{c.fix}")
    failed = sum(c.failed for c in checks)
    warned = sum(c.status == WARN for c in checks)
    if failed:
        lines.append(
            f"\n有 {failed} 项未通过{f'，{warned} 项提醒' if warned else ''}。按“解决”一行处理后再运行 intake doctor。"
        )
    else:
        lines.append(
            f"\n全部通过{f'（{warned} 项提醒）' if warned else ''}。可以运行 intake poll 试收一次，或启动服务。"
        )
    return "\n".join(lines)
