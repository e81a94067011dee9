"""Issue 13 through the real CLI, Dovecot (APPEND with INTERNALDATE) and the database: who is late,
which version replaced which, a backlog mailbox, and cloud files fetched by hand into the export."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from bot.cli import main
from tests.fixtures.smtpd import SmtpServer
from tests.support.app import write_config_file
from tests.support.mails import doc, submission

CST = ZoneInfo("Asia/Shanghai")  # the test config's [campaign] timezone (the default); deadline 2021-10-28


def bj(*args: int) -> datetime:
    return datetime(*args, tzinfo=CST)  # type: ignore[misc]


@pytest.fixture
def config(tmp_path: Path, dovecot: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("INTAKE_TEST_IMAP_PASSWORD", dovecot.password)
    path = tmp_path / "config.toml"
    write_config_file(path, dovecot, tmp_path / "files", tmp_path / "intake.db")
    return str(path)


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    code = main(list(args))
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return captured.out


def status(capsys: pytest.CaptureFixture[str], config: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(cli(capsys, "status", "--json", "--config", config))
    return data


def indicator(snap: dict[str, Any], ind: str) -> dict[str, Any]:
    return next(i for i in snap["indicators"] if i["id"] == ind)


def owner(snap: dict[str, Any], ind: str, section: str = "支队") -> dict[str, Any]:
    return next(o for o in indicator(snap, ind)["owners"] if o["section"] == section)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def summary_rows(folder: Path) -> dict[str, dict[str, Any]]:
    ws = openpyxl.load_workbook(folder / "汇总表.xlsx").active
    assert ws is not None
    headers = [c.value for c in ws[1]]
    return {str(r[2].value): dict(zip(headers, (c.value for c in r), strict=True)) for r in ws.iter_rows(min_row=2)}


def test_late_is_the_server_arrival_after_the_deadline_day_in_the_campaign_zone(
    config: str, dovecot: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    v1, v2 = doc("清理情况表 第一稿"), doc("清理情况表 更正稿")
    dovecot.append(submission("指标12 清理情况", [("指标12-清理情况表.pdf", v1)]), msg_time=bj(2021, 10, 28, 23, 50))
    # 00:30 on the day after the deadline, Beijing time: still 10-28 in UTC, but late.
    dovecot.append(
        submission("指标7 双随机材料", [("指标7-双随机抽查记录.pdf", doc("双随机"))]),
        msg_time=datetime(2021, 10, 28, 16, 30, tzinfo=UTC),
    )
    # The Date header claims the 27th; the server received it on the 30th: the server is right.
    dovecot.append(
        submission("指标34 服务型执法", [("指标34-服务型执法台账.pdf", doc("台账"))], date=bj(2021, 10, 27, 9, 0)),
        msg_time=bj(2021, 10, 30, 10, 0),
    )
    # A corrected version of the on-time file, after the deadline: the item stays on time.
    corrected = submission("指标12 清理情况（更正）", [("指标12-清理情况表.pdf", v2)])
    dovecot.append(corrected, msg_time=bj(2021, 10, 31, 8, 0))
    assert "新邮件 4 封" in cli(capsys, "poll", "--config", config)

    snap = status(capsys, config)
    files12 = indicator(snap, "12")["files"]
    assert [(f["sha256"], f["late"], f["version"]) for f in files12] == [(sha(v2), True, 2)]
    assert owner(snap, "12") == {"section": "支队", "state": "received", "late": False, "late_seconds": None}
    assert owner(snap, "7")["late"] is True and owner(snap, "7")["late_seconds"] == 30 * 60
    assert owner(snap, "34")["late"] is True and owner(snap, "34")["late_seconds"] == (24 + 10) * 3600
    assert [f["late"] for f in indicator(snap, "34")["files"]] == [True]
    superseded = indicator(snap, "12")["superseded"]
    assert superseded == [
        {
            "section": "支队",
            "filename": "指标12-清理情况表.pdf",
            "sha256": sha(v1),
            "message_id": superseded[0]["message_id"],
            "received_at": bj(2021, 10, 28, 23, 50).astimezone(UTC).isoformat(),
            "matched_by": "filename",
            "version": 1,
            "late": False,
            "replaced_by": sha(v2),
        }
    ]

    text = cli(capsys, "status", "--config", config)
    assert "迟报，晚 30 分钟" in text and "迟报，晚 1 天 10 小时" in text and "迟报：2 项" in text

    html = tmp_path / "digest.html"
    cli(capsys, "digest", "--html", str(html), "--config", config)
    digest = html.read_text(encoding="utf-8")
    assert "迟报（2项" in digest and "晚 30 分钟" in digest and "晚 1 天 10 小时" in digest

    out = tmp_path / "export"
    cli(capsys, "export", str(out), "--config", config)
    rows = summary_rows(out)
    assert rows["7"]["报送状态"] == "已报送（迟报，晚 30 分钟）"
    assert rows["34"]["报送状态"] == "已报送（迟报，晚 1 天 10 小时）"
    assert rows["12"]["报送状态"] == "已报送"
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert {(f["indicator"], f["late"]) for f in manifest["files"]} == {("12", True), ("7", True), ("34", True)}
    assert [(r["indicator"], r["sha256"], r["replaced_by"]) for r in manifest["replaced"]] == [("12", sha(v1), sha(v2))]


def test_history_through_two_resends(
    config: str, dovecot: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    versions = [doc(f"第{n}稿") for n in (1, 2, 3)]
    names = ["清理情况说明.pdf", "清理情况说明（修改稿）.pdf", "清理情况说明 (2).pdf"]  # copy marks: one chain
    for n, (name, data) in enumerate(zip(names, versions, strict=True)):
        dovecot.append(submission(f"指标12 第{n + 1}次报送", [(name, data)]), msg_time=bj(2021, 10, 20 + n, 9, 0))
    cli(capsys, "poll", "--config", config)

    item = indicator(status(capsys, config), "12")
    assert [(f["filename"], f["version"]) for f in item["files"]] == [(names[2], 3)]
    assert [(r["filename"], r["version"], r["replaced_by"]) for r in item["superseded"]] == [
        (names[0], 1, sha(versions[1])),
        (names[1], 2, sha(versions[2])),
    ]
    history = cli(capsys, "status", "--history", "--config", config)
    assert "历史版本" in history and "第2版" in history and "第3版" in history
    assert f"现行：{names[2]}" in history

    out = tmp_path / "export"
    cli(capsys, "export", str(out), "--config", config)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert [f["sha256"] for f in manifest["files"] if f["indicator"] == "12"] == [sha(versions[2])]
    assert [(r["version"], r["replaced_by"]) for r in manifest["replaced"]] == [
        (1, sha(versions[1])),
        (2, sha(versions[2])),
    ]
    exported = [p.name for p in out.rglob("*.pdf")]
    assert exported == [f"支队-{names[2]}"]  # replaced versions are listed, never exported


def test_a_backlog_mailbox_is_recorded_without_receipts_for_old_mail(
    config: str,
    dovecot: Any,
    smtpd_tls: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("INTAKE_TEST_SMTP_PASSWORD", smtpd_tls.password)
    with open(config, "a", encoding="utf-8") as f:
        f.write(
            f'\n[smtp]\nhost = "{smtpd_tls.host}"\nport = {smtpd_tls.port}\nssl = {str(smtpd_tls.ssl).lower()}\n'
            f'ca_file = "{smtpd_tls.ca_file}"\nusername = "{smtpd_tls.username}"\n'
            'password_env = "INTAKE_TEST_SMTP_PASSWORD"\npace_seconds = 0\n'
        )
    now = datetime.now(UTC)
    for days in (30, 10, 4):
        dovecot.append(
            submission(f"指标12 材料（{days}天前）", [(f"材料{days}.pdf", doc(str(days)))]),
            msg_time=now - timedelta(days=days),
        )
    today = submission("指标7 材料（今天）", [("指标7-记录.pdf", doc("today"))])
    dovecot.append(today, msg_time=now - timedelta(hours=1))
    out = cli(capsys, "poll", "--config", config)
    assert "新邮件 4 封" in out
    assert "其中 3 封收到已超过 72 小时" in out and "未发回执" in out
    receipts = [m for m in smtpd_tls.messages if "zhidui@example.com" in m.rcpt_tos]
    assert len(receipts) == 1 and "指标7" in str(receipts[0].message["Subject"])
    body = receipts[0].message.get_body(("plain",))  # type: ignore[union-attr]
    assert body is not None
    # Today is years after the test config's 2021-10-28 deadline: the receipt says the file is late.
    assert "截止日期2021年10月28日已过" in body.get_content() and "记为迟报" in body.get_content()
    snap = status(capsys, config)
    assert owner(snap, "12")["state"] == "received" and owner(snap, "7")["state"] == "received"  # all recorded


KDOCS = "https://kdocs.cn/l/cfTc8Yw2Kx1Q"
QQ_FTN = "https://mail.qq.com/cgi-bin/ftnExs_download?k=5e3f1b2c7d&t=exs_ftn_download&code=91ab"
CLOUD_BODY = f"""法规科：
指标12的材料较大，放在金山文档，另一个视频用QQ中转站发送。

