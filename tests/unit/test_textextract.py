"""Text extraction from generated .docx/.pdf/.txt files of known content."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.mime.textextract import extract_text
from rules.wordcount import count_words
from tests.support.docs import cjk_text, make_docx, make_pdf


def test_docx_paragraphs_and_tables_merged_cells_once(tmp_path: Path) -> None:
    path = make_docx(
        tmp_path / "a.docx",
        ["关于涉企收费清理的情况说明", cjk_text(480)],
        [["清理事项汇总", "", ""], ["收费", "摊派", "评比"]],
        merge=True,
    )
    got = extract_text(path, "情况说明.docx")
    assert got.ok and got.text is not None
    assert got.head(1) == "关于涉企收费清理的情况说明"
    assert count_words(got.text) == 13 + 480 + 6 + 6


def test_pdf_text_layer_over_pages(tmp_path: Path) -> None:
    path = make_pdf(tmp_path / "a.pdf", [["普法工作情况说明", cjk_text(600)], ["2020年 共计 3 场", cjk_text(395)]])
    got = extract_text(path, "普法.PDF")
    assert got.ok and got.text is not None
    assert count_words(got.text) == 8 + 600 + 6 + 395


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "gbk", "utf-16"])
def test_txt_in_the_encodings_people_save(tmp_path: Path, encoding: str) -> None:
    text = "情况说明\n本部门2020年以来清理涉企收费3项，喆、镕、堃均已核实。"
    path = tmp_path / "a.txt"
    path.write_bytes(text.encode(encoding))
    got = extract_text(path, "a.txt")
    assert got.text == text


@pytest.mark.parametrize(
    ("filename", "content", "reason"),
    [
        ("a.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, ".doc 格式暂不能自动统计字数"),
        ("a.wps", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, ".wps 格式暂不能自动统计字数"),
        ("a.docx", b"not a zip", "不是有效的 .docx 文件"),
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
    assert got.text is None
    assert reason in got.reason


def test_scanned_pdf_without_text_layer(tmp_path: Path) -> None:
    path = make_pdf(tmp_path / "scan.pdf", [[]])
    got = extract_text(path, "scan.pdf")
    assert got.text is None and "扫描件" in got.reason
