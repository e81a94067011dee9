"""rules.mailkind: classification of non-submissions and loop protection."""

from __future__ import annotations

import pytest

from rules.mailkind import MailKind, classify, is_bounce_sender, is_noreply_sender, may_auto_answer

OWN = ("jzhbjfzk@163.com",)
STAFF = "shifengyun@163.com"


def _classify(
    headers: dict[str, str] | None = None,
    *,
    content_type: str = "multipart/mixed",
    from_addr: str = STAFF,
    subject: str = "【指标12】依法行政材料",
    body: str = "刘科长您好，材料见附件。",
) -> MailKind:
    return classify(headers or {}, content_type, from_addr, subject, body, OWN)


@pytest.mark.parametrize(
    ("headers", "content_type", "from_addr", "subject"),
    [
        ({}, "multipart/mixed", STAFF, "【指标12】依法行政材料"),
        ({}, "text/plain", "fwk@jiaozuo.gov.cn", "指标3 无材料"),
        ({"Auto-Submitted": "no"}, "multipart/mixed", STAFF, "指标5"),
        ({"auto-submitted": "No"}, "multipart/mixed", STAFF, "指标5"),
        # Outlook "Send to mail recipient" stamps ordinary mail: still a submission.
        ({"X-Auto-Response-Suppress": "All"}, "multipart/mixed", "wang@outlook.com", "指标7材料"),
        ({"X-Auto-Response-Suppress": "DR, OOF, AutoReply"}, "multipart/mixed", STAFF, "指标7"),
        ({"Precedence": "normal"}, "multipart/mixed", STAFF, "指标8"),
        # Human replies / forwards of automatic mail stay human.
        ({}, "multipart/mixed", STAFF, "Re: 自动回复: 指标12"),
        ({}, "multipart/mixed", STAFF, "Fw: 系统退信"),
        ({}, "multipart/mixed", STAFF, "回复：关于退信的说明"),
        ({}, "multipart/mixed", "replyto@163.com", "指标9"),  # "reply" alone is not "noreply"
        ({"Return-Path": "<shifengyun@163.com>"}, "multipart/mixed", STAFF, "指标10"),
        ({"Content-Type": 'multipart/mixed; boundary="x"'}, "multipart/mixed", STAFF, "指标11"),
    ],
)
def test_ordinary_mail_is_a_submission(
    headers: dict[str, str], content_type: str, from_addr: str, subject: str
) -> None:
    assert _classify(headers, content_type=content_type, from_addr=from_addr, subject=subject) is (
        MailKind.SUBMISSION
    )


@pytest.mark.parametrize(
    ("headers", "from_addr"),
    [
        ({"X-Intake-Loop": "jzhbjfzk@163.com"}, STAFF),
        ({"x-intake-loop": "1"}, STAFF),
        ({}, "jzhbjfzk@163.com"),
        ({}, "JZHBJFZK@163.COM"),
        ({}, "刘海利 <jzhbjfzk@163.com>"),
        # Our own receipt bounced back with our loop header copied: still ours, never answered.
        ({"X-Intake-Loop": "1", "Auto-Submitted": "auto-replied"}, "other@163.com"),
    ],
)
def test_own_mail(headers: dict[str, str], from_addr: str) -> None:
    assert _classify(headers, from_addr=from_addr) is MailKind.OWN


