"""Validation inside the poll: real mails with generated .docx/.pdf around the word limits."""

from __future__ import annotations

from collections.abc import Iterator
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import Deps
from bot.ingest.poll import poll_once
from db.models import Attachment, Outbox, Problem, ReviewItem
from tests.fixtures.smtpd import SmtpServer
from tests.integration.test_mailcommands import smtp_config
from tests.support.app import app_for
from tests.support.docs import cjk_text, make_docx, make_pdf
from tests.support.mails import submission


@pytest.fixture
def app(tmp_path: Path, db_url: str, dovecot: Any, smtpd_tls: SmtpServer) -> Iterator[Deps]:
    deps = app_for(tmp_path, db_url, dovecot, smtp=smtp_config(smtpd_tls))
    yield deps
    deps.close()


def docx_bytes(tmp_path: Path, name: str, title: str, body_chars: int) -> bytes:
    return make_docx(tmp_path / name, [title, cjk_text(body_chars)]).read_bytes()


def problems(app: Deps) -> dict[str, list[tuple[str, str]]]:
    out: dict[str, list[tuple[str, str]]] = {}
    with app.sessions() as s:
        for p, filename in s.execute(select(Problem, Attachment.filename).join(Attachment)):
            out.setdefault(filename, []).append((p.code, p.detail))
    return out


def test_word_limits_around_500_and_1000(app: Deps, dovecot: Any, tmp_path: Path) -> None:
    # Titles are 4 字 ("情况说明"), so the body makes up the rest.
    dovecot.append(
        submission("指标12-支队", [("清理情况说明.docx", docx_bytes(tmp_path, "a.docx", "情况说明", 496))])
    )  # 500: at the limit
    dovecot.append(
        submission("指标7-支队", [("监管情况说明.docx", docx_bytes(tmp_path, "b.docx", "情况说明", 497))])
    )  # 501: over
    dovecot.append(
        submission(
            "指标52-法规科",
            [("普法情况说明.docx", docx_bytes(tmp_path, "c.docx", "情况说明", 996))],
            sender="fgk@example.com",
        )
    )  # 1000 for item 52: at its limit
    pdf = make_pdf(tmp_path / "d.pdf", [["情况说明", cjk_text(600)], [cjk_text(397)]]).read_bytes()
    dovecot.append(submission("指标51-法规科", [("化解纠纷情况说明.pdf", pdf)], sender="fgk@example.com"))  # 1001
    dovecot.append(
        submission("指标39-支队", [("互联网执法情况说明.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512)])
    )
    dovecot.append(  # 32 asks for more than a statement: a long sign-in sheet is not held to the limit
        submission("指标32-法规科", [("培训签到表.docx", docx_bytes(tmp_path, "e.docx", "签到表", 900))],
                   sender="fgk@example.com")
    )  # fmt: skip
    poll_once(app)
    found = problems(app)
    assert "清理情况说明.docx" not in found
    assert found["监管情况说明.docx"] == [
        (
            "over_word_limit",
            "附件《监管情况说明.docx》（指标7情况说明）约501字，超过500字的篇幅要求，请精简后重新报送。",
        )
    ]
    assert "普法情况说明.docx" not in found
    assert found["化解纠纷情况说明.pdf"][0][0] == "over_word_limit"
    assert "约1001字，超过500字" in found["化解纠纷情况说明.pdf"][0][1]
    assert found["互联网执法情况说明.doc"][0][0] == "word_count_unknown"
    assert "请自行确认不超过500字" in found["互联网执法情况说明.doc"][0][1]
    assert "培训签到表.docx" not in found

    # The receipt (queued in the same transaction) carries the count.
    with app.sessions() as s:
        raws = [bytes(r) for r in s.scalars(select(Outbox.raw).where(Outbox.kind == "receipt"))]
    texts = []
    for raw in raws:
        msg = message_from_bytes(raw, policy=default_policy)
        assert isinstance(msg, EmailMessage)
        part = msg.get_body(("plain",))
        assert part is not None
        texts.append(str(part.get_content()))
    assert any("约501字" in t for t in texts)


def test_classification_mark_in_the_document_title(app: Deps, dovecot: Any, tmp_path: Path) -> None:
    marked = make_docx(tmp_path / "s.docx", ["秘密★1年", "关于执法经费的情况说明", cjk_text(100)]).read_bytes()
    plain = make_docx(tmp_path / "p.docx", ["关于保密工作的情况说明（非涉密）", cjk_text(100)]).read_bytes()
    dovecot.append(submission("指标33-财审科", [("经费情况说明.docx", marked)], sender="csk@example.com"))
    dovecot.append(submission("指标6-财审科", [("预算情况说明.docx", plain)], sender="csk@example.com"))
    poll_once(app)
    found = problems(app)
    assert [code for code, _ in found["经费情况说明.docx"]] == ["possibly_classified"]
    assert "秘密" in found["经费情况说明.docx"][0][1]
    assert "预算情况说明.docx" not in found
    with app.sessions() as s:
        items = s.scalars(select(ReviewItem).where(ReviewItem.reason == "possibly_classified")).all()
    assert len(items) == 1 and "第4条" in items[0].detail
