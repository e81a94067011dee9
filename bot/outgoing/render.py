"""Render an outgoing mail's text and HTML from its context object, and its subject line.

One Jinja2 environment for the process, reading ``templates/<kind>.txt`` and ``<kind>.html`` from the
installed ``templates`` package. ``StrictUndefined`` turns a missing context field into an error
instead of an empty string; autoescaping is on for ``.html`` only (the text part is not HTML). Every
value shown, and the subject line, loses its control and Unicode format characters first
(``rules.visible``): a right-to-left override in a sender's file name must not turn ``cod.exe`` into
``exe.doc`` in our mail.
"""

from __future__ import annotations

from datetime import date, datetime

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from bot.outgoing.messages import (
    CONTEXT_TYPES,
    CommandReplyContext,
    DigestContext,
    MailContext,
    MailKind,
    ReceiptContext,
    ReminderContext,
    ReturnNoticeContext,
)
from rules.authority import CODE_LABEL
from rules.visible import visible

SUBJECT_MAX_CHARS = 120


def cn_date(value: date) -> str:
    """2025年3月5日 (no leading zeros, as official documents write dates)."""
    return f"{value.year}年{value.month}月{value.day}日"


def cn_datetime(value: datetime) -> str:
    """2025年3月5日 09:30, in the time zone the datetime carries."""
    return f"{cn_date(value)} {value:%H:%M}"


def cn_short(value: datetime) -> str:
    """3月5日 09:30, for dense tables."""
    return f"{value.month}月{value.day}日 {value:%H:%M}"


def _visible(value: object) -> object:
    # Markup (``__html__``) is our own HTML, a macro's output: its values went through here already.
    return visible(value) if isinstance(value, str) and not hasattr(value, "__html__") else value


def _make_environment() -> Environment:
    env = Environment(
        finalize=_visible,
        loader=PackageLoader("templates", "."),
        undefined=StrictUndefined,
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False, default=False),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["cn_date"] = cn_date
    env.filters["cn_datetime"] = cn_datetime
    env.filters["cn_short"] = cn_short
    return env


_ENV = _make_environment()


def environment() -> Environment:
    """The shared environment (templates are compiled once and cached by Jinja2)."""
    return _ENV


def render(kind: MailKind, context: MailContext) -> tuple[str, str]:
    """Return ``(text, html)`` for one mail. The context must be the kind's own dataclass."""
    expected = CONTEXT_TYPES.get(kind)
    if expected is None:
        raise ValueError(f"unknown mail kind {kind!r}")
    if not isinstance(context, expected):
        raise TypeError(f"{kind} needs a {expected.__name__}, got {type(context).__name__}")
    text = _ENV.get_template(f"{kind}.txt").render(c=context)
    html = _ENV.get_template(f"{kind}.html").render(c=context)
    return text, html


def _clip(subject: str) -> str:
    flat = " ".join(visible(subject).split())
    return flat if len(flat) <= SUBJECT_MAX_CHARS else flat[: SUBJECT_MAX_CHARS - 1] + "…"


def subject_for(kind: MailKind, context: MailContext) -> str:
    """The subject line of a mail. Replies keep the original subject so threads stay readable."""
    if kind == "receipt" and isinstance(context, ReceiptContext):
        return _clip(f"回执：{context.mail_subject or '（无主题）'}")
    if kind == "return_notice" and isinstance(context, ReturnNoticeContext):
        return _clip(f"材料退回通知：{context.filename}")
    if kind == "reminder" and isinstance(context, ReminderContext):
        head = f"{context.campaign_title}材料报送（{context.section}，"
        if context.overdue:
            return _clip(f"【逾期提醒】{head}已逾期{context.days_overdue}天）")
        if context.days_left == 0:
            return _clip(f"【报送提醒】{head}今日截止）")
        return _clip(f"【报送提醒】{head}距截止{context.days_left}天）")
    if kind == "digest" and isinstance(context, DigestContext):
        return _clip(f"【进度汇总】{context.campaign_title}（{cn_date(context.generated_at)}）")
    if kind == "command_reply" and isinstance(context, CommandReplyContext):
        if context.code is not None:
            # The code first: a long command is clipped, the code never is.
            return _clip(f"【待确认指令】{CODE_LABEL} {context.code}：{context.command}")
        status = "已执行" if context.ok else "未执行"
        return _clip(f"指令{status}：{context.command}")
    raise TypeError(f"{kind} cannot take a {type(context).__name__}")
