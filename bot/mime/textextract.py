"""Text of a received document, for counting 字 and reading its title: .docx, .pdf, .txt.

- .docx (python-docx): body paragraphs, then table cells (a merged cell once), as WPS/Word count
  them; headers, footers, footnotes and text boxes are left out (Word's default 字数 leaves out
  text boxes, footnotes and endnotes unless asked).
- .pdf (pypdf): the text layer of every page. A scanned PDF has none: "unable to count".
- .txt: UTF-8 (with or without BOM), UTF-16 with BOM, else GB18030 (covers GB2312/GBK).
- .doc / .wps (the binary Word 97 / WPS formats) and everything else: no well-kept pure-Python
  reader exists on PyPI (textract and friends shell out to antiword/catdoc), so these are reported
  as "unable to count" rather than guessed.

Never raises for a bad file: a damaged or encrypted document is "unable to count" with the reason.
"""

from __future__ import annotations

import logging
import zipfile
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

MAX_BYTES = 64 * 1024 * 1024  # larger "documents" are not a 情况说明; do not spend memory on them
MAX_PDF_PAGES = 200


@dataclass(frozen=True)
class Extracted:
    text: str | None  # None: the text could not be read (``reason`` says why)
    reason: str = ""  # Chinese, for the coordinator, when text is None

    @property
    def ok(self) -> bool:
        return self.text is not None

    def head(self, lines: int = 5, chars: int = 200) -> str:
        """The first non-empty lines (the title and what follows), at most ``chars`` characters."""
        if not self.text:
            return ""
        found = [line.strip() for line in self.text.splitlines() if line.strip()][:lines]
        return "\n".join(found)[:chars]


def _unable(reason: str) -> Extracted:
    return Extracted(None, reason)


def extract_text(path: Path, filename: str) -> Extracted:
    """The text of the file at ``path``; its format is taken from ``filename``'s extension."""
    ext = filename.rpartition(".")[2].lower() if "." in filename else ""
    try:
        size = path.stat().st_size
    except OSError as exc:
        return _unable(f"无法读取文件：{exc.strerror}")
    if size > MAX_BYTES:
        return _unable("文件过大，未统计字数")
    reader = _READERS.get(ext)
    if reader is None:
        if ext in ("doc", "wps", "wpt", "dot", "rtf", "odt"):
            return _unable(f".{ext} 格式暂不能自动统计字数，请人工核对篇幅")
        return _unable(f"不支持的文件格式（.{ext or '无扩展名'}）")
    try:
        return reader(path)
    except Exception as exc:  # third-party readers raise anything on damaged files
        log.info("cannot read %s: %r", filename, exc)
        return _unable(f"文件无法打开或已损坏（{type(exc).__name__}）")


def _docx(path: Path) -> Extracted:
    import docx  # imported late: only validation needs it

    if not zipfile.is_zipfile(path):
        return _unable("不是有效的 .docx 文件")
    document = docx.Document(str(path))
    parts = [p.text for p in document.paragraphs]
    seen: set[int] = set()

    def walk_tables(tables: list[object]) -> None:
        for table in tables:
            for row in table.rows:  # type: ignore[attr-defined]
                for cell in row.cells:
                    # A merged cell is returned once per grid position it spans: count it once.
                    if id(cell._tc) in seen:
                        continue
                    seen.add(id(cell._tc))
                    parts.extend(p.text for p in cell.paragraphs)
                    walk_tables(list(cell.tables))

    walk_tables(list(document.tables))
    return Extracted("\n".join(parts))


def _pdf(path: Path) -> Extracted:
    from pypdf import PdfReader

    # Not a PDF at all (a renamed file, a broken download): say so at once. pypdf would search the
    # whole file backwards for an end marker first, seconds for a few megabytes of garbage.
    with path.open("rb") as f:
        if b"%PDF-" not in f.read(1024):
            return _unable("不是有效的 PDF 文件")
    # pypdf logs every repair it makes to a damaged file as a warning; they are not ours to show.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    reader = PdfReader(str(path))
    if reader.is_encrypted:
        try:
            if not reader.decrypt(""):
                return _unable("PDF 已加密，无法读取文字")
        except Exception:  # pypdf raises several types for unsupported encryption
            return _unable("PDF 已加密，无法读取文字")
    if len(reader.pages) > MAX_PDF_PAGES:
        return _unable(f"PDF 超过 {MAX_PDF_PAGES} 页，未统计字数")
    text = "\n".join(page.extract_text() or "" for page in reader.pages)
    if not text.strip():
        return _unable("PDF 没有文字层（可能是扫描件），无法统计字数，请人工核对篇幅")
    return Extracted(text)


def _txt(path: Path) -> Extracted:
    data = path.read_bytes()
    if data.startswith(b"\xef\xbb\xbf"):
        return Extracted(data[3:].decode("utf-8", errors="replace"))
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return Extracted(data.decode("utf-16", errors="replace"))
    try:
        return Extracted(data.decode("utf-8"))
    except UnicodeDecodeError:
        # GB18030 is a superset of GB2312 and GBK: what Chinese Windows Notepad writes as "ANSI".
        return Extracted(data.decode("gb18030", errors="replace"))


_READERS = {"docx": _docx, "pdf": _pdf, "txt": _txt}
