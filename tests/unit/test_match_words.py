"""What a file name's words read like (rules.match_similarity) and what the codes say (rules.match_reasons)."""

from __future__ import annotations

import re

import pytest

from rules.catalogue import load_catalogue
from rules.match import evaluate
from rules.match_reasons import EVIDENCE, REVIEW, evidence_label, explain
from rules.match_similarity import agrees, clear_best, contradicts, rank, scores

CATALOGUE = load_catalogue()


def _best(name: str) -> str | None:
    return clear_best(rank(name, CATALOGUE))


# name -> the indicator its words clearly describe
CLEAR = [
    ("行刑衔接案件移送清单.xlsx", "24"),
    ("证明事项告知承诺制清单截图.png", "4"),
    ("涉企收费清理情况说明.docx", "12"),
    ("失信惩戒情况说明.docx", "8"),
    ("行政调解统计分析.docx", "37"),
    ("公平竞争审查文件目录.xlsx", "9"),
    ("法律顾问发挥作用情况.docx", "21"),
    ("对行政执法检查的监督情况.docx", "30"),
    ("行政相对人法律风险防控分析评估报告.docx", "38"),
    ("2020年度有关意见和建议办理情况.docx", "42"),
    ("重大行政决策执行情况跟踪评估.docx", "23"),
    ("法治政府建设表彰证书.pdf", "加1"),
]

# names whose words fit several indicators alike, or say nothing
UNCLEAR = ["统计分析.docx", "改进执法方式情况.docx", "情况说明.docx", "相关材料.docx", "新建文档.docx", "2020年度.pdf"]


@pytest.mark.parametrize(("name", "ind_id"), CLEAR)
def test_clear_words(name: str, ind_id: str) -> None:
    assert _best(name) == ind_id


@pytest.mark.parametrize("name", UNCLEAR)
def test_unclear_words(name: str) -> None:
    assert _best(name) is None


def test_rare_words_outweigh_common_ones() -> None:
    # 预算 occurs in two entries, 执行 in many: the name shares its rarest word with 6
    found = scores("6.2020年度预算执行情况说明.docx", CATALOGUE)
    assert found["6"] >= 50
    assert not contradicts(found, ["6"])


def test_section_and_person_names_are_not_words() -> None:
    assert scores("支队-刘建设.docx", CATALOGUE) == {}
    assert _best("法规科-刘海利-失信惩戒情况说明.docx") == "8"


@pytest.mark.parametrize(
    ("name", "ind_id", "rivals", "expected"),
    [
        ("行刑衔接案件移送清单", "24", ("12",), True),
        ("行刑衔接案件移送清单", "12", (), False),
        ("证明事项清单", "3", (), True),
        ("证明事项清单", "4", (), False),  # 3 reads better
        ("对行政规范性文件清理情况", "18", (), True),  # 10 reads as well: the number decides
        ("对行政规范性文件清理情况", "18", ("10",), False),  # ... but not against 10
        ("统计分析", "37", ("36",), False),
        ("情况说明", "2", (), False),
    ],
)
def test_agreement(name: str, ind_id: str, rivals: tuple[str, ...], expected: bool) -> None:
    assert agrees(scores(name, CATALOGUE), ind_id, rivals) is expected


@pytest.mark.parametrize(
    ("name", "ids", "expected"),
    [
        ("1.涉企收费清理情况说明", ["1"], True),
        ("12.涉企收费清理情况说明", ["12"], False),
        ("2.截图", ["2"], False),  # one word is not enough to speak against a number
        ("3.情况说明", ["3"], False),
    ],
)
def test_contradiction(name: str, ids: list[str], expected: bool) -> None:
    assert contradicts(scores(name, CATALOGUE), ids) is expected


def test_every_review_reason_has_plain_chinese_why_and_advice() -> None:
    for code, reason in REVIEW.items():
        why, advice = explain(code, file="30", subject="12", section="支队", group="10", items="19、20、21")
        assert why and advice, code
        assert re.search(r"[\u4e00-\u9fff]", why) and re.search(r"[\u4e00-\u9fff]", advice), code
        assert "{" not in why + advice, code
        assert reason.advice.startswith(("今后", "请核对")), code


def test_every_evidence_code_the_matcher_uses_has_a_label() -> None:
    seen = set()
    samples = [
        ("指标12", ["情况说明.docx"], None),
        ("指标7、12", ["情况说明.docx"], None),
        ("材料", ["指标12-情况说明.docx", "24、行刑衔接案件移送清单.xlsx"], None),
        ("指标7、37", ["监管工作情况说明.docx", "行政调解统计分析.docx"], None),
        ("二级指标12", ["情况说明.docx"], None),
        ("二级指标10", ["情况说明.docx"], "法规科"),
    ]
    for subject, files, section in samples:
        seen |= {a.evidence for a in evaluate(subject, files, CATALOGUE, section=section).attachments}
    assert seen == set(EVIDENCE)
    assert all(evidence_label(code) != code for code in EVIDENCE)
    assert evidence_label("review:conflict") == "待人工确认"
