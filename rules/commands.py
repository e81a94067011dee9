"""Read the coordinator's commands from a mail: pure parsing, no database, no sending.

A command is a line that starts with a verb, in the subject (after Re:/回复： prefixes) or among the
first lines of the body (before quoted text). Simple forms, Chinese first, English aliases::

    指派 R12 指标12          assign  R12 12          a review item (R12) or a file (A34) under indicators
    指派 A34 12 13
    退回 A34 原因：缺少盖章页  return A34 reason: ...  send a file back; or 退回 指标12 支队 原因：...
    确认 指标12 / 确认 12 支队  accept 12             the materials are checked
    不涉及 指标45 人事科       na 45 人事科            the section has no material (a declaration)
    状态                      status                 reply with the current digest
    帮助                      help                   reply with this list

A verb must be followed by a space, a colon or comma, the end of the line, or directly by an id
(确认指标12): "确认收到，谢谢" is a sentence, not a command. In a reply to a receipt, the refs may be
left out (``退回 原因：...``): the caller fills in the receipt's mail.

Also here: ``strip_quoted`` (the quoted original of a reply). Whether a command may run is
``rules.authority``'s decision.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field
from enum import StrEnum

from rules.normalize import normalize, strip_reply_prefixes


class Verb(StrEnum):
    ASSIGN = "assign"
    RETURN = "return"
    ACCEPT = "accept"
    DECLARE = "declare"
    STATUS = "status"
    HELP = "help"


VERB_LABELS = {
    Verb.ASSIGN: "指派",
    Verb.RETURN: "退回",
    Verb.ACCEPT: "确认",
    Verb.DECLARE: "不涉及",
    Verb.STATUS: "状态",
    Verb.HELP: "帮助",
}

# Longest aliases first, so 不涉及 wins over a shorter alias that is its prefix.
_ALIASES: tuple[tuple[str, Verb], ...] = tuple(
    sorted(
        {
            "指派": Verb.ASSIGN,
            "分配": Verb.ASSIGN,
            "计入": Verb.ASSIGN,
            "assign": Verb.ASSIGN,
            "退回": Verb.RETURN,
            "驳回": Verb.RETURN,
            "return": Verb.RETURN,
            "reject": Verb.RETURN,
            "确认": Verb.ACCEPT,
            "审核通过": Verb.ACCEPT,
            "accept": Verb.ACCEPT,
            "不涉及": Verb.DECLARE,
            "无材料": Verb.DECLARE,
            "na": Verb.DECLARE,
            "n/a": Verb.DECLARE,
            "declare": Verb.DECLARE,
            "状态": Verb.STATUS,
            "进度": Verb.STATUS,
            "status": Verb.STATUS,
            "帮助": Verb.HELP,
            "help": Verb.HELP,
        }.items(),
        key=lambda kv: -len(kv[0]),
    )
)
# What may directly follow a verb without a space: an id (指标12, 第十二项, 12, R12, A34, 加分项1).
_GLUED_ID = re.compile(r"(?:指标|第|[0-9]|[RrAa#][0-9]|加分|减分|[加减][0-9])")
_REASON_MARK = re.compile(r"(?:原因|理由|退回原因|reason)\s*[:：]\s*", re.IGNORECASE)
_SEPARATORS = re.compile(r"[\s,，、;；]+")
_REF = re.compile(r"^[RrAa#][0-9]+$|^[0-9a-fA-F]{8,64}$")
_INDICATOR = re.compile(
    r"^(?:指标)?(?:第)?(?:[0-9]{1,3}|[一二三四五六七八九十百零〇两]{1,4})(?:项|号)?(?:指标)?$"
    r"|^(?:指标)?(?:加分项|减分项|加分|减分|加|减)[0-9一二三四五六七八九十]{1,2}$"
)
BODY_LINES = 8  # commands are read from this many non-empty lines at the top of the body
# A salutation that may stand above the commands ("刘科长：", "您好！"); any other line ends the search.
_GREETING = re.compile(r"^(?:.{1,20}[:：]|(?:您好|你好|各位好|hi|hello)[!！,，。.]?)$", re.IGNORECASE)

# Where the quoted original of a reply begins (Foxmail/QQ/163/Outlook/Thunderbird/Gmail forms).
_QUOTE_START = re.compile(
    r"^\s*(?:-{2,}\s*(?:原始邮件|Original Message|Forwarded message|转发邮件|回复的原邮件)\s*-{2,}"
    r"|在\s*.{0,80}写道[:：]\s*$"
    r"|On .{0,200}wrote:\s*$"
    r"|(?:发件人|From)\s*[:：].*$"
    r"|_{10,}\s*$)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Command:
    verb: Verb
    text: str  # the line as written (shown in the reply)
    refs: tuple[str, ...] = ()  # R12 (review item), A34 or a SHA-256 prefix (file)
    indicators: tuple[str, ...] = ()  # the words naming indicators, as written ("指标12", "12")
    sections: tuple[str, ...] = ()
    reason: str = ""
    unknown: tuple[str, ...] = ()  # words that are neither ref, indicator nor section (not for 退回)

    @property
    def label(self) -> str:
        return VERB_LABELS[self.verb]


@dataclass(frozen=True)
class Commands:
    commands: tuple[Command, ...] = field(default=())

    def __bool__(self) -> bool:
        return bool(self.commands)


def strip_quoted(body: str) -> str:
    """The new part of a reply: stop at the quoted original, drop lines quoted with '>'."""
    kept: list[str] = []
    for line in body.splitlines():
        if _QUOTE_START.match(line):
            break
        if line.lstrip().startswith(">"):
            continue
        kept.append(line)
    return "\n".join(kept)


def _verb_at(line: str) -> tuple[Verb, str] | None:
    """The verb a line starts with, and the rest of the line."""
    low = line.lower()
    for alias, verb in _ALIASES:
        if not low.startswith(alias):
            continue
        rest = line[len(alias) :]
        if not rest or rest[0] in " \t:：,，、;；" or _GLUED_ID.match(rest):
            return verb, rest.lstrip(" \t:：,，、;；")
    return None


def _split_glued(token: str, sections: Collection[str]) -> list[str]:
    """ "指标12支队" -> ["指标12", "支队"]: a known section name glued to an id."""
    for name in sorted(sections, key=len, reverse=True):
        if token.endswith(name) and len(token) > len(name):
            return [token[: -len(name)], name]
    return [token]


def parse_line(line: str, sections: Collection[str] = ()) -> Command | None:
    """One command from one line, or None when the line is not a command."""
    original = line.strip()
    found = _verb_at(normalize(original))
    if found is None:
        return None
    verb, rest = found
    reason = ""
    mark = _REASON_MARK.search(rest)
    if mark is not None:
        reason = rest[mark.end() :].strip()
        rest = rest[: mark.start()]
        # Keep the reason as written (full-width punctuation and all).
        original_mark = _REASON_MARK.search(original)
        if original_mark is not None:
            reason = original[original_mark.end() :].strip()
    refs: list[str] = []
    indicators: list[str] = []
    named: list[str] = []
    leftover: list[str] = []
    tokens = [t for raw in _SEPARATORS.split(rest) if raw for t in _split_glued(raw, sections)]
    for n, token in enumerate(tokens):
        if leftover and verb is Verb.RETURN:
            leftover.append(token)  # the rest of an unmarked reason
        elif token in sections:
            named.append(token)
        elif _REF.match(token) and not token.isdigit():
            refs.append(token)
        elif _INDICATOR.match(token):
            indicators.append(token)
        elif verb is Verb.RETURN:
            leftover = tokens[n : n + 1]
        else:
            leftover.append(token)
    if verb is Verb.RETURN:
        if leftover and not reason:
            reason = " ".join(leftover)
        leftover = []
    return Command(verb, original, tuple(refs), tuple(indicators), tuple(named), reason, tuple(leftover))


def parse_commands(subject: str, body: str, sections: Collection[str] = ()) -> Commands:
    """Commands in the subject and the first lines of the body, in that order.

    A 退回 without a reason takes it from a following 原因：... line. A greeting above the commands
    ("刘科长：", "您好！") is skipped; any other line ends the list (a sentence, a signature or the
    text of an ordinary mail is never read as a command).
    """
    found: list[Command] = []
    head = parse_line(strip_reply_prefixes(subject), sections)
    if head is not None:
        found.append(head)
    lines = [line.strip() for line in strip_quoted(body).splitlines() if line.strip()][:BODY_LINES]
    reading = False
    for line in lines:
        command = parse_line(line, sections)
        if command is not None:
            found.append(command)
            reading = True
            continue
        mark = _REASON_MARK.match(normalize(line))
        if mark is not None and found and found[-1].verb is Verb.RETURN and not found[-1].reason:
            original_mark = _REASON_MARK.match(line)
            reason = line[original_mark.end() :].strip() if original_mark else line[mark.end() :].strip()
            last = found[-1]
            found[-1] = Command(last.verb, f"{last.text} {line}", last.refs, last.indicators, last.sections, reason)
            continue
        if reading or not _GREETING.match(normalize(line)):
            break
    unique = list(dict.fromkeys(found))
    return Commands(tuple(unique))


HELP_LINES = (
    "可用指令（写在邮件主题或正文开头，每行一条）：",
    "指派 R12 指标12 —— 把待办 R12 的文件计入指标12（发件人未登记时加科室：指派 R12 支队）",
    "指派 A34 12 13 —— 把文件 A34 计入指标12、13",
    "退回 A34 原因：缺少盖章页 —— 退回文件并通知报送科室；也可写 退回 指标12 支队 原因：……",
    "确认 指标12 或 确认 12 支队 —— 标记材料已审核",
    "不涉及 指标45 人事科 —— 登记该科室该项无材料",
    "状态 —— 回复当前进度汇总",
    "帮助 —— 回复本说明",
    "回复回执邮件时可省略文件编号，例如：退回 原因：……、确认。",
    "英文同义：assign / return / accept / na / status / help。",
)
