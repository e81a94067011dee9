"""Text extraction: the readers on generated .docx/.pdf/.txt of known content (in this process), and
``extract_text`` through its capped child process: limits on every bomb, caps on memory and time,
a child killed with SIGKILL, and a stop request."""

from __future__ import annotations

import os
import signal
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

from bot.mime.textextract import Extracted, ExtractionStopped, extract_text
from bot.mime.textreaders import DEFAULT_LIMITS, OverLimit, Unreadable, check_package, read_text
from rules.wordcount import count_words
from tests.support.bombs import docx_bomb, docx_many_members, pdf_bomb, pdf_pages
from tests.support.docs import cjk_text, make_docx, make_pdf

# -- the readers (in process) ---------------------------------------------------------------------


def test_docx_paragraphs_and_tables_merged_cells_once(tmp_path: Path) -> None:
    path = make_docx(
        tmp_path / "a.docx",
        ["关于涉企收费清理的情况说明", cjk_text(480)],
        [["清理事项汇总", "", ""], ["收费", "摊派", "评比"]],
        merge=True,
    )
    text = read_text(path, "情况说明.docx")
    assert text.splitlines()[0] == "关于涉企收费清理的情况说明"
    assert count_words(text) == 13 + 480 + 6 + 6


def test_pdf_text_layer_over_pages(tmp_path: Path) -> None:
    path = make_pdf(tmp_path / "a.pdf", [["普法工作情况说明", cjk_text(600)], ["2020年 共计 3 场", cjk_text(395)]])
    assert count_words(read_text(path, "普法.PDF")) == 8 + 600 + 6 + 395


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "gbk", "utf-16"])
def test_txt_in_the_encodings_people_save(tmp_path: Path, encoding: str) -> None:
    text = "情况说明\n本部门2020年以来清理涉企收费3项，喆、镕、堃均已核实。"
    path = tmp_path / "a.txt"
    path.write_bytes(text.encode(encoding))
    assert read_text(path, "a.txt") == text


# -- through the child process --------------------------------------------------------------------


def test_the_child_counts_and_reads_the_title(tmp_path: Path) -> None:
    path = make_docx(tmp_path / "a.docx", ["秘密★1年", "关于执法经费的情况说明", cjk_text(100)])
    got = extract_text(path, "情况说明.docx")
    head = "秘密★1年\n关于执法经费的情况说明\n" + cjk_text(100)
    assert got == Extracted(count_words(head), head[:200])


@pytest.mark.parametrize(
    ("filename", "content", "reason"),
    [
        ("a.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, ".doc 格式暂不能自动统计字数"),
        ("a.wps", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, ".wps 格式暂不能自动统计字数"),
        ("a.docx", b"not a zip", "不是有效的 .docx 文件"),
        ("a.docx", b"PK\x03\x04 but then garbage" * 10, "不是有效的 .docx 文件"),
        ("a.pdf", b"%PDF-1.4 garbage", "文件无法打开或已损坏"),
        ("renamed.pdf", bytes(range(256)) * 4000, "不是有效的 PDF 文件"),
        ("a.jpg", b"\xff\xd8\xff", "不支持的文件格式"),
    ],
)
def test_unreadable_files_say_why_instead_of_guessing(
    tmp_path: Path, filename: str, content: bytes, reason: str
) -> None:
    path = tmp_path / filename
    path.write_bytes(content)
    got = extract_text(path, filename)
    assert got.words is None and got.limit is None
    assert reason in got.reason


def test_scanned_pdf_without_text_layer(tmp_path: Path) -> None:
    path = make_pdf(tmp_path / "scan.pdf", [[]])
    got = extract_text(path, "scan.pdf")
    assert got.words is None and "扫描件" in got.reason


# -- limits, checked before any parsing -------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "limits", "limit", "reason"),
    [
        (lambda t: docx_bomb(t, 32), {}, "xml", "超过 24 MB 的处理上限"),
        (lambda t: docx_bomb(t, 8), {}, "ratio", "压缩比异常"),
        (lambda t: docx_many_members(t, 2500), {}, "members", "超过 2000 个"),
        (lambda t: docx_bomb(t, 8), {"max_ratio": 1e9, "max_inflated_bytes": 4 << 20}, "inflated", "解压后约"),
        (lambda t: pdf_pages(40), {"max_pdf_pages": 30}, "pages", "PDF 共 40 页，超过 30 页"),
        (lambda t: pdf_pages(3), {"max_file_bytes": 100}, "size", "超过 0 MB 的处理上限"),
    ],
)
def test_every_limit_is_named(tmp_path: Path, make, limits, limit: str, reason: str) -> None:  # type: ignore[no-untyped-def]
    name = "情况说明.pdf" if limit in ("pages", "size") else "情况说明.docx"
    path = tmp_path / name
    path.write_bytes(make(tmp_path))
    got = extract_text(path, name, replace(DEFAULT_LIMITS, **limits))
    assert (got.words, got.limit) == (None, limit)
    assert reason in got.reason


