"""What intake's own mails show of a stranger's text: no format or control characters, and only
http(s) links (issue 10)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

from bot.outgoing.messages import CloudFileLine, FileLine
from bot.outgoing.render import render, subject_for
from tests.golden import samples

CST = timezone(timedelta(hours=8))
HOSTILE = "26-说明\u202ecod.exe\x1b]0;pwned\x07\u200b"


def test_receipt_shows_names_and_subject_without_invisible_or_control_characters() -> None:
    base = samples.receipt()
    context = replace(
        base, mail_subject=f"指标26\u202e{HOSTILE}", files=(FileLine(HOSTILE, (), "不作为报送材料"), *base.files)
    )
    text, html = render("receipt", context)
    subject = subject_for("receipt", context)
    for shown in (text, html, subject):
        assert not any(c in shown for c in "\u202e\u200b\x1b\x07")
        assert "26-说明cod.exe" in shown


def test_digest_links_only_http() -> None:
    expires = datetime(2021, 11, 10, 18, 2, tzinfo=CST)
    lines = (
        CloudFileLine("指标39-台账.zip", "zd@x", "javascript://fs.mail.163.com/%0aalert(1)", expires),
        CloudFileLine("指标12-视频.zip", "zd@x", "https://fs.mail.163.com/abc", expires),
    )
    text, html = render("digest", replace(samples.digest(), cloud_expiring=lines))
    assert "javascript:" not in html and "javascript:" not in text
    assert '<a href="https://fs.mail.163.com/abc"' in html
    assert "指标39-台账.zip（链接不安全，未显示）" in html
    assert "（链接不安全，未显示）" in text and "https://fs.mail.163.com/abc" in text
