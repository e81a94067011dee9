"""MailboxClient against a real Dovecot: session setup, read-only access, UIDs and batched fetching.

Big-mail streaming and broken connections are in test_imap_stream.py and test_imap_failures.py.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

import pytest

from bot.mailbox.imap import ImapAuthError, ImapError, ImapSettings, ImapTlsError, MailboxClient
from tests.fixtures.dovecot import DovecotMailbox
from tests.fixtures.tcpproxy import ProxyFactory, TcpProxy, tcp_proxy  # noqa: F401  (fixture)


def make_mail(n: int, body: str = "材料见附件。", subject: str | None = None) -> bytes:
    msg = EmailMessage()
    msg["From"] = "服务科 <fwk@example.cn>"
    msg["To"] = "jzhbjfzk@163.com"
    msg["Subject"] = subject or f"【指标{n}】依法行政材料"
    msg["Message-ID"] = f"<m{n}@example.cn>"
    msg.set_content(f"{body} #{n}\n")
    return msg.as_bytes(policy=SMTP)


def settings_for(box: DovecotMailbox, **overrides: object) -> ImapSettings:
    values: dict[str, object] = {
        "host": box.host,
        "port": box.port,
        "ssl": False,
        "username": box.username,
        "password": box.password,
        "connect_timeout": 5.0,
        "read_timeout": 10.0,
    }
    values.update(overrides)
    return ImapSettings(**values)  # type: ignore[arg-type]


def server_uidvalidity(box: DovecotMailbox, folder: str = "INBOX") -> int:
    with box.admin() as client:
        return int(client.select_folder(folder, readonly=True)[b"UIDVALIDITY"])


def test_plain_session_reports_uidvalidity(dovecot: DovecotMailbox) -> None:
    dovecot.append(make_mail(1))
    with MailboxClient(settings_for(dovecot)) as mailbox:
        assert mailbox.folder == "INBOX"
        assert mailbox.uidvalidity == server_uidvalidity(dovecot)
        assert mailbox.new_uids(0) == [1]


def test_id_is_sent_before_select(dovecot: DovecotMailbox, tcp_proxy: ProxyFactory) -> None:  # noqa: F811
    proxy: TcpProxy = tcp_proxy(dovecot.port)
    settings = settings_for(dovecot, port=proxy.port, support_email="coordinator@example.cn")
    with MailboxClient(settings):
        pass
    wire = bytes(proxy.client_transcript)
    id_at = wire.find(b" ID (")
    select_at = wire.find(b" EXAMINE ")
    assert 0 < id_at < select_at, wire
    assert b" SELECT " not in wire  # read-only: EXAMINE, never SELECT (RFC 3501 6.3.2)
    # Dovecot logs what it received (imap_id_log = *), under this test's user.
    lines = [line for line in dovecot.log_text().splitlines() if f"imap({dovecot.username})" in line]
    sent = [line for line in lines if "ID sent:" in line]
    assert sent, "\n".join(lines)
    assert re.search(r"ID sent: name=intake, version=\S+, vendor=intake, support-email=coordinator@", sent[0])


def test_tls_with_the_right_ca(dovecot: DovecotMailbox) -> None:
    dovecot.append(make_mail(1))
    settings = settings_for(dovecot, port=dovecot.tls_port, ssl=True, ca_file=dovecot.ca_file)
    with MailboxClient(settings) as mailbox:
        assert mailbox.new_uids(0) == [1]
        assert dict(mailbox.fetch_raw([1])) == {1: make_mail(1)}


@pytest.mark.parametrize("which", ["other CA", "system store"])
def test_tls_refuses_an_unverified_certificate(dovecot: DovecotMailbox, which: str) -> None:
    ca = dovecot.server.other_ca_file if which == "other CA" else None
    settings = settings_for(dovecot, port=dovecot.tls_port, ssl=True, ca_file=ca)
    with pytest.raises(ImapTlsError), MailboxClient(settings):
        pass


def test_missing_ca_file_is_reported(dovecot: DovecotMailbox, tmp_path: Path) -> None:
    settings = settings_for(dovecot, port=dovecot.tls_port, ssl=True, ca_file=tmp_path / "missing.pem")
    with pytest.raises(ImapError, match="cannot load CA file"), MailboxClient(settings):
        pass


def test_wrong_password_is_an_auth_error(dovecot: DovecotMailbox) -> None:
    settings = settings_for(dovecot, password="not-the-code")
    with pytest.raises(ImapAuthError) as caught, MailboxClient(settings):
        pass
    assert "AUTHENTICATIONFAILED" in caught.value.server_text
    assert "not-the-code" not in str(caught.value)
    assert "not-the-code" not in repr(settings)


def test_reading_never_marks_mail_seen(dovecot: DovecotMailbox) -> None:
    dovecot.append_many([make_mail(n) for n in range(1, 4)])
    with MailboxClient(settings_for(dovecot)) as mailbox:
        uids = mailbox.new_uids(0)
        infos = mailbox.sizes(uids, with_parts=True)
        assert len(list(mailbox.fetch_raw(uids))) == 3
        with open("/dev/null", "wb") as sink:
            mailbox.stream_message_to(uids[0], sink, chunk=100)
            mailbox.stream_part_to(uids[1], infos[uids[1]].parts[0].part, sink, chunk=100)
    flags = dovecot.flags()
    assert sorted(flags) == [1, 2, 3]
    assert all(b"\\Seen" not in f for f in flags.values()), flags


def test_new_uids_filters_the_n_star_quirk(dovecot: DovecotMailbox) -> None:
    dovecot.append_many([make_mail(n) for n in range(1, 4)])
    with dovecot.admin() as client:
        client.select_folder("INBOX", readonly=True)
        # RFC 3501: "4:*" still matches the highest UID (3); the client must filter.
        assert client.search(["UID", "4:*"]) == [3]
    with MailboxClient(settings_for(dovecot)) as mailbox:
        assert mailbox.new_uids(0) == [1, 2, 3]
        assert mailbox.new_uids(2) == [3]
        assert mailbox.new_uids(3) == []
        assert mailbox.new_uids(100) == []


def test_new_uids_in_an_empty_folder(dovecot: DovecotMailbox) -> None:
    with MailboxClient(settings_for(dovecot)) as mailbox:
        assert mailbox.new_uids(0) == []
        assert list(mailbox.fetch_raw([])) == []
        assert mailbox.sizes([]) == {}


def test_chunked_fetch_of_250_mails_in_uid_order(dovecot: DovecotMailbox, tcp_proxy: ProxyFactory) -> None:  # noqa: F811
    mails = [make_mail(n) for n in range(1, 251)]
    dovecot.append_many(mails)
    proxy: TcpProxy = tcp_proxy(dovecot.port)
    with MailboxClient(settings_for(dovecot, port=proxy.port, fetch_batch=100)) as mailbox:
        uids = mailbox.new_uids(0)
        got = list(mailbox.fetch_raw(uids))
    assert [uid for uid, _ in got] == list(range(1, 251))
    assert [raw for _, raw in got] == mails
    # Three whole-mail FETCH commands: 100 + 100 + 50 UIDs.
    assert bytes(proxy.client_transcript).count(b"BODY.PEEK[]") == 3


def test_fetch_respects_the_byte_budget(dovecot: DovecotMailbox, tcp_proxy: ProxyFactory) -> None:  # noqa: F811
    mails = [make_mail(n, body="x" * 20_000) for n in range(1, 11)]
    dovecot.append_many(mails)
    proxy: TcpProxy = tcp_proxy(dovecot.port)
    with MailboxClient(settings_for(dovecot, port=proxy.port, fetch_budget=50_000)) as mailbox:
        got = dict(mailbox.fetch_raw(range(1, 11)))
    assert got == dict(zip(range(1, 11), mails, strict=True))
    assert bytes(proxy.client_transcript).count(b"BODY.PEEK[]") == 5  # two ~20 KB mails per FETCH


def test_uid_expunged_between_search_and_fetch_is_skipped(dovecot: DovecotMailbox) -> None:
    mails = [make_mail(n) for n in range(1, 6)]
    dovecot.append_many(mails)
    with MailboxClient(settings_for(dovecot)) as mailbox:
        uids = mailbox.new_uids(0)
        dovecot.delete([3])  # another session (webmail) removes a mail meanwhile
        got = dict(mailbox.fetch_raw(uids))
        infos = mailbox.sizes(uids)
    assert sorted(got) == [1, 2, 4, 5]
    assert got[4] == mails[3]
    assert sorted(infos) == [1, 2, 4, 5]


def test_sizes_reads_bodystructure(dovecot: DovecotMailbox) -> None:
    inner = EmailMessage()
    inner["Subject"] = "转发的材料"
    inner.set_content("见附件")
    inner.add_attachment(b"%PDF-inner", maintype="application", subtype="pdf", filename="inner.pdf")
    msg = EmailMessage()
    msg["Subject"] = "【指标3】材料"
    msg.set_content("正文")
    msg.add_attachment(b"%PDF-1.4 data" * 100, maintype="application", subtype="pdf", filename="依法行政.pdf")
    msg.add_attachment(inner)
    raw = msg.as_bytes(policy=SMTP)
    uid = dovecot.append(raw)
    with MailboxClient(settings_for(dovecot)) as mailbox:
        info = mailbox.sizes([uid], with_parts=True)[uid]
        plain = mailbox.sizes([uid])[uid]  # what a poll asks: size and date, no structure
    assert (plain.size, plain.internaldate, plain.parts) == (info.size, info.internaldate, ())
    assert info.uid == uid
    assert info.size == len(raw)
    assert info.internaldate is not None and info.internaldate.tzinfo == UTC
    parts = {p.part: p for p in info.parts}
    assert list(parts) == ["1", "2", "3", "3.1", "3.2"]
    assert parts["1"].content_type == "text/plain"
    assert parts["1"].params["charset"] == "utf-8"
    pdf = parts["2"]
    assert (pdf.content_type, pdf.encoding, pdf.disposition) == ("application/pdf", "base64", "attachment")
    assert pdf.filename is not None and "utf-8''" in pdf.filename  # RFC 2231, decoded by bot.mime.charsets
    assert pdf.is_attachment
    assert pdf.size > 1300
    assert parts["3"].content_type == "message/rfc822"
    assert parts["3.2"].filename == "inner.pdf"
    assert info.largest_part() is pdf


def test_chinese_folder_listed_and_selectable(dovecot: DovecotMailbox) -> None:
    dovecot.create_folder("垃圾邮件")
    dovecot.create_folder("已发送")
    dovecot.append(make_mail(7), folder="垃圾邮件")
    with MailboxClient(settings_for(dovecot)) as mailbox:
        names = {f.name for f in mailbox.list_folders()}
        assert {"INBOX", "垃圾邮件", "已发送"} <= names
        assert mailbox.new_uids(0) == []
        uidvalidity = mailbox.select("垃圾邮件")
        assert uidvalidity == server_uidvalidity(dovecot, "垃圾邮件")
        assert mailbox.folder == "垃圾邮件"
        assert dict(mailbox.fetch_raw(mailbox.new_uids(0))) == {1: make_mail(7)}


def test_mail_content_is_never_formatted_for_the_protocol_log(
    dovecot: DovecotMailbox, caplog: pytest.LogCaptureFixture
) -> None:
    # imapclient turns imaplib's protocol trace on and routes it to a logger: at that level imaplib
    # builds the repr of every mail it reads (several times its size) for a line the logger then
    # drops, which cost most of a backlog's download. With every logger at DEBUG, no line carries a
    # mail's content or the password, and the trace of commands is not formatted at all.
    marker = "evidence-body-7f3a9c"
    dovecot.append_many([make_mail(1, body=f"材料正文 {marker}\n" * 200)])
    with caplog.at_level(logging.DEBUG), MailboxClient(settings_for(dovecot)) as mailbox:
        got = dict(mailbox.fetch_raw([1]))
    assert got[1].count(marker.encode()) == 200
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert marker not in logged
    assert dovecot.password not in logged
    assert not [r for r in caplog.records if r.name == "imapclient.imaplib"]
