"""Streaming big mails and big parts to disk against a real Dovecot: exact bytes, bounded memory."""

from __future__ import annotations

import hashlib
import io
import os
import tracemalloc
from email.message import EmailMessage
from email.policy import SMTP

import pytest

from bot.mailbox.imap import ImapMessageGoneError, MailboxClient
from bot.mime.transfer import Base64Writer, QuotedPrintableWriter
from tests.fixtures.dovecot import DovecotMailbox
from tests.integration.test_imap import settings_for

MIB = 1024 * 1024


class HashingSink(io.RawIOBase):
    """A destination that keeps only a digest, so the test itself holds nothing big."""

    def __init__(self) -> None:
        self.digest = hashlib.sha256()
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self.digest.update(data)
        self.size += len(data)
        return len(data)


@pytest.fixture
def big_mail(dovecot: DovecotMailbox) -> tuple[int, bytes, bytes]:
    """A ~30 MB mail: a text part and a 22 MiB random attachment (base64 adds a third)."""
    payload = os.urandom(22 * MIB)
    msg = EmailMessage()
    msg["Subject"] = "【指标9】超大材料"
    msg["Message-ID"] = "<big@example.cn>"
    msg.set_content("材料见附件。")
    msg.add_attachment(payload, maintype="application", subtype="zip", filename="材料.zip")
    raw = msg.as_bytes(policy=SMTP)
    uid = dovecot.append(raw)
    return uid, raw, payload


@pytest.mark.slow
def test_streaming_a_30_mb_mail_is_exact_and_memory_bounded(
    dovecot: DovecotMailbox, big_mail: tuple[int, bytes, bytes]
) -> None:
    uid, raw, payload = big_mail
    assert len(raw) > 29 * MIB
    expected_raw = hashlib.sha256(raw).hexdigest()
    expected_payload = hashlib.sha256(payload).hexdigest()
    size = len(raw)
    del raw, payload  # measure only what the client holds

    with MailboxClient(settings_for(dovecot, read_timeout=60.0)) as mailbox:
        info = mailbox.sizes([uid], with_parts=True)[uid]
        assert info.size == size
        attachment = info.largest_part()
        assert attachment is not None and attachment.part == "2"

        sink = HashingSink()
        tracemalloc.start()
        try:
            written = mailbox.stream_message_to(uid, sink, chunk=MIB)
            _, peak_message = tracemalloc.get_traced_memory()
            tracemalloc.reset_peak()
            part_sink = HashingSink()
            decoded = mailbox.stream_part_to(uid, "2", part_sink, chunk=MIB, transfer_encoding="base64")
            _, peak_part = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()

    assert written == size == sink.size
    assert sink.digest.hexdigest() == expected_raw
    assert decoded == 22 * MIB == part_sink.size
    assert part_sink.digest.hexdigest() == expected_payload
    # Memory, not time: a few chunks at most, never the mail.
    print(f"30 MB mail: peak {peak_message / MIB:.1f} MiB whole, {peak_part / MIB:.1f} MiB part")
    assert peak_message < size / 4, peak_message
    assert peak_part < size / 4, peak_part


def test_stream_part_undecoded_and_quoted_printable(dovecot: DovecotMailbox) -> None:
    text = ("依法行政示范单位创建材料第一页。=\n" * 3000).encode("utf-8")
    msg = EmailMessage()
    msg["Subject"] = "qp"
    msg.set_content("正文")
    msg.add_attachment(text, maintype="text", subtype="plain", cte="quoted-printable", filename="a.txt")
    uid = dovecot.append(msg.as_bytes(policy=SMTP))
    with MailboxClient(settings_for(dovecot)) as mailbox:
        info = mailbox.sizes([uid], with_parts=True)[uid]
        part = next(p for p in info.parts if p.filename == "a.txt")
        assert part.encoding == "quoted-printable"
        encoded, decoded = io.BytesIO(), io.BytesIO()
        n_raw = mailbox.stream_part_to(uid, part.part, encoded, chunk=4096)
        mailbox.stream_part_to(uid, part.part, decoded, chunk=4093, transfer_encoding=part.encoding)
    assert n_raw == part.size == len(encoded.getvalue())
    assert decoded.getvalue().replace(b"\r\n", b"\n") == text


def test_streaming_an_expunged_uid_raises(dovecot: DovecotMailbox) -> None:
    uid = dovecot.append(b"Subject: x\r\n\r\ny\r\n")
    with MailboxClient(settings_for(dovecot)) as mailbox:
        dovecot.delete([uid])
        with pytest.raises(ImapMessageGoneError):
            mailbox.stream_message_to(uid, io.BytesIO())
        with pytest.raises(ValueError):
            mailbox.stream_part_to(uid, "1]<0.1> BODY[", io.BytesIO())


@pytest.mark.parametrize("chunk", [1, 3, 5, 77, 4096])
def test_base64_writer_across_any_chunk_edge(chunk: int) -> None:
    import base64

    data = os.urandom(10_001)
    encoded = base64.encodebytes(data)  # 76-column lines with line breaks to skip
    out = io.BytesIO()
    writer = Base64Writer(out)
    for start in range(0, len(encoded), chunk):
        writer.write(encoded[start : start + chunk])
    writer.finish()
    assert out.getvalue() == data
    assert writer.written == len(data)


@pytest.mark.parametrize("chunk", [1, 2, 3, 50])
def test_quoted_printable_writer_across_any_chunk_edge(chunk: int) -> None:
    import quopri

    data = "材料=第一页\n".encode() * 50 + b"tail without newline"
    encoded = quopri.encodestring(data)
    out = io.BytesIO()
    writer = QuotedPrintableWriter(out)
    for start in range(0, len(encoded), chunk):
        writer.write(encoded[start : start + chunk])
    writer.finish()
    assert out.getvalue() == data


def test_base64_writer_survives_padding_in_the_middle() -> None:
    import base64
    import io

    from bot.mime.transfer import Base64Writer

    # Damaged input has no right answer; the writer must not raise half-way (binascii.Error), must
    # stop where the padding ends the data (as binascii and mail clients do) and say it was damaged.
    first, second = b"glued", b"bodies\xff"
    encoded = base64.b64encode(first) + b"\r\n" + base64.b64encode(second)
    assert b"=" in encoded[:-2]  # padding inside the body
    out = io.BytesIO()
    writer = Base64Writer(out)
    for i in range(0, len(encoded), 3):  # chunk edges anywhere
        writer.write(encoded[i : i + 3])
    writer.finish()
    assert out.getvalue() == first
    assert writer.damage == "base64-invalid"
