"""The base64 decoder says when a part was damaged, and the parser puts it on the material."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import pytest

from bot.mime.parse import parse_message
from bot.mime.transfer import Base64Writer

FILE = "指标40-说明.pdf".encode()
DATA = b"%PDF-1.4\n" + bytes(range(256)) * 3 + b"\n%%EOF\n"  # 778 bytes: the encoding ends in "="


def decode(encoded: bytes, chunk: int = 7) -> tuple[bytes, str | None]:
    out = io.BytesIO()
    writer = Base64Writer(out)
    for start in range(0, len(encoded), chunk):
        writer.write(encoded[start : start + chunk])
    writer.finish()
    return out.getvalue(), writer.damage


@pytest.mark.parametrize(
    ("encoded", "damage"),
    [
        (base64.encodebytes(DATA), None),
        (base64.encodebytes(DATA).replace(b"\n", b"\r\n"), None),
        (base64.b64encode(DATA), None),
        (base64.encodebytes(DATA)[:-10], "base64-truncated"),  # cut inside a quantum
        (base64.encodebytes(DATA)[:403], "base64-truncated"),
        (base64.encodebytes(DATA).replace(b"A", b"*", 1), "base64-invalid"),
        (base64.encodebytes(DATA).replace(b"A", b"\xe4", 1), "base64-invalid"),
    ],
)
def test_base64_damage(encoded: bytes, damage: str | None) -> None:
    decoded, seen = decode(encoded)
    assert seen == damage
    if damage is None:
        assert decoded == DATA


def mail(body: bytes) -> bytes:
    return (
        b"From: zhidui@example.com\r\nTo: jzhbjfzk@163.com\r\nSubject: =?utf-8?B?"
        + base64.b64encode("指标40".encode())
        + b"?=\r\nMessage-ID: <d@example.com>\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b\r\n'
        b"Content-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n"
        b"Content-Disposition: attachment; filename*=utf-8''"
        + b"%E6%8C%87%E6%A0%8740-%E8%AF%B4%E6%98%8E.pdf"
        + b"\r\n\r\n"
        + body
        + b"\r\n--b--\r\n"
    )


def test_parser_sets_material_damage(tmp_path: Path) -> None:
    whole = parse_message(mail(base64.encodebytes(DATA)), tmp_path / "a")
    assert [(m.filename.text.encode(), m.damage) for m in whole.materials] == [(FILE, None)]
    cut = parse_message(mail(base64.encodebytes(DATA)[:-10]), tmp_path / "b")
    assert [(m.filename.text.encode(), m.damage) for m in cut.materials] == [(FILE, "base64-truncated")]