@pytest.mark.parametrize(
    ("headers", "content_type", "from_addr", "subject"),
    [
        ({}, "multipart/report", "MAILER-DAEMON@163.com", "Undelivered Mail Returned to Sender"),
        (
            {"Content-Type": 'multipart/report; report-type=delivery-status; boundary="b"'},
            "multipart/report",
            "postmaster@jiaozuo.gov.cn",
            "Delivery Status Notification (Failure)",
        ),
        ({}, "multipart/report", "someone@example.com", "报告"),
        ({}, "text/html", "Postmaster@163.com", "系统退信"),
        ({}, "text/html", "service@163.com", "系统退信"),
        ({}, "text/html", "postmaster@qq.com", "来自QQ邮箱的退信"),
        ({}, "text/plain", "notice@example.com", "退信通知：指标12"),
        ({}, "multipart/mixed", "microsoftexchange329e71ec88ae4615bbc36ab6ce41109e@x.cn", "Undeliverable: 指标12"),
        ({}, "multipart/mixed", "exchange@x.cn", "无法传递: 指标12"),
        ({}, "text/plain", "mailer@x.cn", "Mail delivery failed: returning message to sender"),
        ({}, "text/plain", "mailer@x.cn", "Returned mail: see transcript for details"),
        ({}, "text/plain", "mailer@x.cn", "failure notice"),
        ({"X-Failed-Recipients": "nobody@163.com"}, "text/plain", "root@mx.example.com", "Warning"),
        ({"Auto-Submitted": "auto-replied"}, "text/html", "MAILER-DAEMON@qq.com", "退信"),
    ],
)
def test_bounce(headers: dict[str, str], content_type: str, from_addr: str, subject: str) -> None:
    assert _classify(headers, content_type=content_type, from_addr=from_addr, subject=subject) is (
        MailKind.BOUNCE
    )


@pytest.mark.parametrize(
    ("subject", "body"),
    [
        ("Recall: 【指标12】依法行政材料", ""),
        ("撤回: 【指标12】依法行政材料", ""),
        ("撤回：指标12", ""),
        ("召回: 指标12", ""),
        ("邮件撤回通知", ""),
        ("史凤云撤回了邮件“指标12”", ""),
        ("请求召回邮件", ""),
        ("指标12", "Shi Fengyun would like to recall the message, \"指标12\"."),
        ("指标12", "史凤云 希望撤回邮件“指标12”。"),
    ],
)
def test_recall(subject: str, body: str) -> None:
    assert _classify(subject=subject, body=body) is MailKind.RECALL


@pytest.mark.parametrize(
    ("headers", "content_type", "from_addr", "subject"),
    [
        ({"Auto-Submitted": "auto-replied"}, "text/plain", STAFF, "Re: 指标12"),
        ({"Auto-Submitted": "auto-generated"}, "text/plain", STAFF, "指标12"),
        ({"AUTO-SUBMITTED": "auto-replied; owner-email=\"a@b.cn\""}, "text/plain", STAFF, "指标12"),
        ({"Precedence": "auto_reply"}, "text/plain", STAFF, "指标12"),
        ({"X-Autoreply": "yes"}, "text/plain", STAFF, "指标12"),
        ({"X-Autorespond": "指标12"}, "text/plain", STAFF, "指标12"),
        ({"Return-Path": "<>"}, "text/plain", STAFF, "指标12"),
        ({}, "text/plain", STAFF, "自动回复: 【指标12】依法行政材料"),
        ({}, "text/plain", STAFF, "自动回复：您的来信已收到"),
        ({}, "text/plain", STAFF, "【自动回复】指标12"),
        ({}, "text/plain", STAFF, "自动答复: 指标12"),
        ({}, "text/plain", STAFF, "Auto Reply: 指标12"),
        ({}, "text/plain", STAFF, "Automatic reply: 指标12"),
        ({}, "text/plain", STAFF, "AutoReply: 指标12"),
        ({}, "text/plain", STAFF, "Out of Office: 指标12"),
        ({}, "text/plain", STAFF, "Re: 指标12 (Out of Office)"),
        ({}, "text/plain", STAFF, "来自史凤云的自动回复"),
        (
            {"Content-Type": "multipart/report; report-type=disposition-notification"},
            "multipart/report",
            STAFF,
            "已读: 指标12",
        ),
    ],
)
def test_auto_reply(headers: dict[str, str], content_type: str, from_addr: str, subject: str) -> None:
    assert _classify(headers, content_type=content_type, from_addr=from_addr, subject=subject) is (
        MailKind.AUTO_REPLY
    )


