"""The ``intake`` command line: argparse with one module per subcommand in ``bot/commands``."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

# Order here is the order of ``intake --help``.
# Modules, not command names: ``coordinator`` registers ``return``/``accept``/``declare``.
COMMANDS = (
    "demo", "init", "doctor",
    "catalog", "match", "poll", "status", "review", "coordinator", "export", "remind", "digest", "send", "run", "db",
)  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="intake",
        description="intake：依法行政示范单位创建材料收集机器人（邮箱收件、匹配指标、回执、提醒、汇总）。",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="输出调试日志")
    subparsers = parser.add_subparsers(dest="command", metavar="命令")
    for name in COMMANDS:
        module = importlib.import_module(f"bot.commands.{name}")
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    result: int = func(args)
    return result


if __name__ == "__main__":
    raise SystemExit(main())
