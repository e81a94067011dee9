"""Read the text of a .docx, .pdf or .txt in this process, within declared limits (``ExtractLimits``).

Only ``bot.mime.textextract``'s child process calls ``read_text`` on received files: these readers
parse hostile input with third-party libraries, so the memory and time they may take is capped by
the process they run in, and the checks here stop the known bombs before any parsing starts:

- .docx (python-docx): the package's central directory first (member count, inflated size as
  declared, inflated size of the XML parts python-docx parses, compression ratio); zipfile never
  reads a member past its declared size, so the declared sizes bound what can come out. Then body
  paragraphs and table cells (a merged cell once), as WPS/Word count them; headers, footers,
  footnotes and text boxes are left out (Word's default 字数 leaves them out too).
- .pdf (pypdf): the page count, then the text layer of every page. A scanned PDF has none.
- .txt: UTF-8 (with or without BOM), UTF-16 with BOM, else GB18030 (covers GB2312/GBK).

Failures are exceptions with a Chinese reason: ``Unreadable`` (damaged, encrypted, scanned, wrong
format) or ``OverLimit`` (the file is bigger, deeper or slower than a limit allows).
"""

from __future__ import annotations

import logging
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

MIB = 1 << 20

# Stable codes of the limits a file can go over (``OverLimit.limit``, ``Extracted.limit``).
SIZE = "size"
MEMBERS = "members"
INFLATED = "inflated"
XML = "xml"
RATIO = "ratio"
PAGES = "pages"
MEMORY = "memory"
TIME = "time"
KILLED = "killed"


@dataclass(frozen=True)
class ExtractLimits:
    """What reading one document may cost. The package limits are far above any real 情况说明
    (a 300-page Word report has a few MiB of XML) and far below what a bomb declares."""

    max_file_bytes: int = 64 * MIB
    max_members: int = 2000  # parts of a zip-based document (a .docx has 10-50, plus images)
    max_inflated_bytes: int = 256 * MIB  # all parts together, as declared
    max_xml_bytes: int = 24 * MIB  # the XML parts python-docx parses into objects
    max_ratio: float = 250.0  # inflated / compressed, for parts above ratio_floor_bytes (as for zips)
    ratio_floor_bytes: int = 1 * MIB
    max_pdf_pages: int = 300
    memory_bytes: int = 768 * MIB  # address space of the reading process (RLIMIT_AS)
    cpu_seconds: int = 20  # CPU time of the reading process (RLIMIT_CPU)
    wall_seconds: float = 30.0  # the reading process is killed after this


DEFAULT_LIMITS = ExtractLimits()


class Unreadable(Exception):
    """The text cannot be read (``reason`` in Chinese)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class OverLimit(Exception):
    """The file goes over a limit (``limit`` is one of the codes above; ``reason`` in Chinese)."""

    def __init__(self, limit: str, reason: str) -> None:
        super().__init__(reason)
        self.limit = limit
        self.reason = reason


def _mib(n: float) -> str:
    return f"{n / MIB:.0f} MB"


def check_package(path: Path, limits: ExtractLimits) -> None:
    """Refuse a zip-based document (docx, xlsx, pptx, odt ...) whose central directory declares more
    than the limits allow. Cheap: only the directory is read."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise Unreadable("文件已损坏，不是有效的 Office 文档") from exc
    if len(infos) > limits.max_members:
        raise OverLimit(MEMBERS, f"文件内部有 {len(infos)} 个部件，超过 {limits.max_members} 个的处理上限")
    inflated = sum(i.file_size for i in infos)
    if inflated > limits.max_inflated_bytes:
        raise OverLimit(INFLATED, f"文件解压后约 {_mib(inflated)}，超过 {_mib(limits.max_inflated_bytes)} 的处理上限")
    xml = sum(i.file_size for i in infos if i.filename.endswith((".xml", ".rels")))
    if xml > limits.max_xml_bytes:
        raise OverLimit(XML, f"文档正文解压后约 {_mib(xml)}，超过 {_mib(limits.max_xml_bytes)} 的处理上限")
    for info in infos:
        if info.file_size > limits.ratio_floor_bytes and info.file_size > limits.max_ratio * max(info.compress_size, 1):
            ratio = info.file_size / max(info.compress_size, 1)
            raise OverLimit(RATIO, f"文件压缩比异常（约 {ratio:.0f} 倍），疑似“压缩炸弹”")


