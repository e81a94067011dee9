"""Write ``config.toml`` from ``config.example.toml``: the bureau's values in, every comment kept.

``render_config(template, answers)`` edits the template line by line: the value of a known key in a
known table is replaced and the rest of the line (the comment) stays; the example ``[[sections]]``
blocks are replaced by one block per section given. ``parse_section`` reads the
``NAME=OWNER <addr>,addr2`` form of ``intake init --section``. No secret is ever written: the
授权码 stays in the environment variable (or file) the template names.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from email.utils import parseaddr
from pathlib import Path

TEMPLATE_NAME = "config.example.toml"
_EMAIL = re.compile(r"^[^@\s<>,]+@[^@\s<>,]+\.[^@\s<>,]+$")
_TABLE = re.compile(r"^\s*(\[\[?)([^\]]+)\]\]?\s*(#.*)?$")
_VALUE = r'"(?:[^"\\]|\\.)*"|\[[^\]]*\]|\d{4}-\d{2}-\d{2}'


class InitError(ValueError):
    """Bad input for the config; the message is Chinese and says what to change."""


@dataclass(frozen=True)
class SectionAnswer:
    name: str
    owners: tuple[tuple[str, str], ...]  # (display name, address)
    senders: tuple[str, ...]


@dataclass
class Answers:
    mailbox: str = "jzhbjfzk@163.com"
    campaign_name: str | None = None  # None: keep the template's
    deadline: date | None = None  # None: keep the template's (only when rendering a template in tests)
    coordinator_name: str = ""
    coordinator_emails: list[str] = field(default_factory=list)
    sections: list[SectionAnswer] = field(default_factory=list)
    database: str | None = None  # None: keep the template's
    files: str | None = None


def find_template() -> Path | None:
    """``config.example.toml`` of this installation (the repository root next to the ``bot`` package),
    or in the current folder."""
    for candidate in (Path(__file__).resolve().parents[1] / TEMPLATE_NAME, Path.cwd() / TEMPLATE_NAME):
        if candidate.is_file():
            return candidate
    return None


def parse_deadline(value: str, today: date) -> date:
    """``2025-06-30`` (also 2025/6/30, 2025年6月30日), not in the past: a past deadline makes the first
    ``intake run`` send every section an overdue reminder."""
    text = value.strip()
    m = re.fullmatch(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?", text)
    if m is None:
        raise InitError(f"截止日期应写成 2025-06-30：{value!r}")
    try:
        deadline = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        raise InitError(f"没有这一天：{value!r}") from None
    if deadline < today:
        raise InitError(f"截止日期 {deadline} 已经过去（今天是 {today}）：请填写本次活动的截止日期")
    return deadline


def default_deadline(month: int, day: int, today: date) -> date:
    """The checklist's deadline day (月/日) in the coming year: this year's, or next year's if past."""
    this_year = date(today.year, month, day)
    return this_year if this_year >= today else date(today.year + 1, month, day)


def check_email(value: str, what: str) -> str:
    address = value.strip()
    if not _EMAIL.match(address):
        raise InitError(f"{what}不是有效的邮箱地址：{value!r}")
    return address.lower()


def parse_person(value: str, what: str) -> tuple[str, str]:
    """``刘建设 <zhidui@example.com>`` or ``刘建设<zhidui@example.com>`` or a bare address."""
    name, address = parseaddr(value.strip())
    if not address or "@" not in address:
        raise InitError(f"{what}应写成“姓名 <邮箱>”：{value!r}")
    return name.strip(), check_email(address, what)


def parse_section(spec: str) -> SectionAnswer:
    """``支队=刘建设 <zhidui@example.com>,zhidui2@example.com``: items with a name are owners (they get
    the reminders); every address, with or without a name, is a sender of that section."""
    name, sep, rest = spec.partition("=")
    name = name.strip()
    if not sep or not name:
        raise InitError(f"--section 的格式为 科室=姓名 <邮箱>,其他发件地址：{spec!r}")
    return section_answer(name, [item for item in rest.split(",") if item.strip()])


