"""``intake export DIR [--zip]``: the materials for the evaluators (see ``bot.coordinator.export``)."""

from __future__ import annotations

import argparse
from pathlib import Path

from bot.commands import help_for
from bot.commands._common import add_config_option, err, open_app
from bot.coordinator.export import MANIFEST_NAME, SUMMARY_NAME, ExportError, export


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser("export", help=help_for("export"))
    add_config_option(p)
    p.add_argument("dir", type=Path, metavar="目录", help="导出到此目录（须为新目录或空目录）")
    p.add_argument("--zip", action="store_true", help="另外打包为 目录.zip")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    deps = open_app(args)
    if deps is None:
        return 1
    try:
        report = export(deps, args.dir, make_zip=args.zip)
    except ExportError as exc:
        err(str(exc))
        return 1
    finally:
        deps.close()
    print(f"已导出 {len(report.files)} 个文件到 {report.root}（{SUMMARY_NAME}、{MANIFEST_NAME}）。")
    if report.missing:
        print(f"仍有 {len(report.missing)} 项待报送（见汇总表“报送状态”列和 manifest.json 的 missing）。")
    if report.withheld_classified:
        print(f"{report.withheld_classified} 个可能涉密的文件未导出（涉密材料在实地核验时提供）。")
    if report.zip_path is not None:
        print(f"压缩包：{report.zip_path}")
    return 0
