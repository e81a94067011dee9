"""The ``intake`` command line: argparse with one module per subcommand in ``bot/commands``."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence

from bot.commands import COMMANDS


def _chosen(argv: Sequence[str]) -> str | None:
    """The subcommand named on the command line (the first word that is one), if any."""
    return next((word for word in argv if word in COMMANDS), None)


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """With ``argv``: the full parser for the command it names, every other command listed with its
    help only, so running one command imports one command module (``bot.commands.COMMANDS``).
    Without: every command registered in full."""
    parser = argparse.ArgumentParser(
        prog="intake",
        description="intake：依法行政示范单位创建材料收集机器人（邮箱收件、匹配指标、回执、提醒、汇总）。",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="输出调试日志")
    subparsers = parser.add_subparsers(dest="command", metavar="命令")
    chosen = _chosen(argv or ())
    for name, (module_name, help_text) in COMMANDS.items():
        if name in subparsers.choices:
            continue  # registered with its module's other commands
        if argv is None or name == chosen or (chosen is not None and COMMANDS[chosen][0] == module_name):
            importlib.import_module(f"bot.commands.{module_name}").register(subparsers)
        else:
            subparsers.add_parser(name, help=help_text)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(words)
    args = parser.parse_args(words)
    # The daemon logs its work for journald; one-off commands print their own Chinese summary and
    # show only warnings unless asked (-v).
    quiet = logging.INFO if args.command == "run" else logging.WARNING
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else quiet,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    try:
        result: int = func(args)
    except BrokenPipeError:
        # Output piped into `head` and the like: stop quietly, as other command-line tools do.
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - stays open until exit
        return 0
    return result


if __name__ == "__main__":
    raise SystemExit(main())