def section_answer(name: str, items: Iterable[str]) -> SectionAnswer:
    owners: list[tuple[str, str]] = []
    senders: list[str] = []
    for item in items:
        display, address = parse_person(item, f"科室“{name}”的")
        if display:
            owners.append((display, address))
        if address not in senders:
            senders.append(address)
    if not senders:
        raise InitError(f"科室“{name}”至少需要一个邮箱地址")
    return SectionAnswer(name, tuple(owners), tuple(senders))


def _toml_str(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _toml_list(values: Iterable[str]) -> str:
    return "[" + ", ".join(_toml_str(v) for v in values) + "]"


def _sections_text(sections: list[SectionAnswer]) -> list[str]:
    lines: list[str] = []
    for n, s in enumerate(sections):
        owners = _toml_list(f"{display} <{address}>" for display, address in s.owners)
        first = n == 0  # the first block carries the explanations, as in the template
        lines += [
            "[[sections]]",
            f"name = {_toml_str(s.name)}",
            f"owners = {owners}" + ("   # 接收催报提醒的人（姓名 <邮箱>）" if first else ""),
            f"senders = {_toml_list(s.senders)}" + ("   # 认作本科室来信的发件地址（可多个）" if first else ""),
            "",
        ]
    return lines


def render_config(template: str, answers: Answers) -> str:
    """The template with ``answers`` filled in; comments and unrelated keys untouched."""
    values: dict[tuple[str, str], str] = {
        ("mailbox", "username"): _toml_str(answers.mailbox),
        ("smtp", "username"): _toml_str(answers.mailbox),
        ("smtp", "from"): _toml_str(answers.mailbox),
        ("coordinator", "name"): _toml_str(answers.coordinator_name),
        ("coordinator", "emails"): _toml_list(answers.coordinator_emails),
    }
    if answers.campaign_name is not None:
        values[("campaign", "name")] = _toml_str(answers.campaign_name)
    if answers.deadline is not None:
        values[("campaign", "deadline")] = answers.deadline.isoformat()
    if answers.database is not None:
        values[("storage", "database")] = _toml_str(answers.database)
    if answers.files is not None:
        values[("storage", "files")] = _toml_str(answers.files)
    done: set[tuple[str, str]] = set()
    out: list[str] = []
    table = ""
    in_sections = False
    sections_written = False
    for line in template.splitlines():
        header = _TABLE.match(line)
        if header:
            table = header.group(2).strip()
            in_sections = table == "sections"
            if in_sections:
                if not sections_written:
                    out.extend(_sections_text(answers.sections))
                    sections_written = True
                continue
        if in_sections:
            continue  # the example sections' keys and blank lines
        key_match = re.match(rf"^(\s*)([A-Za-z_]+)(\s*=\s*)({_VALUE})(.*)$", line)
        if key_match and (table, key_match.group(2)) in values:
            key = (table, key_match.group(2))
            line = key_match.group(1) + key[1] + key_match.group(3) + values[key] + key_match.group(5)
            done.add(key)
        out.append(line)
    missing = sorted(f"[{t}] {k}" for t, k in set(values) - done if t != "smtp" or "[smtp]" in template)
    if missing:
        raise InitError(f"模板 {TEMPLATE_NAME} 中找不到这些配置项：{'、'.join(missing)}")
    if not sections_written:
        out += ["", *_sections_text(answers.sections)]
    text = "\n".join(out).rstrip("\n") + "\n"
    return re.sub(r"\n{3,}", "\n\n", text)


def write_config(path: Path, text: str, *, force: bool) -> None:
    """Write ``text`` to ``path`` after it validated (``load_config`` on a temporary file beside it)."""
    from bot.config import ConfigError, load_config

    if path.exists() and not force:
        raise InitError(f"{path} 已存在，未覆盖。确认要重写请加 --force（旧文件会先另存为 {path.name}.bak）。")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.new")
    tmp.write_text(text, encoding="utf-8")
    try:
        load_config(tmp)
    except ConfigError as exc:
        tmp.unlink(missing_ok=True)
        raise InitError(f"生成的配置未通过检查：{exc.problem}（{exc.key}）") from exc
    if path.exists():
        path.replace(path.with_name(path.name + ".bak"))
    tmp.replace(path)
