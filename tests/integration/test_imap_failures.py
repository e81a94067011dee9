"""Broken connections against a real Dovecot: a link cut mid-FETCH or a silent peer must end in
ImapConnectionError within the configured timeouts, never in a hang or a half-read mail."""

from __future__ import annotations

import imaplib
import io
import socket
import time
from email.message import EmailMessage
from email.policy import SMTP

import pytest

from bot.mailbox.imap import (
    ImapAuthError,
    ImapConnectionError,
    ImapError,
    ImapSettings,
    ImapUnsafeLoginError,
    MailboxClient,
)
from tests.fixtures.dovecot import DovecotMailbox
from tests.fixtures.tcpproxy import ProxyFactory, TcpProxy, tcp_proxy  # noqa: F401  (fixture)
from tests.integration.test_imap import settings_for


def two_mib_mail() -> bytes:
    msg = EmailMessage()
    msg["Subject"] = "big"
    msg.set_content("x")
    msg.add_attachment(b"\x00\x01" * 1024 * 1024, maintype="application", subtype="octet-stream")
    return msg.as_bytes(policy=SMTP)


@pytest.mark.timeout(60)
def test_cut_mid_fetch_raises_connection_error(dovecot: DovecotMailbox, tcp_proxy: ProxyFactory) -> None:  # noqa: F811
    dovecot.append_many([two_mib_mail(), two_mib_mail()])
    proxy: TcpProxy = tcp_proxy(dovecot.port)
    mailbox = MailboxClient(settings_for(dovecot, port=proxy.port, read_timeout=10.0))
    mailbox.connect()
    uids = mailbox.new_uids(0)
    proxy.cut_after(300_000)  # well inside the first mail's literal
    started = time.monotonic()
    with pytest.raises(ImapConnectionError):
        list(mailbox.fetch_raw(uids))
    assert time.monotonic() - started < 8  # an EOF, not a timeout
    assert proxy.connections == 1
    # The session is gone: later calls fail the same way, and closing is quiet.
    with pytest.raises(ImapConnectionError):
        mailbox.new_uids(0)
    mailbox.close()
    # A new session (the next poll) works again.
    proxy.heal()
    with MailboxClient(settings_for(dovecot, port=proxy.port)) as again:
        assert again.new_uids(0) == uids
    assert proxy.connections == 2


@pytest.mark.timeout(60)
def test_cut_mid_stream_raises_connection_error(dovecot: DovecotMailbox, tcp_proxy: ProxyFactory) -> None:  # noqa: F811
    uid = dovecot.append(two_mib_mail())
    proxy: TcpProxy = tcp_proxy(dovecot.port)
    with MailboxClient(settings_for(dovecot, port=proxy.port)) as mailbox:
        proxy.cut_after(700_000)
        with pytest.raises(ImapConnectionError):
            mailbox.stream_message_to(uid, io.BytesIO(), chunk=256 * 1024)


@pytest.mark.timeout(60)
def test_silent_server_times_out(dovecot: DovecotMailbox, tcp_proxy: ProxyFactory) -> None:  # noqa: F811
    uid = dovecot.append(two_mib_mail())
    proxy: TcpProxy = tcp_proxy(dovecot.port)
    with MailboxClient(settings_for(dovecot, port=proxy.port, read_timeout=2.0)) as mailbox:
        proxy.stall_after(100_000)
        started = time.monotonic()
        with pytest.raises(ImapConnectionError):
            dict(mailbox.fetch_raw([uid]))
        assert time.monotonic() - started < 10


@pytest.mark.timeout(30)
def test_refused_connection(dovecot: DovecotMailbox) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free_port = s.getsockname()[1]
    with pytest.raises(ImapConnectionError), MailboxClient(settings_for(dovecot, port=free_port)):
        pass


def test_errors_share_one_base(dovecot: DovecotMailbox) -> None:
    with MailboxClient(settings_for(dovecot)) as mailbox, pytest.raises(ImapError):
        mailbox.select("no such folder")


# 163's refusals cannot be provoked on Dovecot, so the mapping of their server texts is checked on the
# translation step alone (no IMAP is imitated: the texts are what imaplib raises with).
@pytest.mark.parametrize(
    ("server_text", "expected"),
    [
        ("select failed: SELECT Unsafe Login. Please contact kefu@188.com for help", ImapUnsafeLoginError),
        ("b'[AUTHENTICATIONFAILED] Authentication failed.'", ImapAuthError),
        ("LOGIN failed: 535 Error: authentication failed", ImapAuthError),
        ("b'[UNAVAILABLE] Temporary authentication failure.'", ImapConnectionError),
        ("fetch failed: BAD Error in IMAP command", ImapError),
    ],
)
def test_server_refusals_map_to_error_classes(server_text: str, expected: type[ImapError]) -> None:
    mailbox = MailboxClient(ImapSettings(host="imap.163.com", username="jzhbjfzk@163.com", password="secret"))
    with pytest.raises(ImapError) as caught, mailbox._guard("select"):
        raise imaplib.IMAP4.error(server_text)
    assert type(caught.value) is expected
    assert caught.value.server_text == server_text
    assert "secret" not in str(caught.value)
