"""The coordinator's CLI against a real mailbox and database: review, assign, dismiss, accept, declare."""

from __future__ import annotations

import json
import sqlite3
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


def files_of(snap: dict, ind: str) -> list[tuple[str, str]]:  # type: ignore[type-arg]
    item = next(i for i in snap["indicators"] if i["id"] == ind)
    return [(f["section"], f["filename"]) for f in item["files"]]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_typos_are_refused_with_a_suggestion_and_every_change_can_be_undone(
    config: str,
    dovecot,
    capsys,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    dovecot.append(submission("指标50 政务公开", [("依申请公开统计.xlsx", doc("50"))], sender="zhangsan1988@qq.com"))
    dovecot.append(submission("材料", [("新建 Microsoft Word 文档.docx", doc("word"))], sender="fgk@example.com"))
    assert main(["poll", "--config", config]) == 0
    capsys.readouterr()
    review = status(config, capsys)["review"]
    unknown = next(r for r in review if r["reason"] == "unknown_sender")
    word = next(r for r in review if r["reason"] == "needs_review")
    r_unknown = f"R{unknown['id']}"
    before = status(config, capsys)
    code, listing, _ = run(capsys, "review", "--config", config)
    assert code == 0 and "依申请公开统计.xlsx" in listing  # the unknown sender's file is named, with its A id

    # Nothing that names a section, an indicator or an id wrongly changes anything.
    code, _, err = run(capsys, "assign", r_unknown, "50", "--section", "办公司", "--config", config)
    assert code == 1 and "没有科室“办公司”，是指“办公室”吗？" in err
    code, _, err = run(capsys, "assign", r_unknown, "61", "--section", "办公室", "--config", config)
    assert code == 1 and "没有指标“61”：指标编号为 1–60、加分项1–2、减分项1–2" in err
    code, _, err = run(capsys, "assign", str(unknown["id"]), "50", "--section", "办公室", "--config", config)
    assert code == 1 and f"不明确：待办请写 R{unknown['id']}，文件请写 A{unknown['id']}" in err
    code, _, err = run(capsys, "assign", word["sha256"][:3], "12", "--config", config)
    assert code == 1 and "太短" in err
    code, _, err = run(capsys, "status", "--section", "支對", "--config", config)
    assert code == 1 and "是指“支队”吗？" in err
    code, out, _ = run(capsys, "assign", r_unknown, "50", "--section", "办公室", "--dry-run", "--config", config)
    assert code == 0 and out.startswith("试运行（未修改任何记录）")
    assert "邮件" in out and "未登记 → 办公室" in out and "待处理 → 已处理" in out
    assert status(config, capsys) == before

    # The indicators given for an unknown sender's mail are used, not ignored.
    code, out, _ = run(capsys, "assign", r_unknown, "49", "--section", "办公室", "--config", config)
    assert code == 0 and "计入指标49" in out
    first = int(out.split("编号 ")[1].split("；")[0])
    assert f"intake undo {first}" in out
    snap = status(config, capsys)
    assert files_of(snap, "49") == [("办公室", "依申请公开统计.xlsx")] and files_of(snap, "50") == []
    code, out, _ = run(capsys, "undo", str(first), "--config", config)
    assert code == 0 and f"已撤销操作 {first}" in out
    assert status(config, capsys) == before  # exactly as it was, review item open again
    code, _, err = run(capsys, "undo", str(first), "--config", config)
    assert code == 1 and "已于此前撤销" in err
    code, out, _ = run(capsys, "assign", r_unknown, "50", "--section", "办公室", "--config", config)
    assert code == 0
    assert owner_state(status(config, capsys), "50", "办公室") == "received"

    # A file id as a 6-digit SHA-256 prefix; then a later action blocks undoing an earlier one.
    code, out, _ = run(capsys, "assign", word["sha256"][:6], "12", "--config", config)
    assert code == 0 and "计入指标12" in out
    assigned = int(out.split("编号 ")[1].split("；")[0])
    file12 = f"A{_file_id(config, '12')}"
    code, out, _ = run(capsys, "return", file12, "--reason", "缺少盖章页", "--no-send", "--config", config)
    assert code == 0
    returned = int(out.split("编号 ")[1].split("；")[0])
    code, _, err = run(capsys, "undo", str(assigned), "--config", config)
    assert code == 1 and f"已被后来的操作 {returned}" in err and f"请先撤销操作 {returned}" in err
    assert main(["undo", str(returned), "--config", config]) == 0
    assert main(["undo", str(assigned), "--config", config]) == 0
    capsys.readouterr()
    assert files_of(status(config, capsys), "12") == []  # back to before the assignment

    # The log says who, what, before and after; undone entries say by which undo.
    code, out, _ = run(capsys, "log", "--json", "--config", config)
    log = json.loads(out)
    assert [e["verb"] for e in log] == ["assign", "undo", "assign", "assign", "return", "undo", "undo"]
    assert all(e["source"] == "cli" and e["actor"] for e in log)
    assert log[0]["command"] == f"intake assign {r_unknown} 49 --section 办公室"  # --config left out
    assert log[0]["undone_by"] == log[1]["id"]
    assert {"what": f"待办 {r_unknown}", "before": "待处理", "after": "已处理"} in log[0]["changes"]
    code, out, _ = run(capsys, "log", "--config", config)
    assert code == 0 and "操作日志" in out and "已撤销" in out


def _file_id(config: str, ind: str) -> int:
    with sqlite3.connect(Path(config).parent / "intake.db") as c:
        (found,) = c.execute("SELECT attachment_id FROM assignment WHERE indicator_id = ?", (ind,)).fetchone()
    return int(found)


def test_a_file_counted_under_a_mistyped_section_moves_instead_of_failing(
    config: str,
    dovecot,
    capsys,  # type: ignore[no-untyped-def]
) -> None:
    """Before section names were checked, 办公司 reached the record; fixing it by file id ended in an
    IntegrityError. Now the row moves, and the move can be undone."""
    dovecot.append(submission("指标50 政务公开", [("依申请公开统计.xlsx", doc("50"))], sender="zhangsan1988@qq.com"))
    assert main(["poll", "--config", config]) == 0
    capsys.readouterr()
    db = Path(config).parent / "intake.db"
    with sqlite3.connect(db) as c:  # the record as the old, unchecked assign left it
        c.execute("UPDATE assignment SET section = '办公司' WHERE indicator_id = '50'")
        c.execute("UPDATE mail SET section = '办公司' WHERE from_addr = 'zhangsan1988@qq.com'")
        (attachment,) = c.execute("SELECT attachment_id FROM assignment WHERE indicator_id = '50'").fetchone()
    code, _, err = run(capsys, "assign", f"A{attachment}", "50", "--config", config)
    assert code == 1 and "没有科室“办公司”，是指“办公室”吗？" in err  # nothing moves without a section named
    code, out, _ = run(capsys, "assign", f"A{attachment}", "50", "--section", "办公室", "--config", config)
    assert code == 0 and "（办公室）计入指标50" in out
    snap = status(config, capsys)
    assert files_of(snap, "50") == [("办公室", "依申请公开统计.xlsx")]
    assert owner_state(snap, "50", "办公室") == "received"


def test_an_unexpected_error_is_one_chinese_line_and_a_log_file(
    config: str,
    dovecot,
    capsys,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    dovecot.append(submission("材料", [("a.docx", doc("a"))], sender="fgk@example.com"))
    assert main(["poll", "--config", config]) == 0
    capsys.readouterr()
    review = status(config, capsys)["review"]
    assert main(["dismiss", f"R{review[0]['id']}", "--config", config]) == 0
    with sqlite3.connect(Path(config).parent / "intake.db") as c:  # damage the log behind intake's back
        c.execute("UPDATE action_log SET changes = '{not json'")
    logs = tmp_path / "logs"
    monkeypatch.setenv("INTAKE_LOG_DIR", str(logs))
    capsys.readouterr()
    code = main(["log", "--config", config])
    out, err = capsys.readouterr()
    assert code == 70 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err
    assert lines[0].startswith("intake 出错了（") and f"详细信息已写入 {logs / 'errors.log'}" in lines[0]
    written = (logs / "errors.log").read_text(encoding="utf-8")
    assert "Traceback" in written and "intake log --config" in written
    assert (logs / "errors.log").stat().st_mode & 0o077 == 0
