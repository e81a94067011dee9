"""``intake return`` / ``accept`` / ``declare``: the coordinator's verdicts on the command line.

The same actions as the mailed commands (``bot.coordinator.actions``); ``return`` also queues the notice to the
section (``bot.coordinator.mailcommands.queue_return_notice``) and sends what is due in the outbox.
"""

from __future__ import annotations

import argparse
import re

from bot.commands import help_for
from bot.commands._common import add_config_option, err, open_app, run_action, shown
from bot.coordinator.actions import ActionError, accept, declare, return_
from bot.coordinator.mailcommands import queue_return_notice
from bot.outgoing.sending import flush_outbox, flush_summary


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    r = subparsers.add_parser("return", help=help_for("return"))
    add_config_option(r)
    r.add_argument("refs", nargs="*", metavar="编号", help="文件编号 A34、待办编号 R12，或指标编号 12")
    r.add_argument("--section", metavar="科室", help="按指标退回时的科室（该指标有多个责任单位时必填）")
    r.add_argument("--reason", required=True, metavar="原因", help="退回原因（会写入通知邮件）")
    r.add_argument("--no-send", action="store_true", help="只加入发件队列，不立即发送")
    r.set_defaults(func=run_return)

    a = subparsers.add_parser("accept", help=help_for("accept"))
    add_config_option(a)
    a.add_argument("ids", nargs="+", metavar="指标", help="指标编号，例如 12 或 指标12")
    a.add_argument("--section", metavar="科室", help="只确认该科室的材料（默认：所有已报送的科室）")
    a.set_defaults(func=run_accept)

    d = subparsers.add_parser("declare", help=help_for("declare"))
    add_config_option(d)
    d.add_argument("ids", nargs="+", metavar="指标", help="指标编号，例如 45")
    d.add_argument("--section", required=True, metavar="科室")
    d.set_defaults(func=run_declare)


def _split(refs: list[str]) -> tuple[list[str], list[str]]:
    """File/review refs (A34, R12, sha prefix) and indicator words (12, 指标12, 加分项1)."""
    files = [r for r in refs if re.fullmatch(r"[AaRr#]\d+|[0-9a-fA-F]{8,64}", r) and not r.isdigit()]
    return files, [r for r in refs if r not in files]


def run_return(args: argparse.Namespace) -> int:
    deps = open_app(args)
    if deps is None:
        return 1
    try:
        files, words = _split(args.refs)
        with deps.sessions.begin() as s:
            result = return_(s, deps.catalogue, files, words, reason=args.reason, section=args.section, source="cli")
            for item in result.items:
                queue_return_notice(s, deps, item)
        print(shown(result.text))
        if not args.no_send:
            print(flush_summary(flush_outbox(deps)))
    except ActionError as exc:
        err(str(exc))
        return 1
    finally:
        deps.close()
    return 0


def run_accept(args: argparse.Namespace) -> int:
    return run_action(args, lambda deps, s: accept(s, deps.catalogue, args.ids, section=args.section, source="cli"))


def run_declare(args: argparse.Namespace) -> int:
    return run_action(args, lambda deps, s: declare(s, deps.catalogue, args.ids, section=args.section))
