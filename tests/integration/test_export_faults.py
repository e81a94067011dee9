"""``intake export`` under fault: control characters that reach a cell, a disk that fills up half-way,
a file missing from the store. A failed export leaves nothing half-done, and a retry succeeds."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import text

from bot.app import Deps
from bot.cli import main
from bot.coordinator.export import MANIFEST_NAME, SUMMARY_NAME, ExportError, export
from bot.ingest.poll import poll_once
from tests.support.app import app_for, write_config_file
from tests.support.faults import tmpfs
from tests.support.mails import doc, submission


@pytest.fixture
def app(tmp_path: Path, db_url: str, dovecot: Any) -> Iterator[Deps]:
    deps = app_for(tmp_path, db_url, dovecot)
    yield deps
    deps.close()


def test_control_characters_never_reach_a_cell(app: Deps, dovecot: Any, tmp_path: Path) -> None:
    """Rows written before the database cleaned text (or by hand) may hold control characters; openpyxl
    refused the whole workbook for one of them."""
    dovecot.append(submission("指标12-支队", [("清理情况说明.docx", doc("v1"))]))
    poll_once(app)
    with app.engine.begin() as connection:  # the driver's own SQL: no cleaning column type in between
        connection.exec_driver_sql("UPDATE attachment SET filename = 'a\x07b\x1b[0m.docx'")
    report = export(app, tmp_path / "export")
    assert len(report.files) == 1
    sheet = load_workbook(tmp_path / "export" / SUMMARY_NAME).active
    assert sheet is not None
    files_column = [c.value for c in sheet["I"] if c.value]
    assert "支队-ab[0m.docx" in files_column


def test_a_failed_export_leaves_nothing_and_a_retry_succeeds(app: Deps, dovecot: Any, tmp_path: Path) -> None:
    dovecot.append(submission("指标12-支队", [("清理情况说明.docx", doc("v1"))]))
    dovecot.append(submission("指标24-支队", [("移送清单.pdf", doc("24"))]))
    poll_once(app)
    with app.sessions() as s:
        rel = s.execute(text("SELECT path FROM stored_file ORDER BY path")).scalars().first()
    assert rel is not None
    stored = app.storage.resolve(rel)
    kept = stored.read_bytes()
    stored.unlink()  # someone deleted a file from the store
    with pytest.raises(ExportError) as failed:
        export(app, tmp_path / "export", make_zip=True)
    assert "没有留下不完整的目录" in str(failed.value)
    assert sorted(p.name for p in tmp_path.iterdir() if "export" in p.name) == []

    stored.write_bytes(kept)
    report = export(app, tmp_path / "export", make_zip=True)
    assert len(report.files) == 2 and (tmp_path / "export" / MANIFEST_NAME).exists()
    assert sorted(p.name for p in tmp_path.iterdir() if "export" in p.name) == ["export", "export.zip"]


def test_a_full_disk_during_export(
    tmp_path: Path, dovecot: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    big = bytes(range(256)) * 12_000  # 3 MB
    dovecot.append(submission("指标12-支队", [("清理情况.pdf", b"%PDF-1.4\n" + big)]))
    config = tmp_path / "config.toml"
    write_config_file(config, dovecot, tmp_path / "files", tmp_path / "intake.db")
    monkeypatch.setenv("INTAKE_TEST_IMAP_PASSWORD", dovecot.password)
    assert main(["poll", "--no-send", "--config", str(config)]) == 0
    with tmpfs(tmp_path / "usb", "2m") as disk:  # a small USB stick, say
        assert main(["export", str(disk.path / "材料"), "--config", str(config)]) == 1
        err = capsys.readouterr().err
        assert "导出失败" in err and "没有留下不完整的目录" in err and "Traceback" not in err
        assert list(disk.path.iterdir()) == []
        disk.remount("size=16m")
        assert main(["export", str(disk.path / "材料"), "--config", str(config)]) == 0
        assert sorted(p.name for p in disk.path.iterdir()) == ["材料"]
        assert (disk.path / "材料" / SUMMARY_NAME).exists()
