"""``intake match``: show what the rules decide for a subject and file names (or a file of them).

A tool for the coordinator to check the conventions staff use, one mail at a time or a whole
mailbox's worth from JSON lines (``{"subject": ..., "attachments": [...], "body": ...}``).
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

_MATCHED_BY = {"filename": "文件名", "subject": "邮件主题", "similarity": "内容相似度"}


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
    p.add_argument("--json", action="store_true", help="输出 JSON")
    p.add_argument(
        "--batch",
        type=Path,
        metavar="文件",
        help='逐行读取 JSON（{"subject", "attachments", "body"}），按顺序每行输出一个结果；“-”为标准输入',
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
        if args.subject is not None or args.attachment:
            print("--batch 不能与主题或 --attachment 同时使用", file=sys.stderr)
            return 2
        return _run_batch(args.batch, catalogue, as_json=args.json)
    if args.subject is None:
        print("请给出邮件主题，或使用 --batch 文件", file=sys.stderr)
        return 2
    decision = evaluate(args.subject, args.attachment, catalogue, args.body)
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
    for number, record in _records(lines):
        if isinstance(record, str):
            print(f"第{number}行：{record}", file=sys.stderr)
            return 1
        subject, attachments, body = record
        _emit(evaluate(subject, attachments, catalogue, body), as_json=as_json, out=sys.stdout)
        if not as_json:
            sys.stdout.write("\n")
    return 0


def _records(lines: Iterable[str]) -> Iterator[tuple[int, tuple[str, list[str], str] | str]]:
    """``(line number, (subject, attachments, body))``, or ``(line number, error)``; blank lines skipped."""
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
        yield number, (data["subject"], attachments, body)


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
            lines.append(f"  {att.filename} → 待人工确认（{att.reason}）{hint}")
        else:
            how = _MATCHED_BY.get(att.matched_by, att.matched_by)
            lines.append(f"  {att.filename} → 指标{'、'.join(att.indicators)}（依据：{how}）")
    if not decision.attachments:
        lines.append("附件：无")
    if decision.problems:
        lines.append("问题：")
        lines.extend(f"  [{p.code}] {p.detail}" for p in decision.problems)
    return "\n".join(lines) + "\n"
