"""build_message and make_message_id: loop-protection headers, threading, MIME shape, determinism."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import SMTP, default

import pytest

from bot.outgoing.messages import (
    CONTEXT_TYPES,
    LOOP_HEADER,
    MAIL_KINDS,
    build_message,
    make_message_id,
    recipients_of,
    short_requirement,
)

NOW = datetime(2025, 6, 20, 17, 30, tzinfo=timezone(timedelta(hours=8)))
ACCOUNT = "jzhbjfzk@163.com"


def _message(**overrides: object) -> EmailMessage:
    values: dict[str, object] = {
        "kind": "reminder",
        "to": ["liming@jzhb.gov.cn", "zhaojing@jzhb.gov.cn"],
        "subject": "【报送提醒】材料报送（水生态环境科，距截止3天）",
        "text": "水生态环境科：\n\n　　请按时报送。\n",
        "html": "<p>请按时报送。</p>",
        "from_addr": ACCOUNT,
        "message_id": make_message_id("reminder:水生态环境科:2025-06-27", "163.com"),
        "date": NOW,
        "auto_submitted": "auto-generated",
    }
    values.update(overrides)
    kind = values.pop("kind")
    to = values.pop("to")
    subject = values.pop("subject")
    text = values.pop("text")
    html = values.pop("html")
    return build_message(kind, to, subject, text, html, **values)  # type: ignore[arg-type]


def _roundtrip(msg: EmailMessage) -> EmailMessage:
    parsed = message_from_bytes(msg.as_bytes(policy=SMTP), policy=default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def test_message_id_is_deterministic_per_key() -> None:
    a = make_message_id("digest:2025-06-20", "163.com")
    assert a == make_message_id("digest:2025-06-20", "163.com")
    assert a != make_message_id("digest:2025-06-21", "163.com")
    assert a.startswith("<") and a.endswith("@163.com>")
    assert a.count("@") == 1


def test_generated_mail_headers() -> None:
    msg = _roundtrip(_message())
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg["Precedence"] == "bulk"
    assert msg["X-Auto-Response-Suppress"] == "All"
    assert msg[LOOP_HEADER] == ACCOUNT
    assert msg["From"] == ACCOUNT
    assert msg["Date"].datetime == NOW
    assert msg["In-Reply-To"] is None and msg["References"] is None
    assert msg["Subject"] == "【报送提醒】材料报送（水生态环境科，距截止3天）"
    assert msg["Message-ID"] == make_message_id("reminder:水生态环境科:2025-06-27", "163.com")


def test_reply_headers_thread_under_the_original() -> None:
    msg = _roundtrip(
        _message(
            kind="receipt",
            auto_submitted="auto-replied",
            in_reply_to="<b@x>",
            references=("<a@x>", "<b@x>"),
        )
    )
    assert msg["Auto-Submitted"] == "auto-replied"
    assert msg["Precedence"] == "auto_reply"
    assert msg["In-Reply-To"] == "<b@x>"
    assert msg["References"] == "<a@x> <b@x>"  # the parent once, last


def test_multipart_alternative_utf8_with_text_first() -> None:
    msg = _roundtrip(_message())
    assert msg.get_content_type() == "multipart/alternative"
    parts = list(msg.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    assert all(p.get_content_charset() == "utf-8" for p in parts)
    assert "请按时报送" in parts[0].get_content()


def test_serialised_headers_are_ascii_and_lines_short() -> None:
    raw = _message(subject="【逾期提醒】" + "很长的主题" * 30).as_bytes(policy=SMTP)
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert head.isascii()
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))


def test_cc_is_a_recipient() -> None:
    msg = _message(cc=["fgk@jzhb.gov.cn"])
    assert recipients_of(msg) == ("liming@jzhb.gov.cn", "zhaojing@jzhb.gov.cn", "fgk@jzhb.gov.cn")


def test_no_recipient_is_refused() -> None:
    with pytest.raises(ValueError):
        _message(to=[])


def test_every_kind_has_a_context_type() -> None:
    assert set(MAIL_KINDS) == set(CONTEXT_TYPES)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("制定年度计划。按要求公开。", "制定年度计划"),
        ("落实制度；建立台账", "落实制度"),
        ("短", "短"),
        ("字" * 50, "字" * 39 + "…"),
    ],
)
def test_short_requirement(text: str, expected: str) -> None:
    assert short_requirement(text) == expected
