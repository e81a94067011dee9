"""Big base64 bodies bypass the feed parser without changing what is parsed."""

from __future__ import annotations

import hashlib
import os
import quopri
import tracemalloc
from email.message import EmailMessage
from pathlib import Path

import pytest

from bot.mime.bigparts import RUN_THRESHOLD, Diverter
from bot.mime.parse import parse_message, parse_message_file


def mail_with(attachments: list[tuple[str, bytes]], body: str = "见附件") -> bytes:
    msg = EmailMessage()
    msg["From"] = "支队 <zhidui@example.com>"
    msg["To"] = "jzhbjfzk@163.com"
    msg["Subject"] = "指标12材料"
    msg["Message-ID"] = "<big@example.com>"
    msg.set_content(body)
    for name, data in attachments:
        msg.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
    return msg.as_bytes()


def test_file_path_and_bytes_path_give_the_same_materials(tmp_path: Path) -> None:
    big = os.urandom(3 * RUN_THRESHOLD)
    raw = mail_with([("大文件.pdf", big), ("小.txt", b"small"), ("二号大文件.zip", os.urandom(2 * RUN_THRESHOLD))])
    eml = tmp_path / "m.eml"
    eml.write_bytes(raw)
    a = parse_message(raw, tmp_path / "a")
    b = parse_message_file(eml, tmp_path / "b")
    assert [(m.filename.text, m.sha256, m.size) for m in a.materials] == [
        (m.filename.text, m.sha256, m.size) for m in b.materials
    ]
    assert b.materials[0].sha256 == hashlib.sha256(big).hexdigest()
    assert b.subject.text == "指标12材料" and b.body_text.strip() == "见附件"
    leftovers = [p.name for p in (tmp_path / "b").iterdir() if p.name.startswith(".")]
    assert leftovers == []  # diverted runs and encoded temporaries are cleaned up


def test_a_long_quoted_printable_text_part_survives_diversion(tmp_path: Path) -> None:
    text = ("依法行政工作情况说明" * 40 + "\n") * 400  # QP lines of only [=0-9A-F]
    encoded = quopri.encodestring(text.encode("utf-8"))
    assert len(encoded) > RUN_THRESHOLD
    raw = (
        b"From: a@example.com\r\nSubject: qp\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: text/plain; charset="utf-8"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n'
        + encoded.replace(b"\n", b"\r\n")
    )
    eml = tmp_path / "qp.eml"
    eml.write_bytes(raw)
    assert parse_message_file(eml, tmp_path / "w").body_text == parse_message(raw, tmp_path / "v").body_text
    assert "依法行政工作情况说明" in parse_message_file(eml, tmp_path / "x").body_text


def test_marker_text_in_a_mail_is_not_taken_for_a_run(tmp_path: Path) -> None:
    d = Diverter(tmp_path)
    assert d.reassemble("INTAKERUN0000000000000000N0X\r\n") is None


@pytest.mark.slow
def test_memory_for_a_30_mb_attachment_stays_far_below_its_size(tmp_path: Path) -> None:
    size = 30 * 1024 * 1024
    eml = tmp_path / "big.eml"
    eml.write_bytes(mail_with([("30MB.bin", os.urandom(size))]))
    tracemalloc.start()
    try:
        mail = parse_message_file(eml, tmp_path / "w")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert mail.materials[0].size == size
    assert peak < size / 4, f"peak {peak / 2**20:.1f} MiB for a {size / 2**20:.0f} MiB attachment"


@pytest.mark.parametrize("after", [b"", b"!!junk after the data\xe4\xb8\xad\r\n", b"\r\n\r\n"])
def test_a_run_with_text_around_it_decodes_the_same_from_memory_and_from_a_file(tmp_path: Path, after: bytes) -> None:
    """Issue 16: a mail in memory keeps its runs as views; a body that is a run with other lines
    before or after it (junk, 8-bit bytes, blank lines) is put together in memory, and must decode
    as the file path decodes it."""
    import base64

    data = os.urandom(40 * 1024)
    lines = base64.encodebytes(data).replace(b"\n", b"\r\n")
    raw = (
        b"From: a@example.com\r\nSubject: x\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n'
        b'--b\r\nContent-Type: application/pdf; name="a.pdf"\r\nContent-Disposition: attachment; filename="a.pdf"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\n" + b"%%before\r\n" + lines + after + b"--b--\r\n"
    )
    eml = tmp_path / "m.eml"
    eml.write_bytes(raw)
    a = parse_message(raw, tmp_path / "a")
    b = parse_message_file(eml, tmp_path / "b")
    assert [(m.sha256, m.size, m.damage) for m in a.materials] == [(m.sha256, m.size, m.damage) for m in b.materials]
    assert len(a.materials) == 1
    assert [p.name for p in (tmp_path / "a").iterdir() if p.name.startswith(".")] == []
