"""``intake inspect FILE.eml...``: how intake reads a mail, without a mailbox, a database or a config.

The tool for "why did my mail go to review?": the subject and sender as decoded, what kind of mail it
is, every file taken as material (name, size, SHA-256, where it came from, damage), what was left out
and why, cloud links, the parser's defects, and the matcher's decision (``intake match --json``).
With ``--config`` also the sender's section and what the rules would do with the files for it.

``--json`` prints one object per file, one per line, in the order given; a file that cannot be read
or parsed gives ``"error"`` and never a traceback (the exit status is then 1).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.commands import help_for
from bot.commands._common import shown, terminal_json
from bot.commands.match import render as render_decision
from rules.material import UNOPENED_CONTAINERS

if TYPE_CHECKING:
    from bot.config import Config
    from bot.mime.mail import IncomingMail
    from rules.catalogue import Catalogue
    from rules.decision import Decision

# Chinese for the stable reasons a part or member is not taken as material (bot.mime.unpacking, walk).
SKIP_REASONS = {
    "inline-image": "正文中显示的图片",
    "empty-part": "空的部分（既无文件名也无内容）",
    "signature": "数字签名",
    "directory": "文件夹",
    "macosx-metadata": "苹果系统附带文件",
    "lock-file": "Office 临时锁文件",
    "system-file": "系统文件",
    "tnef-no-data": "winmail.dat 中的附件没有内容",
    "tnef-no-files": "winmail.dat 中只有邮件正文，没有附件",
    **UNOPENED_CONTAINERS,  # the same words as the review items these become (rules.material)
}
KINDS = {
    "submission": "报送邮件",
    "auto_reply": "自动回复",
    "bounce": "退信",
    "recall": "撤回通知",
    "newsletter": "群发/订阅邮件",
    "own": "本机器人发出的邮件",
}
ORIGINS = {"attachment": "附件", "zip": "压缩包", "forwarded": "转发的邮件", "tnef": "winmail.dat"}


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser("inspect", help=help_for("inspect"))
    p.add_argument("files", nargs="+", type=Path, metavar="邮件.eml", help="要查看的邮件文件（可多个）")
    p.add_argument("--json", action="store_true", help="每个文件输出一行 JSON")
    p.add_argument(
        "--config",
        type=Path,
        default=None,
        metavar="文件",
        help="配置文件：同时给出发件人所属科室及按该科室的处理结果（不连接邮箱和数据库）",
    )
    p.set_defaults(func=run)


@dataclass(frozen=True)
class _Context:
    """What the rules need besides the mail: the catalogue, and with a config the sections."""

    catalogue: Catalogue
    config: Config | None = None
    own_addresses: frozenset[str] = frozenset()


@dataclass
class Inspection:
    """One file: ``report`` is the documented ``--json`` object; the rest is for the readable text."""

    report: dict[str, Any]
    decision: Decision | None = None
    from_name: str = ""
    refused: dict[int, str] = field(default_factory=dict)  # material index -> why it does not count


def run(args: argparse.Namespace) -> int:
    context = _context(args.config)
    if context is None:
        return 1
    failed = False
    for number, path in enumerate(args.files):
        found = inspect_file(path, context)
        failed = failed or found.report["error"] is not None
        if args.json:
            sys.stdout.write(terminal_json(found.report, indent=None) + "\n")
        else:
            sys.stdout.write(("\n" if number else "") + shown(render(found)))
    return 1 if failed else 0


def _context(config_path: Path | None) -> _Context | None:
    from bot.config import ConfigError, load_config
    from rules.catalogue import CatalogueError, load_catalogue

    config = None
    if config_path is not None:
        try:
            config = load_config(config_path)
        except ConfigError as exc:
            print(str(exc), file=sys.stderr)
            return None
    try:
        catalogue = load_catalogue(config.campaign.catalogue if config is not None else None)
    except (OSError, CatalogueError) as exc:
        print(f"无法读取指标清单：{exc}", file=sys.stderr)
        return None
    own: set[str] = set()
    if config is not None:  # as bot.app.build: intake's own addresses (its mail is never a submission)
        own.add(config.mailbox.username.lower())
        if config.smtp is not None:
            own |= {config.smtp.from_addr.lower(), config.smtp.username.lower()}
    return _Context(catalogue, config, frozenset(own))


def inspect_file(path: Path, context: _Context) -> Inspection:
    """Parse one file (in a temporary directory that is removed again) and say what intake makes of it."""
    from bot.mime.parse import ParseError, parse_message_file

    found = Inspection(
        {
            "file": str(path),
            "error": None,
            "message_id": None,
            "from": None,
            "subject": None,
            "kind": None,
            "materials": [],
            "skipped": [],
            "cloud_links": [],
            "defects": [],
            "decision": None,
        }
    )
    if context.config is not None:
        found.report |= {"section": None, "disposition": None}
    with tempfile.TemporaryDirectory(prefix="intake-inspect-") as workdir:
        try:
            mail = parse_message_file(path, Path(workdir))
        except ParseError as exc:
            found.report["error"] = f"无法解析：{exc}"
        except OSError as exc:
            found.report["error"] = f"无法读取：{_os_reason(exc)}"
        except Exception as exc:  # a parser bug must not hide the other files: report it as this file's error
            found.report["error"] = f"解析出错（{type(exc).__name__}: {exc}）"
        else:
            _fill(found, mail, context)
    return found


def _fill(found: Inspection, mail: IncomingMail, context: _Context) -> None:
    """What bot.ingest.poll decides for a submission, step by step, without recording anything."""
    from bot.ingest.findings import not_material_files
    from bot.mime.mail import genuine_message_id
    from rules.authresults import authenticate
    from rules.disposition import disposition
    from rules.mailkind import classify
    from rules.match import evaluate
    from rules.sender import verdict

    names = [m.filename.text for m in mail.materials]
    sender, section = None, None
    if context.config is not None:
        auth = authenticate(
            mail.headers.get("authentication-results"), mail.from_addr, context.config.coordinator.authserv_ids
        )
        sender = verdict(mail.from_addr, mail.sender_doubt, auth)
        section = context.config.section_of(sender.address) if sender.trusted else None
    decision = evaluate(mail.subject.text, names, context.catalogue, mail.body_text, section=section)
    kind = classify(
        mail.headers, mail.content_type, mail.from_addr, mail.subject.text, mail.body_text, context.own_addresses
    )
    refused = not_material_files(mail)  # rules.material: executables, damaged parts, unopened containers
    found.decision, found.from_name = decision, mail.from_name
    found.refused = {index: why.detail for index, why in refused.items()}
    found.report |= {
        "message_id": genuine_message_id(mail.message_id),
        "from": mail.from_addr,
        "subject": mail.subject.text,
        "kind": kind.value,
        "materials": [
            {
                "filename": m.filename.text,
                "size": m.size,
                "sha256": m.sha256,
                "content_type": m.content_type,
                "origin": m.origin,
                "container": m.container,
            }
            for m in mail.materials
        ],
        "skipped": [{"filename": s.name, "reason": s.reason} for s in mail.skipped],
        "cloud_links": [
            {
                "filename": c.filename,
                "url": c.url,
                "provider": c.provider,
                "size_text": c.size_text,
                "expires_at": c.expires_at.isoformat() if c.expires_at else None,
            }
            for c in mail.cloud_links
        ],
        "defects": list(mail.defects),
        "decision": decision.to_json(),
    }
    if sender is not None:
        plan = disposition(
            decision, section, context.catalogue, from_addr=mail.from_addr or mail.from_name,
            has_cloud_links=bool(mail.cloud_links), unverified=None if sender.trusted else sender.doubt,
            not_material=refused,
        )  # fmt: skip
        found.report["section"] = section
        found.report["disposition"] = {
            "assignments": [
                {"filename": names[a.file], "indicator": a.indicator_id, "matched_by": a.matched_by}
                for a in plan.assignments
            ],
            "reviews": [
                {
                    "filename": names[r.file] if r.file is not None else None,
                    "reason": r.reason,
                    "detail": r.detail,
                    "candidates": list(r.candidates),
                }
                for r in plan.reviews
            ],
            "problems": [
                {"filename": names[p.file] if p.file is not None else None, "code": p.code, "detail": p.detail}
                for p in plan.problems
            ],
            "declarations": list(plan.declarations),
        }


def render(found: Inspection) -> str:
    """One file's inspection as readable Chinese text (``shown()`` before it reaches a terminal: names
    and subjects are a stranger's text)."""
    report = found.report
    lines = [f"文件：{report['file']}"]
    if report["error"] is not None:
        lines.append(f"  错误：{report['error']}")
        return "\n".join(lines) + "\n"
    sender = report["from"] or "（无发件人地址）"
    lines += [
        f"  发件人：{found.from_name} <{sender}>" if found.from_name else f"  发件人：{sender}",
        f"  主题：{report['subject'] or '（无主题）'}",
        f"  Message-ID：{report['message_id'] or '（无，按邮件内容识别）'}",
        f"  邮件类型：{KINDS.get(report['kind'], report['kind'])}",
    ]
    if "section" in report:
        lines.append(f"  发件科室：{report['section'] or '（不属于任何已配置的科室）'}")
    materials = report["materials"]
    lines.append(f"  材料文件（{len(materials)}）：" if materials else "  材料文件：无")
    for number, m in enumerate(materials, start=1):
        where = ORIGINS.get(m["origin"], m["origin"])
        if m["container"]:
            where += f"“{m['container']}”"
        lines.append(f"    {number}. {m['filename']}（{_size(m['size'])}，{m['content_type']}，来自{where}）")
        lines.append(f"       SHA-256：{m['sha256']}")
        if number - 1 in found.refused:
            lines.append(f"       不计入指标：{found.refused[number - 1]}")
    if report["skipped"]:
        lines.append("  未作为材料：")
        lines += [f"    {s['filename']}：{SKIP_REASONS.get(s['reason'], s['reason'])}" for s in report["skipped"]]
    if report["cloud_links"]:
        lines.append("  云附件（超大附件链接）：")
        for c in report["cloud_links"]:
            extra = "，".join(x for x in (c["size_text"], f"{c['expires_at']} 到期" if c["expires_at"] else "") if x)
            lines.append(f"    {c['filename']}" + (f"（{extra}）" if extra else "") + f"：{c['url']}")
    if report["defects"]:
        lines.append("  解析时发现的问题：")
        lines += [f"    - {d}" for d in report["defects"]]
    if found.decision is not None:
        lines.append("  匹配结果：")
        lines += [f"    {line}" for line in render_decision(found.decision).splitlines()]
    if report.get("disposition") is not None:
        lines += _disposition_text(report["disposition"], report["section"])
    return "\n".join(lines) + "\n"


def _disposition_text(plan: dict[str, Any], section: str | None) -> list[str]:
    lines = ["  按发件科室的处理："]
    whose = "" if section else "（未计入任何科室）"
    lines += [f"    {a['filename']} → 计入指标{a['indicator']}{whose}" for a in plan["assignments"]]
    for r in plan["reviews"]:
        target = f"{r['filename']}：" if r["filename"] else ""
        lines.append(f"    待协调人确认：{target}{r['detail']}")
    lines += [f"    问题：{p['detail']}" for p in plan["problems"]]
    if plan["declarations"]:
        lines.append(f"    登记“无材料”：指标{'、'.join(plan['declarations'])}")
    if len(lines) == 1:
        lines.append("    无")
    return lines


def _os_reason(exc: OSError) -> str:
    if isinstance(exc, FileNotFoundError):
        return "文件不存在"
    if isinstance(exc, IsADirectoryError):
        return "这是一个目录，不是邮件文件"
    if isinstance(exc, PermissionError):
        return "没有读取权限"
    return exc.strerror or str(exc)


def _size(size: int) -> str:
    if size < 1024:
        return f"{size} 字节"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / 1024 / 1024:.1f} MB"
