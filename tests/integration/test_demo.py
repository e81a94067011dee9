"""``intake demo``: the whole job against the embedded servers, checked from what it leaves behind."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import threading
from email.utils import getaddresses
from pathlib import Path

import pytest
from rich.console import Console
from sqlalchemy import select

from bot.app import build
from bot.cli import main
from bot.config import load_config
from bot.demo.runner import run_demo
from bot.demo.samples import COORDINATOR, SECTIONS, UNKNOWN_SENDER
from db.models import Assignment, Attachment, Outbox

ADDRESS = {s.name: s.address for s in SECTIONS}


def test_demo_runs_the_whole_job(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = set(threading.enumerate())
    buffer = io.StringIO()
    result = run_demo(tmp_path / "demo", console=Console(file=buffer, width=200))
    out = buffer.getvalue()

    # Poll: every sample recorded once; the auto-reply ignored; two files wait for the coordinator.
    assert result.delivered == 13
    assert result.poll is not None
    assert (result.poll.mails, result.poll.ignored, result.poll.errors, result.poll.reviews) == (13, 1, 0, 2)
    assert "服务科材料/1 取消非行政许可审批事项情况说明.docx（服务科）" in out  # GBK zip names decoded

    # What the SMTP server received: receipts, reminders, the digest; nothing to the auto-reply's sender.
    sent = [(m.subject, set(m.rcpt_tos)) for m in result.sent]
    receipts = [(s, r) for s, r in sent if s.startswith("回执")]
    reminders = [(s, r) for s, r in sent if "报送提醒" in s]
    digests = [(s, r) for s, r in sent if "进度汇总" in s]
    assert len(receipts) == 12 and len(reminders) == 7 and len(digests) == 1 and len(sent) == 20
    assert ("回执：指标１～４材料（服务科）", {ADDRESS["服务科"]}) in receipts
    assert any(r == {UNKNOWN_SENDER} for _, r in receipts)  # unknown senders are told it awaits confirmation
    assert all(ADDRESS["办公室"] not in r for _, r in receipts)  # the auto-reply got no receipt
    assert {next(iter(r)) for _, r in reminders} == {ADDRESS[n] for n in result.reminders}
    assert "宣教科" not in result.reminders  # it sent its only item (from the spam folder)
    assert digests[0][1] == {COORDINATOR[1]}
    assert all(m.mail_from == "jzhbjfzk@163.com" for m in result.sent)
    to = getaddresses([str(result.sent[0].message["To"])])
    assert to[0][1] == ADDRESS["支队"]

    # Files left behind: the digest HTML and the export, and a database that says the same.
    assert result.digest_html is not None and result.digest_html.is_file()
    assert "进度汇总" in result.digest_html.read_text(encoding="utf-8")
    assert result.export is not None
    manifest = json.loads((result.export / "manifest.json").read_text(encoding="utf-8"))
    exported = {Path(f["path"]).name for f in manifest["files"]}
    assert "服务科-1 取消非行政许可审批事项情况说明.docx" in exported  # a member of the GBK zip, prefixed
    assert "财审科-指标6 2020年度预算情况说明.pdf" in exported  # from inside the forwarded mail
    assert (result.export / "汇总表.xlsx").is_file()
    assert str(result.digest_html) in out and str(result.export) in out

    deps = build(load_config(result.config_path), migrate=False)
    try:
        with deps.sessions() as s:
            v12 = s.scalars(
                select(Assignment).where(Assignment.indicator_id == "12", Assignment.is_current.is_(True))
            ).one()
            assert v12.version == 2 and v12.section == "支队"
            names = set(s.scalars(select(Attachment.filename)))
            assert "行政调解统计分析.docx" in names and "第十九项-重大行政决策事项目录.xls" in names
            assert s.scalar(select(Outbox).where(Outbox.status != "sent")) is None
    finally:
        deps.close()
    assert (tmp_path / "demo" / "secrets" / "mailbox.code").stat().st_mode & 0o077 == 0
    assert "password =" not in result.config_path.read_text(encoding="utf-8")

    # Every mail the demo sent, readable: the bytes as sent and the text part.
    assert result.mail_folder == tmp_path / "demo" / "mail"
    emls = sorted(result.mail_folder.glob("*.eml"))
    assert len(emls) == len(result.sent) == 20 and len(list(result.mail_folder.glob("*.txt"))) == 20
    assert [e.read_bytes() for e in emls] == [m.data for m in result.sent]
    assert emls[0].name == "01-回执-zhidui.eml"
    digest_text = (result.mail_folder / "20-进度汇总-coordinator.txt").read_text(encoding="utf-8")
    assert digest_text.startswith("发件人：jzhbjfzk@163.com\n收件人：coordinator@example.com\n")
    assert "→ 回复：指派 R1 办公室 50" in digest_text  # the unknown sender's item, as issue 14 asked
    assert "应报 57 = 64 项指标中需要材料的 53 项" in digest_text and "24%（14/57）" in digest_text
    assert "统计区间：首次汇总，自开始收件以来" in digest_text

    # Nothing keeps running.
    assert set(threading.enumerate()) <= before

    # Commands on the kept demo count from the demo's clock, not from today.
    config = str(result.config_path)
    assert main(["digest", "--dry-run", "--config", config]) == 0
    assert "当前没有到期的汇总" in capsys.readouterr().out  # 09:00: today's is due at 17:30
    assert main(["digest", "--dry-run", "--now", "2021-10-25T17:30", "--config", config]) == 0
    out = capsys.readouterr().out
    assert "截止时间：2021年10月28日（距截止还有3天）" in out and "已逾期" not in out and "（试运行）" in out
    assert main(["remind", "--dry-run", "--now", "2021-10-27T09:00", "--config", config]) == 0
    assert "距截止1天" in capsys.readouterr().out


def test_intake_demo_command_exits_cleanly(tmp_path: Path) -> None:
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "demo"], capture_output=True, text=True, timeout=90, env=env, check=False
    )
    assert done.returncode == 0, done.stderr
    for text in ("启动内置邮件服务器", "新邮件 13 封", "已发送 12 封", "催报提醒：7 个科室", "汇总 HTML 已写入",
                 "导出", "总体进度", "演示 SMTP 服务器收到的邮件（20 封）", "演示目录已删除"):  # fmt: skip
        assert text in done.stdout, text
    assert "Traceback" not in done.stderr
    assert list(tmp_path.iterdir()) == []  # the temporary folder is gone


def test_kept_demo_says_where_everything_is_and_how_time_works(tmp_path: Path) -> None:
    kept = tmp_path / "kept"
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "demo", "--keep", str(kept)],
        capture_output=True, text=True, timeout=90, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    unwrapped = "".join(done.stdout.split())  # rich wraps long lines wherever it likes
    assert f"发出的每封邮件（.eml原文和.txt正文）：{kept / 'mail'}" in unwrapped
    assert "[campaign]clock把“现在”固定在2021-10-2509:00" in unwrapped
    assert "--now2021-10-25T17:30" in unwrapped
    assert (kept / "mail" / "20-进度汇总-coordinator.eml").is_file()
    assert "clock = 2021-10-25T09:00:00+08:00" in (kept / "config.toml").read_text(encoding="utf-8")
