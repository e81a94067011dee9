"""Golden tests of every mail kind's text and HTML, plus the template environment's guarantees.

Set INTAKE_UPDATE_GOLDEN=1 to rewrite the golden files after an intended change, then review the diff.
"""

from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path

import pytest
from jinja2 import UndefinedError

from bot.outgoing.messages import FileLine, MailContext, MailKind
from bot.outgoing.render import render, subject_for
from tests.golden import samples

GOLDEN = Path(__file__).resolve().parent.parent / "golden"
UPDATE = os.environ.get("INTAKE_UPDATE_GOLDEN") == "1"


def _check_golden(path: Path, actual: str) -> None:
    if UPDATE:
        path.write_text(actual, encoding="utf-8")
        return
    assert path.exists(), f"missing golden file {path.name}; run with INTAKE_UPDATE_GOLDEN=1"
    assert actual == path.read_text(encoding="utf-8"), f"{path.name} differs from its golden file"


@pytest.mark.parametrize("name", sorted(samples.SAMPLES))
def test_rendered_mail_matches_golden(name: str) -> None:
    kind, context = samples.SAMPLES[name]
    text, html = render(kind, context)
    subject = subject_for(kind, context)
    _check_golden(GOLDEN / f"{name}.txt", f"Subject: {subject}\n\n{text}")
    _check_golden(GOLDEN / f"{name}.html", html)


@pytest.mark.parametrize("name", sorted(samples.SAMPLES))
def test_html_is_webmail_safe(name: str) -> None:
    kind, context = samples.SAMPLES[name]
    _, html = render(kind, context)
    lowered = html.lower()
    assert "<script" not in lowered
    assert "<style" not in lowered
    assert "<img" not in lowered
    assert "<link" not in lowered
    assert "class=" not in lowered


def test_missing_context_field_raises() -> None:
    @dataclasses.dataclass(frozen=True)
    class Partial:
        command: str
        ok: bool  # no "lines"

    from jinja2 import Environment

    from bot.outgoing.render import environment

    env: Environment = environment()
    with pytest.raises(UndefinedError):
        env.get_template("command_reply.txt").render(c=Partial("#帮助", True))
    with pytest.raises(UndefinedError):
        env.get_template("command_reply.html").render(c=Partial("#帮助", True))


def test_wrong_context_type_is_refused() -> None:
    with pytest.raises(TypeError):
        render("digest", samples.receipt())


def test_html_escapes_markup_in_filenames_but_text_keeps_it() -> None:
    evil = "<script>alert(1)</script>.pdf"
    context = dataclasses.replace(samples.receipt(), files=(FileLine(evil, (samples.I12,)),))
    text, html = render("receipt", context)
    assert evil in text
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;.pdf" in html


def test_markup_in_subject_is_escaped_once() -> None:
    context = dataclasses.replace(samples.receipt(), mail_subject='指标12 & "计划" <b>')
    _, html = render("receipt", context)
    assert "指标12 &amp; &#34;计划&#34; &lt;b&gt;" in html
    assert "&amp;amp;" not in html


@pytest.mark.parametrize(
    ("days_left", "expected"),
    [(7, "距截止7天"), (1, "距截止1天"), (0, "今日截止"), (-1, "已逾期1天"), (-9, "已逾期9天")],
)
def test_reminder_subject_states_time_left(days_left: int, expected: str) -> None:
    subject = subject_for("reminder", samples.reminder(days_left))
    assert expected in subject
    assert "水生态环境科" in subject


def test_receipt_subject_keeps_original_subject_and_is_clipped() -> None:
    assert subject_for("receipt", samples.receipt()) == "回执：指标12-大气环境科-依法行政工作计划"
    long = dataclasses.replace(samples.receipt(), mail_subject="材" * 300)
    assert len(subject_for("receipt", long)) == 120


def test_digest_bars_are_inline_widths() -> None:
    _, html = render("digest", samples.digest())
    # 41/64 = 64 %: a 400 px bar filled to 256 px
    assert re.search(r'width="256" height="12" style="width:256px;', html)
    assert "64%" in html


def _kinds() -> list[tuple[MailKind, MailContext]]:
    return list(samples.SAMPLES.values())


def test_text_parts_have_no_template_leftovers() -> None:
    for kind, context in _kinds():
        text, html = render(kind, context)
        for part in (text, html):
            assert "{{" not in part and "{%" not in part
            assert "None" not in part