指标12 清理规范性文件情况说明
{KDOCS}

我通过QQ邮箱文件中转站给你发送了文件，请在过期前下载：
文件名：执法记录视频.zip
文件大小：156.32M
过期时间：2021年10月25日 10:21
下载地址：{QQ_FTN}
"""


def test_cloud_files_fetched_by_hand_reach_the_export(
    config: str, dovecot: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dovecot.append(submission("指标12 清理情况（云文档）", [], body=CLOUD_BODY), msg_time=bj(2021, 10, 22, 9, 0))
    cli(capsys, "poll", "--config", config)
    clouds = json.loads(cli(capsys, "cloud", "--json", "--config", config))
    by_name = {c["filename"]: c for c in clouds}
    assert set(by_name) == {"指标12 清理规范性文件情况说明", "执法记录视频.zip"}
    kdocs, qq = by_name["指标12 清理规范性文件情况说明"], by_name["执法记录视频.zip"]
    assert kdocs["indicators"] == ["12"] and kdocs["provider"] == "kdocs" and kdocs["status"] == "pending"
    assert qq["expires_at"] == bj(2021, 10, 25, 10, 21).astimezone(UTC).isoformat()
    assert "待下载的云附件：2 个" in cli(capsys, "status", "--config", config)

    download = tmp_path / "下载" / "清理规范性文件情况说明.pdf"
    download.parent.mkdir()
    download.write_bytes(doc("云文档导出的情况说明"))
    done = cli(capsys, "cloud", "fetched", kdocs["id"], str(download), "--config", config)
    assert "计入指标12" in done and "链接已关闭" in done and "intake undo" in done
    assert main(["cloud", "fetched", kdocs["id"], str(download), "--config", config]) == 1
    assert "已下载登记过" in capsys.readouterr().err
    cli(capsys, "cloud", "dismiss", qq["id"], "--reason", "已请支队重新发送", "--config", config)

    snap = status(capsys, config)
    files = indicator(snap, "12")["files"]
    assert [(f["filename"], f["matched_by"], f["late"]) for f in files] == [
        ("清理规范性文件情况说明.pdf", "cloud", False)  # the link arrived on time: so did the file
    ]
    assert owner(snap, "12")["state"] == "received" and snap["cloud_files"] == []
    everything = json.loads(cli(capsys, "cloud", "--all", "--json", "--config", config))
    assert {c["id"]: c["status"] for c in everything} == {kdocs["id"]: "fetched", qq["id"]: "dismissed"}

    out = tmp_path / "export"
    cli(capsys, "export", str(out), "--config", config)
    (exported,) = list(out.rglob("*.pdf"))
    assert exported.name == "支队-清理规范性文件情况说明.pdf" and exported.read_bytes() == download.read_bytes()
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert [(f["indicator"], f["filename"]) for f in manifest["files"]] == [("12", "清理规范性文件情况说明.pdf")]


def test_a_fetched_cloud_file_can_be_undone(
    config: str, dovecot: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dovecot.append(submission("指标12 材料", [], body=CLOUD_BODY), msg_time=bj(2021, 10, 22, 9, 0))
    cli(capsys, "poll", "--config", config)
    kdocs = next(c for c in json.loads(cli(capsys, "cloud", "--json", "--config", config)) if c["provider"] == "kdocs")
    download = tmp_path / "x.pdf"
    download.write_bytes(doc("x"))
    done = cli(capsys, "cloud", "fetched", kdocs["id"], str(download), "--name", "指标12-说明.pdf", "--config", config)
    log_id = done.rsplit("intake undo ", 1)[1].split("）")[0]
    assert indicator(status(capsys, config), "12")["files"]
    cli(capsys, "undo", log_id, "--config", config)
    assert indicator(status(capsys, config), "12")["files"] == []
    reopened = next(c for c in json.loads(cli(capsys, "cloud", "--json", "--config", config)) if c["id"] == kdocs["id"])
    assert reopened["status"] == "pending"
