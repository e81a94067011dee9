"""The documents of one mail share a time budget: a mail of many slow documents cannot hold a poll."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

import bot.ingest.documents
from bot.ingest.documents import extract_texts
from tests.support.bombs import pdf_bomb
from tests.support.docs import make_docx


def test_the_budget_of_a_mail(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bot.ingest.documents, "MAIL_SECONDS", 1.0)
    files = []
    for n in range(3):
        data = pdf_bomb(4, 20 + n)  # each would take the reader minutes
        path = tmp_path / f"{n}.pdf"
        path.write_bytes(data)
        files.append((hashlib.sha256(data).hexdigest(), path, f"{n}-情况说明.pdf"))
    ok = make_docx(tmp_path / "ok.docx", ["情况说明"])
    files.append(("ok", ok, "ok.docx"))
    files.append(("picture", ok, "photo.jpg"))  # never read: not a text format
    texts = extract_texts(files)
    assert [texts[f[0]].limit for f in files[:3]] == ["time", "time", "time"]
    assert "秒时限" in texts[files[0][0]].reason
    assert "已用完" in texts[files[2][0]].reason
    assert texts["ok"].limit == "time"  # the budget is spent: even a quick one is not read now
    assert "picture" not in texts