@pytest.mark.parametrize(
    ("headers", "from_addr"),
    [
        ({"List-Id": "<news.mee.gov.cn>"}, "news@mee.gov.cn"),
        ({"List-Unsubscribe": "<mailto:unsub@example.com>"}, "news@example.com"),
        ({"List-Post": "<mailto:all@jiaozuo.gov.cn>"}, STAFF),
        ({"Precedence": "bulk"}, "info@example.com"),
        ({"Precedence": "list"}, "info@example.com"),
        ({"Precedence": "junk"}, "info@example.com"),
        ({}, "noreply@example.com"),
        ({}, "no-reply@notice.163.com"),
        ({}, "do_not_reply@bank.cn"),
        ({}, "DoNotReply@microsoft.com"),
    ],
)
def test_newsletter(headers: dict[str, str], from_addr: str) -> None:
    assert _classify(headers, from_addr=from_addr, subject="本周通讯") is MailKind.NEWSLETTER


def test_bounce_wins_over_auto_submitted() -> None:
    headers = {"Auto-Submitted": "auto-replied", "Precedence": "bulk"}
    assert _classify(headers, content_type="multipart/report", from_addr="MAILER-DAEMON@163.com") is (
        MailKind.BOUNCE
    )


@pytest.mark.parametrize(
    ("address", "bounce", "noreply"),
    [
        ("MAILER-DAEMON@163.com", True, False),
        ("postmaster@jiaozuo.gov.cn", True, False),
        ("mailer-daemon", True, False),
        ("noreply@163.com", False, True),
        ("no.reply@163.com", False, True),
        ("system-noreply-notice@x.cn", False, True),
        ("shifengyun@163.com", False, False),
        ("postmaster.liu@163.com", False, False),
        ("", False, False),
    ],
)
def test_sender_kinds(address: str, bounce: bool, noreply: bool) -> None:
    assert is_bounce_sender(address) is bounce
    assert is_noreply_sender(address) is noreply


@pytest.mark.parametrize(
    ("headers", "from_addr"),
    [
        ({}, STAFF),
        ({"Auto-Submitted": "no"}, STAFF),
        ({"X-Auto-Response-Suppress": "DR, RN, NRN"}, STAFF),
        ({"X-Auto-Response-Suppress": "OOF"}, STAFF),
        ({"Precedence": "normal"}, STAFF),
        ({"Return-Path": "<shifengyun@163.com>"}, STAFF),
    ],
)
def test_may_answer_submissions(headers: dict[str, str], from_addr: str) -> None:
    assert may_auto_answer(MailKind.SUBMISSION, headers, from_addr, OWN)


@pytest.mark.parametrize(
    ("headers", "from_addr"),
    [
        ({}, ""),
        ({}, "not-an-address"),
        ({}, "jzhbjfzk@163.com"),
        ({}, "Jzhbjfzk@163.com"),
        ({"X-Intake-Loop": "1"}, STAFF),
        ({}, "MAILER-DAEMON@163.com"),
        ({}, "noreply@163.com"),
        ({"Auto-Submitted": "auto-generated"}, STAFF),
        ({"Precedence": "bulk"}, STAFF),
        ({"Precedence": "auto_reply"}, STAFF),
        ({"List-Id": "<x.y>"}, STAFF),
        ({"X-Autoreply": "yes"}, STAFF),
        ({"Return-Path": "<>"}, STAFF),
        ({"X-Auto-Response-Suppress": "All"}, STAFF),
        ({"X-Auto-Response-Suppress": "DR, OOF, AutoReply"}, STAFF),
        ({"X-Auto-Response-Suppress": "Everything-please"}, STAFF),
    ],
)
def test_may_not_answer(headers: dict[str, str], from_addr: str) -> None:
    assert not may_auto_answer(MailKind.SUBMISSION, headers, from_addr, OWN)


@pytest.mark.parametrize("kind", [k for k in MailKind if k is not MailKind.SUBMISSION])
def test_never_answer_non_submissions(kind: MailKind) -> None:
    assert not may_auto_answer(kind, {}, STAFF, OWN)


def test_kind_values_are_the_database_values() -> None:
    assert [k.value for k in MailKind] == ["submission", "auto_reply", "bounce", "recall", "newsletter", "own"]
