"""``intake catalog``: show the checklist as a table or as JSON."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text

from bot.commands import help_for
from rules.catalogue import Catalogue, CatalogueError, Indicator, load_catalogue


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser("catalog", help=help_for("catalog"))
    p.add_argument("--section", metavar="科室", help="只显示该科室负责的指标，例如 支队")
    p.add_argument("--json", action="store_true", help="输出 JSON 数组")
    p.add_argument("--catalogue", type=Path, metavar="文件", help="使用其他指标清单 JSON（默认内置清单）")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        catalogue = load_catalogue(args.catalogue)
    except (OSError, CatalogueError) as exc:
        print(f"无法读取指标清单：{exc}", file=sys.stderr)
        return 1
    indicators = catalogue.indicators
    if args.section:
        indicators = catalogue.for_section(args.section)
        if not indicators:
            known = "、".join(catalogue.sections)
            print(f"没有科室“{args.section}”负责的指标。已知科室：{known}", file=sys.stderr)
            return 1
    if args.json:
        json.dump([i.to_json() for i in indicators], sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return 0
    _print_table(catalogue, indicators, args.section)
    return 0


def _print_table(catalogue: Catalogue, indicators: tuple[Indicator, ...], section: str | None) -> None:
    c = catalogue.campaign
    title = f"{c.title} 指标清单（{len(indicators)} 项"
    title += f"，{section}）" if section else "）"
    table = Table(title=title, show_lines=True, expand=False)
    for col, kw in (
        ("序号", {"justify": "right", "min_width": 3}),
        ("二级指标", {"max_width": 14}),
        ("三级指标", {"max_width": 40}),
        ("填报材料", {"max_width": 36}),
        ("字数", {"justify": "right", "min_width": 4}),
        ("时段", {"min_width": 6}),
        ("责任单位及责任人", {"max_width": 18}),
    ):
        table.add_column(col, overflow="fold", **kw)
    last_level1 = None
    for ind in indicators:
        if ind.level1 != last_level1:
            table.add_section()
            last_level1 = ind.level1
        owners = "\n".join(f"{o.section}（{'、'.join(o.persons)}）" for o in ind.owners)
        table.add_row(
            ind.id,
            Text(f"{ind.level2_no}.{ind.level2}"),
            Text(ind.text),
            Text(ind.materials) if ind.materials else "[dim]不需提供材料[/dim]",
            str(ind.word_limit or ""),
            ind.period_hint or "",
            Text(owners),
        )
    console = Console(width=None if sys.stdout.isatty() else 160)
    console.print(table)
    console.print(
        f"截止日期：{c.deadline_month}月{c.deadline_day}日；报送邮箱：{c.mailbox}；"
        f"未注明时段的以 {c.default_period_start} 至 {c.default_period_end} 的工作为主。"
    )
