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
    p.add_argument(
        "--keep",
        type=Path,
        metavar="目录",
        help="把演示目录（配置、数据库、文件、汇总 HTML、发出的每封邮件 mail/*.eml 和 .txt）保留在此目录",
    )
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
        config = result.config_path
        later = now.astimezone(TZ).replace(hour=17, minute=30).strftime("%Y-%m-%dT%H:%M")
        console.print(
            f"\n演示目录已保留：{folder}\n"
            f"  汇总：{result.digest_html}\n"
            f"  演示发出的每封邮件（.eml 原文和 .txt 正文）：{result.mail_folder}\n"
            f"  查看：intake --help 中的命令加 --config {config}，例如 "
            f"intake status --config {config}、intake review --config {config}、intake log --config {config}\n"
            f"  时间：演示配置的 \\[campaign] clock 把“现在”固定在 {now.astimezone(TZ):%Y-%m-%d %H:%M}（截止前 3 天），"
            f"命令都按这一时刻计算；要看别的时刻加 --now，例如 "
            f"intake digest --dry-run --now {later} --config {config}\n"
            "  （内置邮件服务器已关闭，poll 和发信不再可用；status、review、assign、undo 等照常可用。）"
        )
    else:
        shutil.rmtree(folder, ignore_errors=True)
        console.print("\n演示目录已删除。想打开汇总 HTML、查看数据库和文件，请加 --keep 目录 再运行一次。")
    console.print("下一步：intake init 生成真实配置，intake doctor 检查邮箱和服务器设置。")
    return 0
