"""Pure helpers of outgoing mail: SMTP errors explained in Chinese, the subject convention, summaries."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.commands.remind import parse_now
from bot.outgoing.outbox import FlushReport
from bot.outgoing.reminders import reminder_key, subject_example
from bot.outgoing.sending import explain_smtp_error, flush_summary
from bot.outgoing.smtp import SmtpAuthError, SmtpPermanentError, SmtpTemporaryError
from rules.catalogue import load_catalogue

CST = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (SmtpAuthError("login as jzhbjfzk@163.com: 535 Error: authentication failed", 535), "授权码"),
        ("connect: login as jzhbjfzk@163.com: 535 Error: authentication failed", "授权码"),
        (SmtpPermanentError("MAIL FROM: 553 Mail from must equal authorized user", 553), "发件人必须与登录账号一致"),
        ("DATA: 554 DT:SPM 163 smtp3, content rejected", "垃圾邮件"),
        (SmtpTemporaryError("DATA: 451 DT:SPM temporarily deferred", 451), "稍后自动重试"),
        (
            "connect: connect to smtp.163.com:465: ConnectionRefusedError: [Errno 111] Connection refused",
            "连接被拒绝",
        ),
        ("connect: connect to smtp.163.com:465: TimeoutError: timed out", "465"),
        ("connect: certificate of smtp.test not trusted: self-signed certificate", "发送失败"),
    ],
)
def test_smtp_errors_are_explained_in_chinese(error: object, expected: str) -> None:
    text = explain_smtp_error(error)  # type: ignore[arg-type]
    assert expected in text


def test_a_port_number_is_not_taken_for_a_reply_code() -> None:
    text = explain_smtp_error("connect: connect to smtp.163.com:465: OSError: [Errno 101] Network is unreachable")
    assert "暂时拒收" not in text


@pytest.mark.parametrize(
    ("indicator", "expected"),
    [
        ("7", "指标7-支队-监管工作的情况说明"),
        ("12", "指标12-支队-涉企收费"),
        ("24", "指标24-支队-行刑衔接案件移送清单"),
        ("1", "指标1-支队-材料名称"),  # too long to be a good example name
    ],
)
def test_subject_example_follows_the_convention(indicator: str, expected: str) -> None:
    assert subject_example("支队", load_catalogue()[indicator]) == expected


def test_reminder_key() -> None:
    assert reminder_key("法规科", datetime(2021, 10, 21).date()) == "reminder:法规科:2021-10-21"


def test_now_option_reads_naive_times_in_the_campaign_zone() -> None:
    clock = datetime(2030, 1, 1, tzinfo=CST)
    assert parse_now(None, CST, clock) is clock
    assert parse_now("2021-10-21T09:00", CST, clock) == datetime(2021, 10, 21, 9, 0, tzinfo=CST)
    assert parse_now("2021-10-21T01:00+00:00", CST, clock) == datetime(2021, 10, 21, 9, 0, tzinfo=CST)
    with pytest.raises(ValueError):
        parse_now("21.10.2021", CST, clock)


def test_flush_summary() -> None:
    assert "未配置 [smtp]" in flush_summary(None)
    assert flush_summary(FlushReport()) == "发件队列中没有待发送的邮件。"
    assert flush_summary(FlushReport(sent=2, retry=1, failed=1)) == (
        "已发送 2 封，1 封稍后重试，1 封发送失败（将在汇总中提示）。"
    )
