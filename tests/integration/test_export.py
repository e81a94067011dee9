"""``intake export``: the tree, 汇总表.xlsx and manifest.json, compared with the database."""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from bot.app import Deps
from bot.cli import main
from bot.coordinator.actions import Actor, return_
from bot.coordinator.export import MANIFEST_NAME, SUMMARY_NAME, ExportError, export, item_folder
from bot.coordinator.export_xlsx import HEADERS
from bot.ingest.poll import poll_once
from db.models import Assignment, Attachment
from tests.support.app import app_for
from tests.support.docs import cjk_text, make_docx
from tests.support.mails import auto_reply, doc, gbk_zip, submission


@pytest.fixture
def app(tmp_path: Path, db_url: str, dovecot: Any) -> Iterator[Deps]:
    deps = app_for(tmp_path, db_url, dovecot)
    yield deps
    deps.close()


def folder12(app: Deps) -> str:
    return str(item_folder(app.catalogue["12"], 1))


def fill(app: Deps, dovecot: Any, tmp_path: Path) -> None:
    dovecot.append(submission("指标12-支队", [("清理情况说明.docx", doc("v1"))]))
    dovecot.append(submission("指标12-支队 修改", [("清理情况说明（修改稿）.docx", doc("v2"))]))  # supersedes v1
    dovecot.append(submission("指标12-支队 清单", [("清单:甲.pdf", doc("list a"))]))
    dovecot.append(submission("指标12-支队 清单", [("清单_甲.pdf", doc("list b"))]))  # same safe name
    dovecot.append(submission("指标1-服务科", [("取消审批情况说明.pdf", doc("1"))], sender="fwk@example.com"))
    dovecot.append(submission("指标24", [("移送清单.pdf", doc("stranger"))], sender="stranger@qq.com"))
    dovecot.append(submission("指标7-支队", [("监管情况（机密）.docx", doc("classified name"))]))
    marked = make_docx(tmp_path / "m.docx", ["绝密", cjk_text(20)]).read_bytes()
    dovecot.append(submission("指标33-财审科", [("经费情况说明.docx", marked)], sender="csk@example.com"))
    dovecot.append(submission("指标8无材料", [], sender="fgk@example.com"))
    dovecot.append(submission("指标36-支队", [("行政指导分析.docx", doc("36"))]))
    dovecot.append(auto_reply("指标12"))
    poll_once(app)
    with app.sessions.begin() as s:
        return_(s, app.catalogue, (), ("36",), reason="缺少统计表", section="支队", actor=Actor("cli", "test"))


def test_zip_members_keep_the_section_prefix(app: Deps, dovecot: Any, tmp_path: Path) -> None:
    """A member's name carries its folder inside the zip ("服务科材料/2 …docx"); the exported name is
    still 科室-原文件名, as docs/COORDINATOR.md says."""
    packed = gbk_zip({"服务科材料/2 网上可办率情况说明.docx": doc("2")})
    dovecot.append(submission("指标2-服务科", [("材料.zip", packed)], sender="fwk@example.com"))
    poll_once(app)
    out = tmp_path / "export"
    export(app, out)
    names = {p.name for p in out.rglob("*.docx")}
    assert names == {"服务科-2 网上可办率情况说明.docx"}


