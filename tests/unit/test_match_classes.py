"""The review classes of issue 15, each with spellings that must be assigned and near misses that must
stay review (a wrong assignment is far worse than a review), against the real checklist."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from rules.catalogue import load_catalogue
from rules.match import evaluate

CATALOGUE = load_catalogue()
REVIEW = "review"


@dataclass(frozen=True)
class Case:
    """One mail from ``section`` (None: an unknown sender). ``expect`` per attachment: ids or REVIEW;
    ``evidence`` per attachment: the code that must have decided it (optional)."""

    subject: str
    files: tuple[str, ...]
    expect: tuple[tuple[str, ...] | str, ...]
    section: str | None = None
    evidence: tuple[str, ...] = ()


def _check(case: Case) -> None:
    decision = evaluate(case.subject, list(case.files), CATALOGUE, section=case.section)
    got = tuple(REVIEW if a.needs_review else a.indicators for a in decision.attachments)
    assert got == case.expect
    if case.evidence:
        assert tuple(a.evidence for a in decision.attachments) == case.evidence
    for att in decision.attachments:
        assert att.evidence, "every attachment names the rule that decided it"
        if att.needs_review:
            assert att.evidence.startswith("review:") and att.reason and att.advice


def _ids(case: Case) -> str:
    return f"{case.section}|{case.subject}|{'|'.join(case.files)}"


# 1. Lists that mix plain numbers with 加分项/减分项: a list is a list whatever its last element is.
MIXED = [
    Case("指标3、9、17、加1项材料", ("情况说明.docx",), (("3", "9", "17", "加1"),), "法规科"),
    Case("法规科（16，加2）", ("情况说明.docx",), (("16", "加2"),), "法规科", ("subject-list",)),
    Case("（１６，加２）", ("情况说明.docx",), (("16", "加2"),)),
    Case("43,加2", ("情况说明.docx",), (("43", "加2"),)),
    Case("43，加分项2", ("情况说明.docx",), (("43", "加2"),)),
    Case("43、加分2", ("情况说明.docx",), (("43", "加2"),)),
    Case("法规科报送29,加1项", ("附件.doc",), (("29", "加1"),), "法规科"),
    Case("刘海利报送16，43，59，加1", ("说明.jpg",), (("16", "43", "59", "加1"),), "法规科"),
    Case("指标9、减分项1", ("情况说明.docx",), (("9", "减1"),)),
    Case("加分项1、2", ("表彰证书.pdf",), (("加1", "加2"),)),
    Case(
        "43,加2",
        ("43.行政诉讼情况说明.docx", "加2.创新做法推广情况.docx"),
        (("43",), ("加2",)),
        "法规科",
        ("filename-number+materials", "filename-number+materials"),
    ),
    Case("43,加2", ("行政诉讼情况说明.docx", "做法经验推广情况说明.docx"), (("43",), ("加2",))),
    # near misses: counts and words are not list items
    Case("共3、加1", ("情况说明.docx",), (("加1",),)),
    Case("考核得分10、加2分", ("情况说明.docx",), (REVIEW,)),
    Case("指标12，另加2分", ("情况说明.docx",), (("12",),)),
    Case("增加2项材料", ("情况说明.docx",), (REVIEW,)),
    Case("2020、加1", ("情况说明.docx",), (("加1",),)),
    Case("附件3、加1", ("情况说明.docx",), (("加1",),)),
]


# 2. A leading number whose indicator's materials the rest of the name reads like is evidence on its
# own, and settles a conflict with a covering note's number. Disagreement stays review.
AGREEMENT = [
    Case("", ("24、行刑衔接案件移送清单.xlsx",), (("24",),), evidence=("filename-number+materials",)),
    Case("支队材料", ("24.行刑衔接案件移送清单.xlsx",), (("24",),), "支队"),
    Case("支队材料", ("24 行刑衔接案件移送清单.xlsx",), (("24",),), "支队"),
    Case("支队材料", ("24-行刑衔接案件移送清单.xlsx",), (("24",),), "支队"),
    Case("支队材料", ("（24）行刑衔接案件移送清单.xlsx",), (("24",),), "支队"),
    Case("支队材料", ("２４．行刑衔接案件移送清单.xlsx",), (("24",),), "支队"),
    Case("法规科材料", ("22、重大行政决策执行情况跟踪评估.docx",), (REVIEW,), "法规科"),  # reads like 23
    Case(
        "指标12-支队",
        ("24-行刑衔接案件移送清单.xlsx",),
        (("24",),),
        "支队",
        ("filename-number+materials",),
    ),
    Case("指标12-支队", ("24-行刑衔接案件移送清单.xlsx", "涉企收费清理情况说明.docx"), (("24",), ("12",)), "支队"),
    Case("第15项法规科", ("59 本级政府或上级部门对2019、2020年度依法行政考核的等次说明.docx",), (("59",),), "法规科"),
    Case("指标15-法规科", ("60 部门办公会议（领导小组会议）听取依法行政工作汇报.docx",), (("60",),), "法规科"),
    # disagreement or silence stays review
    Case("指标12-支队", ("24-情况说明.docx",), (REVIEW,), "支队", ("review:conflict",)),
    Case("指标12-支队", ("24-涉企收费清理情况说明.docx",), (REVIEW,), "支队"),
    Case("指标7、12", ("24-监管工作情况.docx",), (REVIEW,)),
    Case("指标36", ("37-统计分析.docx",), (REVIEW,)),  # the words fit 36 as well as 37
    Case("支队材料", ("1.涉企收费清理情况说明.docx",), (REVIEW,), "支队", ("review:enumeration",)),
    # numbers that run 1, 2, 3 across a mail count the files; only words that agree settle them
    Case(
        "服务科材料",
        ("1.取消非行政许可审批事项情况说明.docx", "2.情况说明.docx"),
        (("1",), REVIEW),
        "服务科",
        ("filename-number+materials", "review:enumeration"),
    ),
    Case("法规科材料", ("1.2020年行政规范性文件的备案审查.docx", "2.法律顾问.docx"), (REVIEW, REVIEW), "法规科"),
    # a number the section does not own, with nothing to confirm it
    Case("支队材料", ("8-情况说明.docx",), (REVIEW,), "支队", ("review:suspect-number",)),
    Case("综合科材料", ("50-情况说明.docx",), (REVIEW,), "综合科", ("review:not-owned",)),
    Case("法规科材料", ("50-情况说明.docx",), (("50",),)),  # without the section, as before
]


# 3. Full-width （N） at the end is a person's number when the words agree; `` (1)`` is a copy mark.
MARKS = [
    Case("服务科材料", ("证明事项告知承诺制清单截图（4）.png",), (("4",),), "服务科", ("filename-number+materials",)),
    Case("服务科材料", ("证明事项告知承诺制清单截图（４）.png",), (("4",),), "服务科"),
    Case("材料", ("行刑衔接案件移送清单（24）.xlsx",), (("24",),)),
    Case("法规科材料", ("加强内部监督和审计监督情况（46）.wps",), (("46",),), "财审科"),  # under its heading
    Case("服务科材料", ("清单 (1).xlsx",), (REVIEW,), "服务科"),
    Case("服务科材料", ("证明事项告知承诺制清单截图 (4).png",), (REVIEW,), "服务科"),
    Case("服务科材料", ("证明事项告知承诺制清单截图(1).png",), (REVIEW,), "服务科"),
    Case("材料", ("材料（2）.docx",), (REVIEW,), evidence=("review:mark",)),
    Case("材料", ("行刑衔接案件移送清单（12）.xlsx",), (REVIEW,)),  # the words say 24
    Case("加强内部监督和审计监督", ("情况说明（12）.docx",), (REVIEW,), "财审科"),
    # a series: 截图（1）…（4） numbers the screenshots
    Case(
        "服务科材料",
        ("告知承诺制清单截图（1）.png", "告知承诺制清单截图（2）.png", "告知承诺制清单截图（4）.png"),
        (REVIEW, REVIEW, REVIEW),
        "服务科",
        ("review:series", "review:series", "review:series"),
    ),
    Case("指标4", ("截图（1）.png", "截图（2）.png"), (("4",), ("4",)), "服务科"),
]


# 4. A number followed by a year is a number, not a decimal.
YEARS = [
    Case("财审科", ("6.2020年度预算执行情况说明.docx",), (("6",),), "财审科"),
    Case("财审科", ("6．2020年度预算执行情况说明.docx",), (("6",),), "财审科"),
    Case("财审科", ("6、2020年度预算执行情况说明.docx",), (("6",),), "财审科"),
    Case("法规科", ("30.2020年以来本部门对行政执法检查的监督情况.docx",), (("30",),), "法规科"),
    Case("法规科", ("59.2019、2020年度依法行政考核等次.pdf",), (("59",),), "法规科"),
    Case("", ("54.2020年10月领导干部学法.jpg",), (("54",),)),
    # a date or a decimal is not
    Case("财审科", ("6.20预算执行情况.docx",), (REVIEW,), "财审科"),
    Case("财审科", ("2020.6预算执行情况.docx",), (REVIEW,), "财审科"),
    Case("财审科", ("12.1涉企收费清单.docx",), (REVIEW,), "支队"),
]


# 5. 二级指标 references with the sender's section.
LEVEL2 = [
    Case("二级指标10 依法决策机制健全（法规科）", ("法律顾问.docx",), (("21",),), "法规科", ("level2+section",)),
    Case("二级指标10", ("情况说明.docx",), (("21",),), "法规科"),
    Case("二级指标第10项", ("情况说明.docx",), (("21",),), "法规科"),
    Case("二级指标十", ("情况说明.docx",), (("21",),), "法规科"),
    Case("依法决策机制健全-法规科", ("情况说明.docx",), (("21",),), "法规科"),
    Case("10.依法决策机制健全（法规科）", ("情况说明.docx",), (("21",),), "法规科"),
    Case("法规科", ("依法决策机制健全情况说明.docx",), (("21",),), "法规科"),
    Case("纵深推进放管服改革", ("情况说明.docx",), (REVIEW,), "服务科"),  # owns both 3 and 4
    Case("二级指标12", ("情况说明.docx",), (("24",),), evidence=("level2",)),  # only 24 under it
    Case("二级指标15", ("情况说明.docx",), (("29",),)),  # 28 needs no material
    # without the section, or with several items of the section under it: exactly the group's items
    Case("二级指标10 依法决策机制健全", ("情况说明.docx",), (REVIEW,), None, ("review:level2-group",)),
    Case("二级指标10", ("情况说明.docx",), (REVIEW,), "综合科"),
    Case("二级指标10", ("情况说明.docx",), (REVIEW,), "办公室"),
    # the file's words describe another item of the group, or another indicator altogether
    Case("二级指标10", ("重大行政决策事项目录.xlsx",), (REVIEW,), "法规科"),
    Case("二级指标10", ("行刑衔接案件移送清单.xlsx",), (REVIEW,), "法规科"),
    # a number with its heading: consistent is kept, inconsistent goes to review
    Case("材料", ("21.依法决策机制健全-法律顾问.docx",), (("21",),), "法规科"),
    Case("材料", ("5.依法决策机制健全.docx",), (REVIEW,), "法规科", ("review:level2-conflict",)),
    Case("二级指标7中的指标12", ("情况说明.docx",), (("12",),), "支队"),
    Case("指标12", ("依法决策机制健全情况.docx",), (REVIEW,), "支队", ("review:level2-subject",)),
    Case("指标21", ("依法决策机制健全情况.docx",), (("21",),), "法规科"),
    Case("二级指标99", ("情况说明.docx",), (REVIEW,), "法规科", ("review:no-number",)),
]


# 6. The sender's section everywhere: a number next to the section's own is a likely typo.
SECTION = [
    Case("第34项", ("情况说明.docx",), (REVIEW,), "财审科", ("review:suspect-number",)),
    Case("第34项", ("情况说明.docx",), (("34",),), "支队"),
    Case("第34项", ("情况说明.docx",), (("34",),)),
    Case("人事科-杨海娜-指标44", ("截图.docx",), (REVIEW,), "人事科"),
    Case("指标6", ("说明.wps",), (REVIEW,), "支队"),
    Case("指标6", ("严格落实预算法情况说明.docx",), (("6",),), "支队"),  # the words confirm the number
    Case("指标24", ("情况说明.docx",), (("24",),), "法规科"),  # no neighbour of 24 is 法规科's: not a typo
    Case("指标7、8", ("情况说明.docx",), (REVIEW,), "支队"),  # 8 is next to 支队's 7
    Case("指标33、34", ("a.docx", "b.docx"), (REVIEW, REVIEW), "财审科"),
    Case("【8】", ("指标8-失信惩戒情况说明.docx",), (("8",),), "支队"),
    Case("材料", ("指标8-情况说明.docx",), (REVIEW,), "支队"),
    Case("财审科", ("指标34-情况说明.docx",), (REVIEW,), "财审科"),
    Case("财审科", ("指标34-情况说明.docx",), (("34",),), "一个不存在的科室"),  # unknown name: no section
]


@pytest.mark.parametrize("case", MIXED, ids=_ids)
def test_mixed_lists(case: Case) -> None:
    _check(case)


@pytest.mark.parametrize("case", AGREEMENT, ids=_ids)
def test_number_agrees_with_words(case: Case) -> None:
    _check(case)


@pytest.mark.parametrize("case", MARKS, ids=_ids)
def test_trailing_marks(case: Case) -> None:
    _check(case)


@pytest.mark.parametrize("case", YEARS, ids=_ids)
def test_number_then_year(case: Case) -> None:
    _check(case)


@pytest.mark.parametrize("case", LEVEL2, ids=_ids)
def test_level2(case: Case) -> None:
    _check(case)


@pytest.mark.parametrize("case", SECTION, ids=_ids)
def test_section(case: Case) -> None:
    _check(case)


def test_level2_review_offers_exactly_the_group() -> None:
    (att,) = evaluate("二级指标10", ["情况说明.docx"], CATALOGUE, section="综合科").attachments
    assert att.needs_review
    assert sorted(att.candidates, key=int) == ["19", "20", "21"]
    assert "二级指标10（依法决策机制健全）" in att.reason


def test_suspect_number_offers_the_neighbour() -> None:
    (att,) = evaluate("第34项", ["情况说明.docx"], CATALOGUE, section="财审科").attachments
    assert att.candidates[:2] == ("34", "33")
    assert "财审科" in att.reason and "33" in att.reason


def test_review_candidates_prefer_the_sections_own() -> None:
    # 37 is 法规科's and 支队's, 36 支队's, 53 法规科's: all read "统计分析" alike
    for section, first in (("支队", {"36", "37"}), ("法规科", {"37", "53"})):
        (att,) = evaluate("材料", ["统计分析.docx"], CATALOGUE, section=section).attachments
        assert att.needs_review
        assert set(att.candidates[:2]) == first
