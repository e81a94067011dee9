"""The coordinator's CLI against a real mailbox and database: review, assign, dismiss, accept, declare."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import main
from tests.support.app import write_config_file
from tests.support.mails import doc, submission


@pytest.fixture
def config(tmp_path: Path, dovecot, monkeypatch: pytest.MonkeyPatch) -> str:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("INTAKE_TEST_IMAP_PASSWORD", dovecot.password)
    path = tmp_path / "config.toml"
    write_config_file(path, dovecot, tmp_path / "files", tmp_path / "intake.db")
    return str(path)


def status(config: str, capsys: pytest.CaptureFixture[str]) -> dict:  # type: ignore[type-arg]
    assert main(["status", "--json", "--config", config]) == 0
    return json.loads(capsys.readouterr().out)  # type: ignore[no-any-return]


def owner_state(snap: dict, ind: str, section: str) -> str:  # type: ignore[type-arg]
    item = next(i for i in snap["indicators"] if i["id"] == ind)
    return next(o["state"] for o in item["owners"] if o["section"] == section)  # type: ignore[no-any-return]


def test_review_assign_dismiss_accept_declare(config: str, dovecot, capsys) -> None:  # type: ignore[no-untyped-def]
    dovecot.append(submission("指标12材料", [("清理情况.pdf", doc("12"))], sender="stranger@qq.com"))
    dovecot.append(submission("材料", [("新建 Microsoft Word 文档.docx", doc("x"))]))
    dovecot.append(submission("材料二", [("[扫描件]001.pdf", doc("y"))]))
    assert main(["poll", "--config", config]) == 0
    assert "新邮件 3 封" in capsys.readouterr().out

    assert main(["review", "--config", config]) == 0
    listing = capsys.readouterr().out
    assert "发件人未登记" in listing and "无法确定指标" in listing
    # Names and details are shown as sent, not read as terminal markup.
    assert "[扫描件]001.pdf" in listing and "[[sections]]" in listing
    review = {r["filename"]: r for r in status(config, capsys)["review"]}
    unknown = next(r for r in status(config, capsys)["review"] if r["reason"] == "unknown_sender")
    word = review["新建 Microsoft Word 文档.docx"]
    scan = review["[扫描件]001.pdf"]

    # The unknown sender's file counts for 支队 once the coordinator says whose it is.
    assert owner_state(status(config, capsys), "12", "支队") == "outstanding"
    assert main(["assign", f"R{unknown['id']}", "--config", config]) == 1
    assert "--section" in capsys.readouterr().err
    assert main(["assign", f"R{unknown['id']}", "--section", "支队", "--config", config]) == 0
    assert "支队" in capsys.readouterr().out
    assert owner_state(status(config, capsys), "12", "支队") == "received"

    assert main(["assign", f"R{word['id']}", "第二十四项", "--config", config]) == 0
    assert "指标24" in capsys.readouterr().out
    assert owner_state(status(config, capsys), "24", "支队") == "received"
    assert main(["assign", f"R{word['id']}", "24", "--config", config]) == 1
    assert "已处理" in capsys.readouterr().err

    assert main(["dismiss", f"R{scan['id']}", "--reason", "重复", "--config", config]) == 0
    capsys.readouterr()
    assert status(config, capsys)["review"] == []

    assert main(["accept", "12", "--section", "支队", "--config", config]) == 0
    capsys.readouterr()
    assert owner_state(status(config, capsys), "12", "支队") == "accepted"

    assert main(["declare", "45", "--section", "人事科", "--config", config]) == 0
    capsys.readouterr()
    snap = status(config, capsys)
    assert owner_state(snap, "45", "人事科") == "not_applicable"
    assert {"id": "45", "section": "人事科", "message_id": None} in snap["declarations"]

    assert main(["assign", "R9999", "12", "--config", config]) == 1
    assert "没有编号为 R9999 的待办" in capsys.readouterr().err