def test_tree_manifest_and_summary(app: Deps, dovecot: Any, tmp_path: Path) -> None:
    fill(app, dovecot, tmp_path)
    out = tmp_path / "export"
    report = export(app, out, make_zip=True)

    # -- the tree: exactly the current, unclassified files of known sections ----------------------
    f12 = folder12(app)
    assert f12 == "01-一、政府职能依法全面履行/07-优化法治化营商环境/12-不存在干预企业依法自主经营活动的行为"
    tree = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()} - {SUMMARY_NAME, MANIFEST_NAME}
    f1 = str(item_folder(app.catalogue["1"], 1))
    assert tree == {
        f"{f12}/支队-清理情况说明（修改稿）.docx",
        f"{f12}/支队-清单_甲.pdf",
        f"{f12}/支队-清单_甲-2.pdf",
        f"{f1}/服务科-取消审批情况说明.pdf",
    }
    assert (out / f12 / "支队-清理情况说明（修改稿）.docx").read_bytes() == doc("v2")
    assert report.withheld_classified == 2

    # -- the tree against the database -------------------------------------------------------------
    with app.sessions() as s:
        rows = s.execute(
            select(Assignment.indicator_id, Assignment.section, Attachment.sha256, Attachment.filename)
            .join(Attachment)
            .where(Assignment.is_current.is_(True), Assignment.section != "")
        ).all()
    manifest = json.loads((out / MANIFEST_NAME).read_text(encoding="utf-8"))
    exported = {(f["indicator"], f["section"], f["sha256"], f["filename"]) for f in manifest["files"]}
    classified = {"监管情况（机密）.docx", "经费情况说明.docx"}
    assert exported == {tuple(r) for r in rows if r[3] not in classified}
    for f in manifest["files"]:
        data = (out / f["path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == f["sha256"]
        assert f["message_id"].startswith("<") and f["received_at"].startswith("20")
    assert {"indicator": "8", "section": "法规科", "source": "mail"}.items() <= manifest["declarations"][0].items()
    missing = {(m["indicator"], m["section"]) for m in manifest["missing"]}
    assert ("36", "支队") in missing  # returned: owed again
    assert ("12", "支队") not in missing and ("8", "法规科") not in missing
    assert ("2", "服务科") in missing

    # -- 汇总表.xlsx, cell by cell -------------------------------------------------------------------
    wb = load_workbook(out / SUMMARY_NAME)
    ws = wb.active
    assert ws is not None
    assert tuple(c.value for c in ws[1]) == HEADERS
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == f"A1:M{len(app.catalogue) + 1}"
    assert ws.column_dimensions["D"].width == 48
    by_number = {row[2].value: row for row in ws.iter_rows(min_row=2)}
    assert len(by_number) == len(app.catalogue)
    assert [r[2].value for r in ws.iter_rows(min_row=2)] == list(app.catalogue.ids)  # checklist order
    r12 = {h: c for h, c in zip(HEADERS, by_number["12"], strict=True)}
    assert r12["一级指标"].value == "一、政府职能依法全面履行"
    assert r12["二级指标"].value == "7. 优化法治化营商环境"
    assert r12["三级指标"].value == app.catalogue["12"].text
    assert r12["填报材料"].value == app.catalogue["12"].materials
    assert r12["责任单位及责任人"].value.startswith("支队：")
    # Appended today, years after the 2021 deadline of the test config: the table says so.
    assert r12["报送状态"].value.startswith("已报送（迟报，晚 ")
    assert r12["材料文件"].value.splitlines() == [
        "支队-清理情况说明（修改稿）.docx",
        "支队-清单_甲.pdf",
        "支队-清单_甲-2.pdf",
    ]
    assert r12["材料文件"].hyperlink.target == f12 + "/"
    assert r12["收到日期"].value == "2021-10-20" or r12["收到日期"].value.startswith("20")
    assert r12["材料时限"].value == "2019年以来"
    assert r12["三级指标"].alignment.wrap_text
    r1 = {h: c for h, c in zip(HEADERS, by_number["1"], strict=True)}
    assert r1["材料文件"].hyperlink.target == f"{f1}/服务科-取消审批情况说明.pdf"
    r7 = {h: c for h, c in zip(HEADERS, by_number["7"], strict=True)}
    assert r7["材料文件"].value is None
    assert "《支队-监管情况（机密）.docx》可能涉密，未导出" in r7["问题"].value
    r8 = {h: c for h, c in zip(HEADERS, by_number["8"], strict=True)}
    assert r8["报送状态"].value == "不涉及" and r8["不涉及声明"].value == "法规科：不涉及（邮件声明）"
    r36 = {h: c for h, c in zip(HEADERS, by_number["36"], strict=True)}
    assert r36["报送状态"].value == "待报送" and r36["材料文件"].value is None
    r2 = {h: c for h, c in zip(HEADERS, by_number["2"], strict=True)}
    assert r2["材料时限"].value.startswith("2020年1月1日至2021年7月31日")

    # -- the zip ---------------------------------------------------------------------------------
    assert report.zip_path == tmp_path / "export.zip"
    with zipfile.ZipFile(report.zip_path) as zf:
        names = set(zf.namelist())
    assert f"export/{f12}/支队-清单_甲-2.pdf" in names and f"export/{SUMMARY_NAME}" in names


def test_export_refuses_a_non_empty_directory(app: Deps, tmp_path: Path) -> None:
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "x.txt").write_text("x")
    with pytest.raises(ExportError, match="不为空"):
        export(app, tmp_path / "busy")


def test_cli_export(app: Deps, dovecot: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dovecot.append(submission("指标12-支队", [("清理情况说明.docx", doc("v1"))]))
    poll_once(app)
    config = tmp_path / "config.toml"
    config.write_text(_toml(app), encoding="utf-8")
    assert main(["export", str(tmp_path / "out"), "--config", str(config)]) == 0
    assert "已导出 1 个文件" in capsys.readouterr().out
    assert (tmp_path / "out" / folder12(app) / "支队-清理情况说明.docx").exists()


def _toml(app: Deps) -> str:
    c = app.config
    lines = [
        "[campaign]",
        f'name = "{c.campaign.name}"',
        f"deadline = {c.campaign.deadline.isoformat()}",
        "[mailbox]",
        f'host = "{c.mailbox.host}"',
        f"port = {c.mailbox.port}",
        "ssl = false",
        f'username = "{c.mailbox.username}"',
        'password_env = "UNUSED"',
        "[storage]",
        f'database = "{c.storage.database}"',
        f'files = "{c.storage.files}"',
        "[coordinator]",
        f'name = "{c.coordinator.name}"',
        f'emails = ["{c.coordinator.emails[0]}"]',
    ]
    for section in c.sections:
        senders = ", ".join(f'"{a}"' for a in section.senders)
        lines += ["[[sections]]", f'name = "{section.name}"', f"senders = [{senders}]"]
    return "\n".join(lines) + "\n"