def read_docx(path: Path, limits: ExtractLimits) -> str:
    import docx  # imported late: only the reading process needs it

    if not zipfile.is_zipfile(path):
        raise Unreadable("不是有效的 .docx 文件")
    check_package(path, limits)
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
    return "\n".join(parts)


def is_pdf(path: Path) -> bool:
    # Not a PDF at all (a renamed file, a broken download): pypdf would search the whole file
    # backwards for an end marker first, seconds for a few megabytes of garbage.
    with path.open("rb") as f:
        return b"%PDF-" in f.read(1024)


def read_pdf(path: Path, limits: ExtractLimits) -> str:
    from pypdf import PdfReader
    from pypdf.errors import LimitReachedError

    if not is_pdf(path):
        raise Unreadable("不是有效的 PDF 文件")
    # pypdf logs every repair it makes to a damaged file as a warning; they are not ours to show.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    reader = PdfReader(str(path))
    if reader.is_encrypted:
        try:
            if not reader.decrypt(""):
                raise Unreadable("PDF 已加密，无法读取文字")
        except Unreadable:
            raise
        except Exception as exc:  # pypdf raises several types for unsupported encryption
            raise Unreadable("PDF 已加密，无法读取文字") from exc
    pages = len(reader.pages)
    if pages > limits.max_pdf_pages:
        raise OverLimit(PAGES, f"PDF 共 {pages} 页，超过 {limits.max_pdf_pages} 页的处理上限")
    try:
        text = "\n".join(page.extract_text() or "" for page in reader.pages)
    except LimitReachedError as exc:  # pypdf's own cap on one decompressed stream
        raise OverLimit(INFLATED, "PDF 内容解压后超过处理上限，疑似“压缩炸弹”") from exc
    if not text.strip():
        raise Unreadable("PDF 没有文字层（可能是扫描件），无法统计字数，请人工核对篇幅")
    return text


def read_txt(path: Path, limits: ExtractLimits) -> str:
    data = path.read_bytes()
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        # GB18030 is a superset of GB2312 and GBK: what Chinese Windows Notepad writes as "ANSI".
        return data.decode("gb18030", errors="replace")


READERS: dict[str, Callable[[Path, ExtractLimits], str]] = {"docx": read_docx, "pdf": read_pdf, "txt": read_txt}
# Formats whose text no well-kept pure-Python reader on PyPI gets (textract and friends shell out to
# antiword/catdoc): said plainly rather than guessed.
UNSUPPORTED_DOCUMENTS = frozenset({"doc", "wps", "wpt", "dot", "rtf", "odt"})


def extension(filename: str) -> str:
    return filename.rpartition(".")[2].lower() if "." in filename else ""


def read_text(path: Path, filename: str, limits: ExtractLimits = DEFAULT_LIMITS) -> str:
    """The text of the file at ``path``, its format taken from ``filename``'s extension. Raises
    ``Unreadable`` or ``OverLimit``; a third-party reader's own exception means a damaged file."""
    ext = extension(filename)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise Unreadable(f"无法读取文件：{exc.strerror}") from exc
    if size > limits.max_file_bytes:
        raise OverLimit(SIZE, f"文件 {_mib(size)}，超过 {_mib(limits.max_file_bytes)} 的处理上限")
    reader = READERS.get(ext)
    if reader is None:
        if ext in UNSUPPORTED_DOCUMENTS:
            raise Unreadable(f".{ext} 格式暂不能自动统计字数，请人工核对篇幅")
        raise Unreadable(f"不支持的文件格式（.{ext or '无扩展名'}）")
    try:
        return reader(path, limits)
    except (Unreadable, OverLimit, MemoryError):
        raise
    except Exception as exc:  # third-party readers raise anything on damaged files
        raise Unreadable(f"文件无法打开或已损坏（{type(exc).__name__}）") from exc
