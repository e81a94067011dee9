"""The digest says what to do, and what it says works: real mails (Dovecot) -> poll -> digest -> the
coordinator mails back the very commands the digest printed -> the next digest shows what changed."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.app import Deps, with_clock
from bot.cli import main
from bot.ingest.poll import poll_once
from bot.outgoing.digest import build_digest, send_digest
from bot.outgoing.render import render
from bot.outgoing.sending import flush_outbox
from rules.progress import tally
from tests.fixtures.smtpd import SmtpServer
from tests.integration.test_mailcommands import COORDINATOR, command, smtp_config
from tests.support.app import app_for
from tests.support.docs import cjk_text, make_docx
from tests.support.mails import doc, submission


@pytest.fixture
def app(tmp_path: Path, db_url: str, dovecot: Any, smtpd_tls: SmtpServer) -> Iterator[Deps]:
    deps = app_for(tmp_path, db_url, dovecot, smtp=smtp_config(smtpd_tls))
    yield deps
    deps.close()


def now() -> datetime:
    # The real clock: the poll and the action log stamp rows with the time they happen, and "since
    # the last digest" compares with it (as in production).
    return datetime.now(UTC)


def test_the_digest_says_what_to_do_and_its_commands_work(
    app: Deps, dovecot: Any, smtpd_tls: SmtpServer, tmp_path: Path
) -> None:
    long_statement = make_docx(tmp_path / "s.docx", ["监管情况说明", cjk_text(620)]).read_bytes()
    dovecot.append(submission("指标7-支队-监管情况说明", [("监管情况说明.docx", long_statement)]))
    dovecot.append(submission("指标50 政务公开", [("依申请公开统计.xlsx", doc("50"))], sender="zhangsan1988@qq.com"))
    dovecot.append(submission("指标12-支队", [("清理情况清单.xlsx", doc("v1"))]))
    dovecot.append(submission("指标12-支队 修改", [("清理情况清单（修改稿）.xlsx", doc("v2"))]))
    poll_once(app)

    at = now()
    first = build_digest(app, at)
    assert first.since is None  # the first digest says it covers everything so far
    # Each review item with the command that resolves it; the unknown sender's file is named.
    (review,) = first.review_queue
    assert review.filename == "依申请公开统计.xlsx" and review.candidates == ("50",)
    assert review.command == f"指派 R{review.id} 办公室 50"
    # Content problems of counted files, with a command.
    (problem,) = first.content_problems
    assert (problem.section, problem.indicators, problem.filename) == ("支队", ("7",), "监管情况说明.docx")
    assert "超过500字" in problem.detail
    assert problem.command == f"退回 A{problem.attachment_id} 原因：情况说明超过字数要求，请精简后重新报送"
    # What changed: files, a new version.
    activity = {a.label: a for a in first.activity}
    assert activity["新计入的文件"].count == 2 and activity["新版本（替代旧版）"].count == 1
    assert "（第2版，替代旧版）" in activity["新版本（替代旧版）"].lines[0]
    # What each section owes, by id and short name; the denominator explained with real numbers.
    zhidui = next(s for s in first.by_section if s.progress.label == "支队")
    owed = [o.id for o in zhidui.owed]
    assert "7" not in owed and "12" not in owed and "24" in owed
    assert all(o.name for o in zhidui.owed)
    assert first.denominator.startswith("应报 57 = 64 项指标中需要材料的 53 项，按责任科室各计一次")
    text, html = render("digest", first)
    assert f"→ 回复：指派 R{review.id} 办公室 50" in text and f"指派 R{review.id} 办公室 50" in html
    assert "统计区间：首次汇总，自开始收件以来" in text

    # The same rounding as `intake status`.
    with app.sessions() as s:
        from bot.coordinator.status import take_snapshot

        t = tally(take_snapshot(s, app.catalogue).items)
    assert first.overall.percent == t.percent == (100 * t.done) // t.total

    send_digest(app, at, flush=False)
    flush_outbox(app, now=at, pace_seconds=0)
    digest_mail = smtpd_tls.messages[-1].message
    commands = [c.strip() for c in re.findall(r"→ 回复：(.+)", digest_mail.get_body(("plain",)).get_content())]
    assert commands == [review.command, problem.command]

    # The coordinator replies to the digest with exactly those lines.
    body = "\n".join(c.strip() for c in commands) + "\n"
    dovecot.append(command("Re: 进度汇总", body=body, headers={"In-Reply-To": str(digest_mail["Message-ID"])}))
    poll_once(app)
    later = now() + timedelta(days=1)
    app2 = with_clock(app, lambda: later)
    flush_outbox(app2, now=later, pace_seconds=0)
    answer = [m for m in smtpd_tls.messages if COORDINATOR in m.rcpt_tos][-1].message
    assert str(answer["Subject"]).startswith("指令已执行")

    second = build_digest(app2, later)
    assert second.since is not None and second.review_queue == () and second.content_problems == ()
    activity = {a.label: a for a in second.activity}
    assert activity["退回"].count == 1 and activity["退回"].lines[0].startswith("指标7　支队：情况说明超过字数要求")
    assert activity["新计入的文件"].lines == ("指标50　办公室　“依申请公开统计.xlsx”",)
    assert activity["新版本（替代旧版）"].count == 0
    office = next(s for s in second.by_section if s.progress.label == "办公室")
    assert "50" not in [o.id for o in office.owed]


def test_status_prints_the_digest_percent(app: Deps, dovecot: Any, capsys: pytest.CaptureFixture[str]) -> None:
    for n in (1, 2, 3):
        dovecot.append(submission(f"指标{n}-服务科", [(f"{n}.pdf", doc(str(n)))], sender="fwk@example.com"))
    poll_once(app)
    context = build_digest(app, now())
    config = tmp_config(app)
    assert main(["status", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert f"总体进度：{context.overall.done}/{context.overall.total}（{context.overall.percent}%）" in out


def tmp_config(app: Deps) -> Path:
    """A config file for the CLI that points at this test's database (the app was built in memory)."""
    path = app.config.path.parent / "cli-config.toml"
    path.write_text(
        f"""
[campaign]
name = "测试"
deadline = 2021-10-28

[mailbox]
host = "127.0.0.1"
username = "x@example.com"
password_env = "UNUSED"

[storage]
database = "{app.config.storage.database}"
files = "{app.config.storage.files}"

[coordinator]
name = "刘海利"
emails = ["coordinator@example.com"]
""",
        encoding="utf-8",
    )
    return path
