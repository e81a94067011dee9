"""``intake demo``: the whole bot in a minute, against mail servers inside the process; no account needed."""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
import tempfile
from datetime import datetime
from pathlib import Path

from rich.console import Console

from bot.commands import help_for
from bot.commands._common import err


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser("demo", help=help_for("demo"),
        description=(
            "在 127.0.0.1 启动内置 IMAP/SMTP 服务器，投递各科室的示例邮件，"
            "再按生产流程运行：收信 → 回执 → 催报提醒 → 每日汇总 → 导出，并显示结果。"
        ),
    )
    p.add_argument("--keep", type=Path, metavar="目录", help="把演示目录（配置、数据库、文件、汇总 HTML）保留在此目录")
    p.add_argument(
        "--now",
        metavar="时间",
        help="演示时钟，ISO 格式，默认 2021-10-25T09:00+08:00（截止日期前 3 天，提醒和汇总都到期）",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not getattr(args, "verbose", False):
        logging.getLogger().setLevel(logging.WARNING)  # the demo prints its own account of each step
    from bot.demo.runner import DEFAULT_NOW, TZ, run_demo  # pymap and trustme load only for the demo

    now = DEFAULT_NOW
    if args.now:
        try:
            now = datetime.fromisoformat(args.now)
        except ValueError:
            err(f"--now 格式不对：{args.now!r}（例如 2021-10-25T09:00+08:00）")
            return 2
        if now.tzinfo is None:
            now = now.replace(tzinfo=TZ)
    if args.keep is not None:
        folder = args.keep.resolve()
        if folder.exists() and any(folder.iterdir()):
            err(f"目录 {folder} 不是空的；请指定一个新目录或空目录。")
            return 1
    else:
        folder = Path(tempfile.mkdtemp(prefix="intake-demo-"))
    console = Console(width=None if sys.stdout.isatty() else 120, highlight=False)
    try:
        result = run_demo(folder, now=now, console=console)
    except Exception as exc:
        err(f"演示失败：{exc}")
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)
        raise
    if args.keep is not None:
        console.print(
            f"\n演示目录已保留：{folder}\n"
            f"  汇总：{result.digest_html}\n"
            f"  查看：intake --help 中的命令加 --config {result.config_path}，例如 "
            f"intake status --config {result.config_path}、intake review --config {result.config_path}\n"
            "  （内置邮件服务器已关闭，poll 不再可用；status、review、assign 等照常可用。）"
        )
    else:
        shutil.rmtree(folder, ignore_errors=True)
        console.print("\n演示目录已删除。想打开汇总 HTML、查看数据库和文件，请加 --keep 目录 再运行一次。")
    console.print("下一步：intake init 生成真实配置，intake doctor 检查邮箱和服务器设置。")
    return 0
