"""Hostile documents that are small when mailed and huge when opened: what issue 11 measured.

- ``docx_bomb``: a valid .docx whose ``word/document.xml`` is ``xml_mib`` MiB of repeated paragraphs;
  deflate packs it about 1000:1 (a 190 KB file holds some 190 MiB of XML, which python-docx turns
  into gigabytes of objects);
- ``docx_many_members``: a .docx with tens of thousands of tiny members (the central directory alone
  costs memory);
- ``pdf_bomb``: a valid PDF whose one page has a FlateDecode content stream of ``stream_mib`` MiB of
  text operators (pypdf parses every operator into Python objects);
- ``pdf_pages``: a PDF with many empty pages (the page limit).

Each is built in memory from a real document made by ``tests.support.docs`` so that everything but the
bomb is ordinary.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from pathlib import Path

from tests.support.docs import make_docx

_PARAGRAPH = "<w:p><w:r><w:t>本部门认真落实涉企收费清理工作</w:t></w:r></w:p>".encode()
_MIB = 1 << 20


def _rezip(source: bytes, replace: dict[str, bytes], extra: dict[str, bytes] | None = None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(source)) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = replace.get(info.filename, zin.read(info))
            zout.writestr(info.filename, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
        for name, data in (extra or {}).items():
            zout.writestr(name, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    return out.getvalue()


def _plain_docx(tmp: Path) -> bytes:
    return make_docx(tmp / "plain.docx", ["情况说明", "正文"]).read_bytes()


def docx_bomb(tmp: Path, xml_mib: int) -> bytes:
    """A .docx whose document.xml inflates to about ``xml_mib`` MiB."""
    count = xml_mib * _MIB // len(_PARAGRAPH)
    head = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
    )
    body = head + _PARAGRAPH * count + b"</w:body></w:document>"
    return _rezip(_plain_docx(tmp), {"word/document.xml": body})


def docx_many_members(tmp: Path, members: int) -> bytes:
    """A .docx with ``members`` extra one-byte members."""
    return _rezip(_plain_docx(tmp), {}, {f"customXml/bomb{n}.xml": b"x" for n in range(members)})


def _pdf(objects: list[bytes], root: int) -> bytes:
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, root, xref)
    return bytes(out)


def pdf_bomb(stream_mib: int, pages: int = 1) -> bytes:
    """A PDF whose ``pages`` pages all show one content stream that inflates to about ``stream_mib`` MiB
    of text operators (one stream in the file, parsed again for every page)."""
    ops = b"BT /F1 12 Tf 50 800 Td (abcdefgh) Tj ET\n"
    raw = ops * (stream_mib * _MIB // len(ops))
    packed = zlib.compress(raw, 9)
    first_page = 5
    kids = b" ".join(b"%d 0 R" % (first_page + n) for n in range(pages))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, pages),
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(packed) + packed + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    objects += [
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >>"
        b" /Contents 3 0 R >>"
    ] * pages
    return _pdf(objects, 1)


def pdf_pages(pages: int) -> bytes:
    """A PDF of ``pages`` empty pages."""
    kids = b" ".join(b"%d 0 R" % (3 + n) for n in range(pages))
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, pages)]
    objects += [b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"] * pages
    return _pdf(objects, 1)
