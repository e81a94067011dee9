"""bot.mime.transfer: the streaming decoders, fed in chunks whose edges fall anywhere, and the damage
each reports (Material.damage)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import itertools
import os
import quopri

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.mime.transfer import (
    Base64Writer,
    QuotedPrintableWriter,
    RawWriter,
    UuencodeWriter,
    writer_for,
)

DATA = hashlib.sha256(b"seed").digest() * 40 + b"\x00\x00\xff"
CHUNKS = [1, 2, 3, 5, 7, 76, 77, 4096]


def decode(writer_class: type[RawWriter], encoded: bytes, chunk: int) -> RawWriter:
    writer = writer_class(io.BytesIO())
    for start in range(0, len(encoded), chunk):
        writer.write(encoded[start : start + chunk])
    writer.finish()
    return writer


def output(writer: RawWriter) -> bytes:
    dest = writer.dest
    assert isinstance(dest, io.BytesIO)
    return dest.getvalue()


def uuencoded(data: bytes, name: str = "a.bin", *, end: bool = True) -> bytes:
    lines = [f"begin 644 {name}".encode()]
    lines += [binascii.b2a_uu(data[i : i + 45]).rstrip(b"\n") for i in range(0, len(data), 45)]
    lines += [b"`", b"end"] if end else []
    return b"\r\n".join(lines) + b"\r\n"


B64 = base64.encodebytes(DATA)


@pytest.mark.parametrize(
    ("encoded", "data", "damage"),
    [
        (B64, DATA, None),
        (B64.replace(b"\n", b"\r\n"), DATA, None),
        (base64.b64encode(DATA), DATA, None),  # one long line
        (b"QUJD\r\nRA==\r\n", b"ABCD", None),
        (b"QUJD\r\nRA=\r\n=\r\n", b"ABCD", None),  # the two padding characters on two lines
        (b"QUI===\r\n", b"AB", None),  # surplus padding
        # the padding ends the data: a text epilogue after it is no damage ...
        (b"PGh0bWw+Cg==\r\n\r\n--b-->\r\nPotentially malicious content\r\n", b"<html>\n", None),
        # ... more encoded lines after it are (two bodies glued together)
        (b"QUJD\r\nRA==\r\nRUY=\r\n", b"ABCD", "base64-invalid"),
        (base64.b64encode(b"glued") + b"\r\n" + base64.b64encode(b"bodies\xff"), b"glued", "base64-invalid"),
        # characters outside the alphabet are skipped and reported
        (b"QU!JD\r\nRA==", b"ABCD", "base64-invalid"),
        (b"QUJD\xa1\xa1RA==", b"ABCD", "base64-invalid"),
        (b"QU=JD\r\nRA==", b"ABCD", "base64-invalid"),  # "=" inside a quantum is no padding
        # a cut mail: the last quantum is incomplete
        (b"QUJDRA", b"ABCD", "base64-truncated"),
        (b"QUJDR", b"ABC", "base64-truncated"),
        (b"QUJDRA=", b"ABCD", "base64-truncated"),  # one of the two padding characters
        (b"", b"", None),
    ],
)
@pytest.mark.parametrize("chunk", CHUNKS)
def test_base64(encoded: bytes, data: bytes, damage: str | None, chunk: int) -> None:
    writer = decode(Base64Writer, encoded, chunk)
    assert output(writer) == data
    assert writer.damage == damage
    assert writer.written == len(data)


QP_TEXT = "第一条：状态正常，数值=100%。\r\n".encode() * 30 + b"tail= "


@pytest.mark.parametrize(
    ("encoded", "data", "damage"),
    [
        (quopri.encodestring(QP_TEXT), QP_TEXT, None),
        (b"a=3Db=\r\nc\r\n", b"a=bc\r\n", None),  # soft line break
        (b"a=3db=  \r\nc", b"a=bc", None),  # lower-case hex, white space after a soft break
        (b"end=", b"end", None),  # soft break at the very end
        (b"x =ZZ y\r\n", b"x =ZZ y\r\n", "qp-invalid"),  # kept as sent, and reported
        (b"100%=\r\n=G1\r\n", b"100%=G1\r\n", "qp-invalid"),
    ],
)
@pytest.mark.parametrize("chunk", CHUNKS)
def test_quoted_printable(encoded: bytes, data: bytes, damage: str | None, chunk: int) -> None:
    writer = decode(QuotedPrintableWriter, encoded, chunk)
    assert output(writer) == data
    assert writer.damage == damage


@pytest.mark.parametrize(
    ("encoded", "data", "damage", "name"),
    [
        (uuencoded(DATA, "扫描件.zip"), DATA, None, "扫描件.zip".encode()),
        (b"Here is the file:\r\n\r\n" + uuencoded(DATA, "scan.png"), DATA, None, b"scan.png"),  # text before
        (uuencoded(DATA).replace(b"\r\n", b"\n"), DATA, None, b"a.bin"),
        (uuencoded(b""), b"", None, b"a.bin"),
        (uuencoded(DATA, end=False), DATA, "uuencode-truncated", b"a.bin"),
        # a line of junk inside the data
        (uuencoded(DATA).replace(b"`\r\nend", b"M!!!\xff\xff\r\n`\r\nend"), DATA, "uuencode-invalid", b"a.bin"),
        # no begin line at all: kept as sent
        (b"not uuencoded at all\r\n", b"not uuencoded at all\r\n", "uuencode-invalid", None),
        (b"", b"", "uuencode-invalid", None),
    ],
)
@pytest.mark.parametrize("chunk", CHUNKS)
def test_uuencode(encoded: bytes, data: bytes, damage: str | None, name: bytes | None, chunk: int) -> None:
    writer = decode(UuencodeWriter, encoded, chunk)
    assert output(writer) == data
    assert writer.damage == damage
    assert writer.filename == name


def test_uuencode_lines_padded_past_their_length() -> None:
    # Some encoders pad every line to the full width; the length character says how much is data.
    line = binascii.b2a_uu(b"abc").rstrip(b"\n") + b"!!!!"
    writer = decode(UuencodeWriter, b"begin 600 x\r\n" + line + b"\r\n`\r\nend\r\n", 5)
    assert (output(writer), writer.damage) == (b"abc", None)


def test_a_part_without_begin_is_passed_on_beyond_the_look_ahead() -> None:
    big = b"no begin line here\r\n" * 10_000  # more than the look-ahead kept in memory
    writer = decode(UuencodeWriter, big, 4096)
    assert output(writer) == big
    assert writer.damage == "uuencode-invalid"


@pytest.mark.parametrize(
    ("encoding", "kind"),
    [
        ("base64", Base64Writer),
        (" BASE64 ", Base64Writer),
        ("quoted-printable", QuotedPrintableWriter),
        ("x-uuencode", UuencodeWriter),
        ("uuencode", UuencodeWriter),
        ("x-uue", UuencodeWriter),
        ("7bit", RawWriter),
        ("8bit", RawWriter),
        ("binary", RawWriter),
        ("", RawWriter),
        (None, RawWriter),
        ("x-unknown", RawWriter),
    ],
)
def test_writer_for(encoding: str | None, kind: type[RawWriter]) -> None:
    assert type(writer_for(encoding, io.BytesIO())) is kind


@settings(max_examples=int(os.environ.get("INTAKE_HYPOTHESIS_EXAMPLES", 300)), deadline=None)
@given(
    data=st.binary(max_size=3000),
    width=st.integers(min_value=4, max_value=200),
    newline=st.sampled_from([b"\r\n", b"\n"]),
    cuts=st.lists(st.integers(min_value=0, max_value=5000), max_size=12),
)
def test_base64_of_any_data_wrapped_and_cut_anywhere_decodes_to_it(
    data: bytes, width: int, newline: bytes, cuts: list[int]
) -> None:
    # The SIMD decoder sees only whole quanta of alphabet characters; whatever the line width, the
    # line ends and where the chunks fall, the bytes are the ones encoded and nothing is reported.
    flat = base64.b64encode(data)
    encoded = newline.join(flat[i : i + width] for i in range(0, len(flat), width)) + newline
    writer = Base64Writer(io.BytesIO())
    edges = sorted({min(c, len(encoded)) for c in cuts} | {0, len(encoded)})
    for start, end in itertools.pairwise(edges):
        writer.write(encoded[start:end])
    writer.finish()
    assert output(writer) == data
    assert writer.damage is None
    assert writer.written == len(data)
