"""``intake digest``: queue and send today's progress digest to the coordinator once it is due."""

from __future__ import annotations

import argparse
from pathlib import Path

from bot.commands import help_for
from bot.commands._common import add_config_option, err, open_app, shown
from bot.commands.remind import add_time_options, parse_now, print_flush
from bot.config import ConfigError
from bot.outgoing.digest import send_digest, write_digest_html
from bot.outgoing.render import cn_date, render, subject_for


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser("digest", help=help_for("digest"))
    add_config_option(p)
    add_time_options(p)
    p.add_argument("--html", type=Path, metavar="文件", help="只把当前汇总写成 HTML 文件（不发送，不记录）")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    deps = open_app(args)
    if deps is None:
        return 1
    try:
        try:
            now = parse_now(args.now, deps.config.campaign.tz, deps.clock())
        except ValueError:
            err(f"--now 的时间格式不正确：{args.now!r}（例如 2021-10-21T17:30）")
            return 2
        if args.html is not None:
            path = write_digest_html(deps, args.html, now)
            print(f"汇总已写入 {path}")
            return 0
        result = send_digest(deps, now, dry_run=args.dry_run)
        if result.slot is None or result.context is None:
            at = deps.config.coordinator.digest_at.strftime("%H:%M")
            print(f"当前没有到期的汇总（每天 {at} 后发送一次，今日的已发送或时间未到）。")
            return 0
        if args.dry_run:
            text, _ = render("digest", result.context)
            print(f"收件人：{', '.join(deps.config.coordinator.emails)}")
            print(f"主题：{subject_for('digest', result.context)}\n")
            print(shown(text))
            print(f"（演示模式）{cn_date(result.slot)}的汇总未发送也未记录。")
            return 0
        if deps.config.smtp is None:
            err("汇总未发送：配置文件中没有 [smtp] 段。请配置发信邮箱后重新运行。")
            return 1
        if not result.queued:
            print("当前没有到期的汇总。")
            return 0
        print(f"已生成{cn_date(result.slot)}的进度汇总 → {', '.join(deps.config.coordinator.emails)}")
        return 0 if print_flush(result.flush, deps.config.smtp) else 1
    except ConfigError as exc:
        err(str(exc))
        return 1
    finally:
        deps.close()
