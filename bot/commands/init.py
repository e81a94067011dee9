"""``intake init``: write config.toml from config.example.toml, by questions or by flags."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path

from bot.commands import help_for
from bot.commands._common import err
from bot.config import default_config_path
from bot.init_config import (
    Answers,
    InitError,
    SectionAnswer,
    check_email,
    default_deadline,
    find_template,
    parse_deadline,
    parse_person,
    parse_section,
    render_config,
    section_answer,
    write_config,
)
from rules.catalogue import load_catalogue

DEFAULT_CAMPAIGN = "焦作市生态环境局依法行政示范单位创建"
DEFAULT_DATABASE = "sqlite:///var/intake.db"  # relative paths are relative to the config file's folder
DEFAULT_FILES = "var/files"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser("init", help=help_for("init"),
        description=(
            "按 config.example.toml 生成配置文件（保留其中的说明注释），"
            "填入邮箱账号、协调人和各科室的负责人与发件地址。"
            "不会写入授权码：授权码放在环境变量 INTAKE_IMAP_PASSWORD / INTAKE_SMTP_PASSWORD 中。"
        ),
    )
    p.add_argument("--config", type=Path, default=None, metavar="文件", help="要写入的配置文件（默认 ./config.toml）")
    p.add_argument("--template", type=Path, default=None, metavar="文件", help="模板（默认 config.example.toml）")
    p.add_argument("--mailbox", metavar="邮箱", help="收件邮箱账号，例如 jzhbjfzk@163.com（IMAP 与 SMTP 共用）")
    p.add_argument(
        "--campaign-name", metavar="名称", help=f"活动名称，出现在回执、提醒和汇总中（默认“{DEFAULT_CAMPAIGN}”）"
    )
    p.add_argument("--deadline", metavar="日期", help="报送截止日期，例如 2025-06-30（不能早于今天）")
    p.add_argument("--coordinator-name", metavar="姓名", help="协调人姓名")
    p.add_argument("--coordinator-email", action="append", default=[], metavar="邮箱", help="协调人邮箱（可重复）")
    p.add_argument(
        "--section",
        action="append",
        default=[],
        metavar="科室=姓名<邮箱>,其他地址",
        help="一个科室：例如 --section '支队=刘建设 <zhidui@example.com>,zhidui2@example.com'（可重复）",
    )
    p.add_argument(
        "--database", metavar="URL", help=f"数据库 URL（默认 {DEFAULT_DATABASE}，相对路径相对于配置文件所在目录）"
    )
    p.add_argument("--files", metavar="目录", help=f"文件存储目录（默认 {DEFAULT_FILES}）")
    p.add_argument("--force", action="store_true", help="覆盖已有的配置文件（旧文件另存为 .bak）")
    p.add_argument("--non-interactive", action="store_true", help="不提问：缺少的必填项直接报错")
    p.set_defaults(func=run)


Ask = Callable[[str], str]


def _ask_stdin(prompt: str) -> str:
    print(prompt, end="", flush=True)
    line = sys.stdin.readline()
    if not line:
        raise InitError("输入已结束，未完成配置。")
    return line.strip()


def _ask_until(ask: Ask, prompt: str, parse: Callable[[str], object], *, default: str = "") -> str:
    while True:
        shown = f"{prompt}" + (f"［{default}］" if default else "") + "："
        value = ask(shown) or default
        try:
            parse(value)
        except InitError as exc:
            print(f"  {exc}，请重新输入。")
            continue
        return value


def collect(args: argparse.Namespace, ask: Ask | None, today: date | None = None) -> Answers:
    """The answers from flags, asking (when ``ask`` is given) for what the flags left out."""
    today = today or date.today()
    answers = Answers()
    if args.mailbox:
        answers.mailbox = check_email(args.mailbox, "收件邮箱")
    elif ask is not None:
        answers.mailbox = check_email(
            _ask_until(ask, "收件邮箱账号（163）", lambda v: check_email(v, "收件邮箱"), default=answers.mailbox),
            "收件邮箱",
        )
    answers.campaign_name = (args.campaign_name or "").strip()
    if not answers.campaign_name and ask is not None:
        answers.campaign_name = _ask_until(ask, "活动名称（出现在回执、提醒和汇总中）", _required("活动名称"),
                                           default=DEFAULT_CAMPAIGN)  # fmt: skip
    answers.campaign_name = answers.campaign_name or DEFAULT_CAMPAIGN
    if args.deadline:
        answers.deadline = parse_deadline(args.deadline, today)
    elif ask is not None:
        campaign = load_catalogue(None).campaign
        suggested = default_deadline(campaign.deadline_month, campaign.deadline_day, today).isoformat()
        value = _ask_until(ask, "报送截止日期（例如 2025-06-30）", lambda v: parse_deadline(v, today),
                           default=suggested)  # fmt: skip
        answers.deadline = parse_deadline(value, today)
    else:
        raise InitError("缺少截止日期：请加 --deadline，例如 --deadline 2025-06-30")
    answers.database = args.database
    if not answers.database and ask is not None:
        answers.database = _ask_until(ask, "数据库（SQLite 文件或 postgresql://…）", _required("数据库"),
                                      default=DEFAULT_DATABASE)  # fmt: skip
    answers.files = args.files
    if not answers.files and ask is not None:
        answers.files = _ask_until(ask, "文件存储目录", _required("文件存储目录"), default=DEFAULT_FILES)
    answers.coordinator_name = (args.coordinator_name or "").strip()
    if not answers.coordinator_name and ask is not None:
        answers.coordinator_name = _ask_until(ask, "协调人姓名", _required("协调人姓名"))
    if not answers.coordinator_name:
        raise InitError("缺少协调人姓名：请加 --coordinator-name")
    emails = [check_email(e, "协调人邮箱") for e in args.coordinator_email]
    if not emails and ask is not None:
        value = _ask_until(ask, "协调人邮箱（接收每日汇总，多个用逗号分隔）", _emails)
        emails = _emails(value)
    if not emails:
        raise InitError("缺少协调人邮箱：请加 --coordinator-email")
    answers.coordinator_emails = emails
    answers.sections = [parse_section(spec) for spec in args.section]
    if not answers.sections and ask is not None:
        answers.sections = _ask_sections(ask)
    return answers


def _required(what: str) -> Callable[[str], object]:
    def parse(value: str) -> object:
        if not value.strip():
            raise InitError(f"{what}不能为空")
        return value

    return parse


def _emails(value: str) -> list[str]:
    emails = [check_email(v, "协调人邮箱") for v in value.replace("，", ",").split(",") if v.strip()]
    if not emails:
        raise InitError("至少需要一个邮箱")
    return emails


def _ask_sections(ask: Ask) -> list[SectionAnswer]:
    print("各科室：填写负责人（接收催报提醒）和发件地址。回车跳过该科室。")
    sections: list[SectionAnswer] = []
    for name in load_catalogue(None).sections:
        owners = _ask_until(ask, f"  {name} 负责人（姓名 <邮箱>，多人用逗号分隔）", _people(name))
        if not owners:
            continue
        extra = _ask_until(ask, f"  {name} 其他发件地址（逗号分隔，可空）", _people(name))
        sections.append(section_answer(name, _split(owners) + _split(extra)))
    return sections


def _split(value: str) -> list[str]:
    return [v for v in value.replace("，", ",").split(",") if v.strip()]


def _people(section: str) -> Callable[[str], object]:
    def parse(value: str) -> object:
        return [parse_person(v, f"科室“{section}”的") for v in _split(value)]

    return parse


def run(args: argparse.Namespace) -> int:
    path: Path = args.config or default_config_path()
    template = args.template or find_template()
    if template is None or not template.is_file():
        err("找不到模板 config.example.toml：请在 intake 源码目录中运行，或用 --template 指定。")
        return 1
    if path.exists() and not args.force:
        err(f"{path} 已存在，未覆盖。确认要重写请加 --force（旧文件会先另存为 {path.name}.bak）。")
        return 1
    try:
        answers = collect(args, None if args.non_interactive else _ask_stdin)
        known = set(load_catalogue(None).sections)
        unknown = [s.name for s in answers.sections if s.name not in known]
        if unknown:
            raise InitError(f"指标清单中没有科室：{'、'.join(unknown)}（已知：{'、'.join(sorted(known))}）")
        write_config(path, render_config(template.read_text(encoding="utf-8"), answers), force=args.force)
    except InitError as exc:
        err(str(exc))
        return 1
    print(f"已写入 {path}（{len(answers.sections)} 个科室）。")
    print(f"  活动：{answers.campaign_name}；截止日期：{answers.deadline}")
    print(f"  数据库：{answers.database or DEFAULT_DATABASE}；文件：{answers.files or DEFAULT_FILES}")
    print("下一步：")
    print("  1. 在 163 网页版开启 IMAP/SMTP 服务并生成“客户端授权码”（不是网页登录密码）；")
    print(
        "  2. 设置环境变量 INTAKE_IMAP_PASSWORD 和 INTAKE_SMTP_PASSWORD 为该授权码（作为服务运行时见 docs/DEPLOY.md）；"
    )
    print(f"  3. 运行 intake doctor --config {path} 检查。")
    return 0
