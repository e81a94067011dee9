"""bot.outgoing.smtp against a real SMTP server (aiosmtpd on 127.0.0.1): TLS, AUTH, headers, error classes."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage

import pytest

from bot.outgoing.messages import LOOP_HEADER, build_message, make_message_id
from bot.outgoing.render import render, subject_for
from bot.outgoing.smtp import (
    SmtpAuthError,
    SmtpPermanentError,
    SmtpSender,
    SmtpSettings,
    SmtpTemporaryError,
)
from tests.fixtures.smtpd import SmtpServer
from tests.golden import samples

ACCOUNT = "jzhbjfzk@163.com"
NOW = datetime(2025, 6, 20, 10, 16, tzinfo=timezone(timedelta(hours=8)))


def settings_for(server: SmtpServer, **overrides: object) -> SmtpSettings:
    values: dict[str, object] = {
        "host": server.host,
        "port": server.port,
        "ssl": server.ssl,
        "from_addr": ACCOUNT,
        "username": server.username,
        "password": server.password,
        "ca_file": server.ca_file,
        "timeout": 10.0,
        "require_tls": server.ssl or server.starttls,
    }
    values.update(overrides)
    return SmtpSettings(**values)  # type: ignore[arg-type]


def receipt_message(key: str = "receipt:<orig-1@jzhb.gov.cn>", to: str = "wangli@jzhb.gov.cn") -> EmailMessage:
    context = samples.receipt()
    text, html = render("receipt", context)
    return build_message(
        "receipt",
        [to],
        subject_for("receipt", context),
        text,
        html,
        from_addr=ACCOUNT,
        from_name="法规科报送邮箱",
        message_id=make_message_id(key, "163.com"),
        date=NOW,
        auto_submitted="auto-replied",
        in_reply_to="<orig-1@jzhb.gov.cn>",
        references=("<root@jzhb.gov.cn>",),
    )


def test_receipt_arrives_with_loop_headers_threading_and_encoded_chinese(smtpd_tls: SmtpServer) -> None:
    msg = receipt_message()
    with SmtpSender(settings_for(smtpd_tls)) as sender:
        sender.send(msg)

    [got] = smtpd_tls.messages
    assert got.mail_from == ACCOUNT
    assert got.rcpt_tos == ("wangli@jzhb.gov.cn",)
    assert got.peer_user == ACCOUNT
    raw_headers = got.data.split(b"\r\n\r\n", 1)[0]
    assert raw_headers.isascii()  # Chinese only as RFC 2047 encoded-words
    assert b"=?utf-8?" in raw_headers.lower()
    received = got.message
    assert received["Subject"] == "回执：指标12-大气环境科-依法行政工作计划"
    assert received["From"].addresses[0].addr_spec == ACCOUNT
    assert received["From"].addresses[0].display_name == "法规科报送邮箱"
    assert received["Auto-Submitted"] == "auto-replied"
    assert received[LOOP_HEADER] == ACCOUNT
    assert received["In-Reply-To"] == "<orig-1@jzhb.gov.cn>"
    assert received["References"] == "<root@jzhb.gov.cn> <orig-1@jzhb.gov.cn>"
    assert received["Message-ID"] == make_message_id("receipt:<orig-1@jzhb.gov.cn>", "163.com")
    assert received.get_content_type() == "multipart/alternative"
    text_part = received.get_body(("plain",))
    html_part = received.get_body(("html",))
    assert text_part is not None and html_part is not None
    assert text_part.get_content_charset() == "utf-8"
    assert "涉密材料不通过邮件报送，实地核验时提供" in text_part.get_content()
    assert "<table" in html_part.get_content()


def test_starttls_is_used_when_offered(smtpd_starttls: SmtpServer) -> None:
    with SmtpSender(settings_for(smtpd_starttls, require_tls=True)) as sender:
        sender.send(receipt_message())
    assert len(smtpd_starttls.messages) == 1


def test_plain_server_without_starttls_is_refused_unless_allowed(smtpd: SmtpServer) -> None:
    with pytest.raises(SmtpPermanentError, match="STARTTLS"), SmtpSender(settings_for(smtpd, require_tls=True)):
        pass
    assert smtpd.messages == []
    with SmtpSender(settings_for(smtpd, require_tls=False)) as sender:
        sender.send(receipt_message())
    assert len(smtpd.messages) == 1


def test_untrusted_certificate_is_refused(smtpd_tls: SmtpServer) -> None:
    with pytest.raises(SmtpPermanentError, match="certificate"), SmtpSender(settings_for(smtpd_tls, ca_file=None)):
        pass
    assert smtpd_tls.messages == []


def test_wrong_password_is_an_auth_error_and_never_logged(
    smtpd_tls: SmtpServer, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "wrong-secret-code-4711"
    caplog.set_level(logging.DEBUG)
    settings = settings_for(smtpd_tls, password=secret)
    with pytest.raises(SmtpAuthError) as caught, SmtpSender(settings):
        pass
    assert caught.value.code == 535
    assert secret not in str(caught.value)
    assert secret not in caplog.text
    assert secret not in repr(settings)


def test_envelope_sender_must_equal_account(smtpd_tls: SmtpServer) -> None:
    with SmtpSender(settings_for(smtpd_tls, from_addr="other@163.com")) as sender, pytest.raises(
        SmtpPermanentError, match="553"
    ):
        sender.send(receipt_message())


def test_one_connection_carries_the_whole_batch(smtpd_tls: SmtpServer) -> None:
    with SmtpSender(settings_for(smtpd_tls)) as sender:
        for n in range(3):
            sender.send(receipt_message(f"receipt:{n}", to=f"user{n}@jzhb.gov.cn"))
    assert smtpd_tls.connections == 1
    assert [m.rcpt_tos for m in smtpd_tls.messages] == [(f"user{n}@jzhb.gov.cn",) for n in range(3)]


@pytest.mark.parametrize(
    ("code", "text", "stage"),
    [
        (451, "DT:SPM 163 smtp1,try again later", "DATA"),
        (451, "MI:SFQ 163 smtp1,sender frequency quota exceeded", "DATA"),
        (450, "MI:DMC 163 smtp1,too many mails on this connection", "DATA"),
        (451, "DT:SPM please try again", "RCPT"),
    ],
)
def test_4xx_is_temporary_and_the_connection_stays_usable(
    smtpd_tls: SmtpServer, code: int, text: str, stage: str
) -> None:
    smtpd_tls.fail_next(code, text, stage=stage)
    with SmtpSender(settings_for(smtpd_tls)) as sender:
        with pytest.raises(SmtpTemporaryError) as caught:
            sender.send(receipt_message("receipt:a"))
        assert caught.value.code == code
        assert not caught.value.connection_lost
        sender.send(receipt_message("receipt:b"))
    assert len(smtpd_tls.messages) == 1


@pytest.mark.parametrize(
    ("code", "text", "stage"),
    [
        (554, "DT:SPM 163 smtp1,content rejected as spam", "DATA"),
        (550, "User not found: nobody@jzhb.gov.cn", "RCPT"),
    ],
)
def test_5xx_is_permanent(smtpd_tls: SmtpServer, code: int, text: str, stage: str) -> None:
    smtpd_tls.fail_next(code, text, stage=stage)
    with SmtpSender(settings_for(smtpd_tls)) as sender, pytest.raises(SmtpPermanentError) as caught:
        sender.send(receipt_message())
    assert caught.value.code == code
    assert not isinstance(caught.value, SmtpAuthError)
    assert smtpd_tls.messages == []


def test_421_closes_the_connection(smtpd_tls: SmtpServer) -> None:
    smtpd_tls.fail_next(421, "HL:ITC 163 smtp1,too many connections from your IP", stage="DATA")
    with SmtpSender(settings_for(smtpd_tls)) as sender:
        with pytest.raises(SmtpTemporaryError) as caught:
            sender.send(receipt_message())
        assert caught.value.connection_lost
        assert not sender.connected


def test_dropped_connection_is_temporary_and_lost(smtpd_tls: SmtpServer) -> None:
    smtpd_tls.drop_next()
    with SmtpSender(settings_for(smtpd_tls)) as sender:
        with pytest.raises(SmtpTemporaryError) as caught:
            sender.send(receipt_message())
        assert caught.value.connection_lost
        assert not sender.connected
        with pytest.raises(SmtpTemporaryError):
            sender.send(receipt_message("receipt:next"))
    assert smtpd_tls.messages == []


def test_nothing_listening_is_a_temporary_connection_error(smtpd: SmtpServer) -> None:
    settings = settings_for(smtpd, port=1, require_tls=False)
    with pytest.raises(SmtpTemporaryError) as caught, SmtpSender(settings):
        pass
    assert caught.value.connection_lost
