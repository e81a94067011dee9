"""``intake clear-flag A34`` (or ``R12``): the coordinator checked a file flagged 疑似涉密 and it is not
classified; the flag is cleared (logged; ``intake undo`` restores it) and the file is exported again."""

from __future__ import annotations

import argparse

from bot.commands import help_for
from bot.commands._actions import add_dry_run, run_logged
from bot.commands._common import add_config_option
from bot.coordinator.flags import clear_flag


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser("clear-flag", help=help_for("clear-flag"))
    add_config_option(p)
    p.add_argument("ref", metavar="编号", help="文件编号 A34，或“疑似涉密”待办编号 R12")
    add_dry_run(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    return run_logged(args, lambda deps, s, actor, command: clear_flag(s, args.ref, actor=actor, command=command))
