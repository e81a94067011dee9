"""``intake match``: show what the rules decide for a subject and file names (or a file of them).

A tool for the coordinator to check the conventions staff use, one mail at a time or a whole
mailbox's worth from JSON lines (``{"subject": ..., "attachments": [...], "body": ..., "section": ...}``).
``--section`` (or a line's ``"section"``) is the sender's section, used exactly as the poll uses it.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TextIO

from bot.commands import help_for
from rules.catalogue import Catalogue, CatalogueError, load_catalogue
from rules.decision import Decision
from rules.match import evaluate
from rules.match_reasons import evidence_label


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser("match", help=help_for("match"))
    p.add_argument("subject", nargs="?", metavar="主题", help="邮件主题，例如 “指标12-支队-情况说明”")
    p.add_argument(
        "--attachment",
        "-a",
        action="append",
        default=[],
        metavar="文件名",
        help="附件文件名（可重复）",
    )
    p.add_argument("--body", default="", metavar="正文", help="邮件正文（用于识别“无材料”“不涉及”声明）")
    p.add_argument("--section", metavar="科室", help="发件人所在科室（与收信时按发件地址确定的科室用法相同）")
    p.add_argument("--json", action="store_true", help="输出 JSON")
    p.add_argument(
        "--batch",
        type=Path,
        metavar="文件",
        help='逐行读取 JSON（{"subject", "attachments", "body", "section"}），按顺序每行输出一个结果；“-”为标准输入',
    )
    p.add_argument("--catalogue", type=Path, metavar="文件", help="使用其他指标清单 JSON（默认内置清单）")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        catalogue = load_catalogue(args.catalogue)
    except (OSError, CatalogueError) as exc:
        print(f"无法读取指标清单：{exc}", file=sys.stderr)
        return 1
    if args.batch is not None:
        if args.subject is not None or args.attachment or args.section is not None:
            print("--batch 不能与主题、--attachment 或 --section 同时使用（逐行写 section 字段）", file=sys.stderr)
            return 2
        return _run_batch(args.batch, catalogue, as_json=args.json)
    if args.subject is None:
        print("请给出邮件主题，或使用 --batch 文件", file=sys.stderr)
        return 2
    if args.section is not None and args.section not in catalogue.sections:
        print(f"指标清单中没有科室“{args.section}”（可用：{'、'.join(catalogue.sections)}）", file=sys.stderr)
        return 2
    decision = evaluate(args.subject, args.attachment, catalogue, args.body, section=args.section)
    _emit(decision, as_json=args.json, out=sys.stdout)
    return 0


def _run_batch(path: Path, catalogue: Catalogue, *, as_json: bool) -> int:
    try:
        if str(path) == "-":
            return _batch_lines(sys.stdin, catalogue, as_json=as_json)
        with path.open(encoding="utf-8-sig") as handle:
            return _batch_lines(handle, catalogue, as_json=as_json)
    except OSError as exc:
        print(f"无法读取 {path}：{exc}", file=sys.stderr)
        return 1


def _batch_lines(lines: Iterable[str], catalogue: Catalogue, *, as_json: bool) -> int:
    for number, record in _records(lines, catalogue):
        if isinstance(record, str):
            print(f"第{number}行：{record}", file=sys.stderr)
            return 1
        subject, attachments, body, section = record
        _emit(evaluate(subject, attachments, catalogue, body, section=section), as_json=as_json, out=sys.stdout)
        if not as_json:
            sys.stdout.write("\n")
    return 0


def _records(
    lines: Iterable[str], catalogue: Catalogue
) -> Iterator[tuple[int, tuple[str, list[str], str, str | None] | str]]:
    """``(line number, (subject, attachments, body, section))``, or ``(line number, error)``; blank lines
    skipped."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            data: Any = json.loads(line)
        except json.JSONDecodeError as exc:
            yield number, f"不是有效的 JSON（{exc.msg}）"
            return
        if not isinstance(data, dict) or not isinstance(data.get("subject"), str):
            yield number, "缺少字符串字段 subject"
            return
        attachments = data.get("attachments", [])
        body = data.get("body") or ""
        if not isinstance(attachments, list) or not all(isinstance(a, str) for a in attachments):
            yield number, "attachments 必须是文件名字符串的数组"
            return
        if not isinstance(body, str):
            yield number, "body 必须是字符串"
            return
        section = data.get("section")
        if section is not None and (not isinstance(section, str) or section not in catalogue.sections):
            yield number, f"section 必须是指标清单中的科室名（{'、'.join(catalogue.sections)}）"
            return
        yield number, (data["subject"], attachments, body, section)


def _emit(decision: Decision, *, as_json: bool, out: TextIO) -> None:
    if as_json:
        out.write(json.dumps(decision.to_json(), ensure_ascii=False) + "\n")
    else:
        out.write(render(decision))


def render(decision: Decision) -> str:
    """The Decision as readable Chinese text."""
    ids = "、".join(decision.subject_indicators) or "无"
    lines = [f"主题引用指标：{ids}"]
    if decision.declarations:
        lines.append(f"声明无材料/不涉及：{'、'.join(decision.declarations)}")
    if decision.attachments:
        lines.append("附件：")
    for att in decision.attachments:
        if att.needs_review:
            hint = f"；候选指标：{'、'.join(att.candidates)}" if att.candidates else ""
            lines.append(f"  {att.filename} → 待人工确认（{att.reason}）{hint} [{att.evidence}]")
        else:
            how = evidence_label(att.evidence)
            lines.append(f"  {att.filename} → 指标{'、'.join(att.indicators)}（依据：{how}）[{att.evidence}]")
    if not decision.attachments:
        lines.append("附件：无")
    if decision.problems:
        lines.append("问题：")
        lines.extend(
            f"  [{p.code}] " + (f"《{p.filename}》" if p.filename and p.filename not in p.detail else "") + p.detail
            for p in decision.problems
        )
    return "\n".join(lines) + "\n"
