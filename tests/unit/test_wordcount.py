"""字数 as WPS/Word count it, and which files are held to an indicator's limit."""

from __future__ import annotations

import pytest

from rules.catalogue import load_catalogue
from rules.wordcount import count_words, statement_limit

CATALOGUE = load_catalogue()


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", 0),
        ("   \n\t ", 0),
        ("依法行政", 4),
        ("依法行政。", 5),  # full-width punctuation counts
        ("“谁执法谁普法”", 8),
        ("（一）工作举措；", 8),
        ("《中华人民共和国行政许可法》", 14),
        ("2020年以来", 4),  # 2020 is one word
        ("2020年1月1日", 6),
        ("Hello world", 2),
        ("COVID-19 疫情", 3),
        ("e-mail: jzhbjfzk@163.com", 2),
        ("满意度达95%以上", 7),
        ("满意度达９５％以上", 9),  # full-width digits and ％ count one each, as in WPS
        ("第一，\n第二。", 6),
        ("a　b", 2),  # ideographic space separates and counts nothing
        ("……——", 4),
        ("A、B、C", 5),
        ("互联网+行政执法", 8),  # "+" alone is one "word" of Western text
        ("行政执法\u200b人员", 6),  # zero-width space is ignored
    ],
)
def test_count_words(text: str, words: int) -> None:
    assert count_words(text) == words


def test_limits_come_from_the_catalogue() -> None:
    assert statement_limit("普法工作情况说明.docx", CATALOGUE["52"]) == 1000
    assert statement_limit("涉企收费清理情况说明.docx", CATALOGUE["12"]) == 500
    assert statement_limit("涉企收费清理情况说明.pdf", CATALOGUE["12"]) == 500


@pytest.mark.parametrize(
    ("filename", "indicator", "limit"),
    [
        ("涉企收费清理.docx", "12", 500),  # 12 asks for nothing but a 情况说明
        ("涉企收费清理.jpg", "12", None),  # pictures are never the statement
        ("清单.xlsx", "12", None),
        ("培训签到表.pdf", "32", None),  # 32 also asks for other materials: only the statement counts
        ("培训工作情况说明.pdf", "32", 500),
        ("统计分析表.docx", "53", None),
        ("用人导向情况说明.docx", "53", 500),
        ("情况说明.doc", "12", 500),
        ("权责清单.pdf", "3", None),  # indicator without a word limit
    ],
)
def test_statement_limit(filename: str, indicator: str, limit: int | None) -> None:
    assert statement_limit(filename, CATALOGUE[indicator]) == limit