def test_zip_based_documents_are_judged_by_their_central_directory(tmp_path: Path) -> None:
    """The package check reads only the directory: instant, whatever the parts would inflate to."""
    path = tmp_path / "bomb.xlsx"
    path.write_bytes(docx_bomb(tmp_path, 64))
    started = time.process_time()
    with pytest.raises(OverLimit) as caught:
        check_package(path, DEFAULT_LIMITS)
    assert caught.value.limit == "xml"
    assert time.process_time() - started < 1.0  # CPU, not wall clock: no inflating happened
    path.write_bytes(b"PK\x05\x06" + b"\0" * 18)  # an empty zip is a damaged document, not a bomb
    check_package(path, DEFAULT_LIMITS)
    path.write_bytes(b"PK garbage")
    with pytest.raises(Unreadable):
        check_package(path, DEFAULT_LIMITS)


# -- caps on the child ----------------------------------------------------------------------------


def test_memory_cap(tmp_path: Path) -> None:
    path = tmp_path / "a.docx"
    path.write_bytes(docx_bomb(tmp_path, 16))  # some 215 MB to parse; declared limits lifted below
    limits = replace(DEFAULT_LIMITS, max_ratio=1e9, memory_bytes=160 << 20)
    got = extract_text(path, "情况说明.docx", limits)
    assert (got.words, got.limit) == (None, "memory")
    assert "内存超过 160 MB" in got.reason


def test_cpu_time_cap(tmp_path: Path) -> None:
    path = tmp_path / "a.pdf"
    path.write_bytes(pdf_bomb(4, 20))  # 16 KB that kept pypdf busy for over four minutes
    got = extract_text(path, "情况说明.pdf", replace(DEFAULT_LIMITS, cpu_seconds=1))
    assert (got.words, got.limit) == (None, "time")
    assert "CPU 时限" in got.reason


def test_wall_clock_cap(tmp_path: Path) -> None:
    path = tmp_path / "a.pdf"
    path.write_bytes(pdf_bomb(4, 20))
    got = extract_text(path, "情况说明.pdf", replace(DEFAULT_LIMITS, wall_seconds=0.5))
    assert (got.words, got.limit) == (None, "time")
    assert "秒时限" in got.reason


def _children(name: str) -> list[int]:
    """PIDs of this process's children whose command line contains ``name``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if int(stat.rpartition(")")[2].split()[1]) == os.getpid() and name.encode() in cmdline:
            found.append(int(entry.name))
    return found


def _rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def test_a_child_killed_at_its_memory_cap_is_a_limit_not_a_crash(tmp_path: Path) -> None:
    """What the kernel's OOM killer or systemd's MemoryMax does: SIGKILL once the child's memory
    passes the cap. Here the test plays the killer, watching the child's resident memory."""
    path = tmp_path / "a.docx"
    path.write_bytes(docx_bomb(tmp_path, 16))
    limits = replace(DEFAULT_LIMITS, max_ratio=1e9)
    result: list[Extracted] = []
    worker = threading.Thread(target=lambda: result.append(extract_text(path, "情况说明.docx", limits)))
    worker.start()
    killed_at = 0
    deadline = time.monotonic() + 60
    while worker.is_alive() and not killed_at and time.monotonic() < deadline:
        for pid in _children("bot.mime.textextract"):
            try:
                rss = _rss(pid)
            except OSError:
                continue
            if rss > 100 << 20:
                os.kill(pid, signal.SIGKILL)
                killed_at = rss
        time.sleep(0.01)
    worker.join(60)
    assert killed_at, "the child never reached the cap"
    assert result == [
        Extracted(None, reason="读取文字的进程被系统终止（SIGKILL，多为内存不足），已中止", limit="killed")
    ]
    assert _children("bot.mime.textextract") == []


def test_a_stop_request_kills_the_child_and_says_so(tmp_path: Path) -> None:
    path = tmp_path / "a.pdf"
    path.write_bytes(pdf_bomb(4, 20))
    asked = time.monotonic() + 0.5
    with pytest.raises(ExtractionStopped):
        extract_text(path, "情况说明.pdf", should_stop=lambda: time.monotonic() > asked)
    assert _children("bot.mime.textextract") == []
