"""evaluate: whole mails (subject, file names, body) -> Decision, against the real checklist."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.match_mails import generate
from rules.catalogue import Catalogue, load_catalogue
from rules.match import ASSIGNERS, CHECKS, evaluate

CATALOGUE = load_catalogue()
REVIEW = "review"
SECTIONS = CATALOGUE.sections


def _examples(default: int) -> int:
    """CI replays ``default`` derandomised examples; INTAKE_HYPOTHESIS_EXAMPLES raises it for a local hunt."""
    return int(os.environ.get("INTAKE_HYPOTHESIS_EXAMPLES", default))


@dataclass(frozen=True)
class Case:
    """One mail. ``expect`` per attachment: the ids it goes to, or REVIEW."""

    subject: str
    files: list[str]
    expect: list[list[str] | str]
    problems: set[str] = field(default_factory=set)
    declarations: list[str] = field(default_factory=list)
    body: str = ""


CASES = [
    # one file, the subject names it
    Case("指标12", ["涉企收费清理情况说明.docx"], [["12"]]),
    Case("回复：指标12", ["情况说明.docx"], [["12"]]),
    Case("Re:Re:第30项", ["执法监督.docx"], [["30"]]),
    Case("指标7，12，37", ["情况说明.docx"], [["7", "12", "37"]]),
    Case("7,12,37", ["情况说明.docx"], [["7", "12", "37"]]),
    Case("加分项1", ["表彰证书.pdf"], [["加1"]]),
    Case("指标24至26", ["行刑衔接.docx"], [["24", "25", "26"]], {"no_materials_needed"}),
    # the file name is more specific than the subject
    Case("法规科材料", ["30.2020年以来本部门对行政执法检查的监督情况.docx"], [["30"]]),
    Case("支队材料", ["12-清理情况.docx", "（37）行政调解.docx"], [["12"], ["37"]]),
    Case("指标12、37", ["12-清理情况.docx", "（37）行政调解.docx"], [["12"], ["37"]]),
    Case("指标12", ["【12】涉企收费.docx", "涉企收费附表.xlsx"], [["12"], ["12"]]),
    Case("指标12、37", ["12-清理情况.docx", "调解情况.docx"], [["12"], ["37"]]),
    Case(
        "支队材料",
        ["1.涉企收费清理情况说明.docx", "2.监管工作情况说明.docx"],
        [REVIEW, REVIEW],
        {"unmatched_attachment"},
    ),
    Case("法规科材料", ["8.失信惩戒情况说明.docx"], [["8"]]),
    # one number in the subject covers every file
    Case("指标12", ["情况说明.docx", "清单.xlsx", "照片.jpg"], [["12"], ["12"], ["12"]]),
    Case("第30项", ["材料(1).docx", "材料(2).docx"], [["30"], ["30"]]),
    # conflicts: an explicit file name wins and the conflict is recorded
    Case("指标12", ["指标30-执法监督.docx"], [["30"]], {"conflicting_numbers"}),
    Case("指标12", ["【37】行政调解.docx"], [["37"]], {"conflicting_numbers"}),
    # a merely positional number against the subject: may be the sender's enumeration
    Case("指标12", ["30-情况说明.docx"], [REVIEW], {"unmatched_attachment"}),
    Case("指标12", ["30-执法监督.docx"], [["30"]], {"conflicting_numbers"}),  # the words confirm 30
    Case(
        "指标12、30、37",
        ["1.情况说明.docx", "2.清单.docx"],
        [REVIEW, REVIEW],
        {"unmatched_attachment"},
    ),
    # several files, several numbers, no numbers in the names: pair only when it is clear
    Case(
        "指标7、12、37",
        ["涉企收费清理情况说明.docx", "监管工作情况说明.docx", "行政调解统计分析.docx"],
        [["12"], ["7"], ["37"]],
    ),
    Case("指标8、9", ["公平竞争审查文件目录.xlsx", "失信惩戒情况说明.docx"], [["9"], ["8"]]),
    Case("指标7、12", ["情况说明1.docx", "情况说明2.docx"], [REVIEW, REVIEW], {"unmatched_attachment"}),
    Case("指标7、12", ["附件1.docx", "附件2.docx"], [REVIEW, REVIEW], {"unmatched_attachment"}),
    Case(
        "指标36、37",
        ["统计分析.docx", "相关材料.docx"],
        [REVIEW, REVIEW],
        {"unmatched_attachment"},
    ),
    Case("指标12、37", ["12-清理情况.docx", "新建文档.docx"], [["12"], ["37"]]),
    # zero evidence: review, never an assignment
    Case("关于报送材料的函", ["涉企收费清理情况说明.docx"], [REVIEW], {"unmatched_attachment"}),
    Case("依法行政材料", ["情况说明.docx"], [REVIEW], {"unmatched_attachment"}),
    Case("2020年度材料", ["材料(1).docx"], [REVIEW], {"unmatched_attachment"}),
    Case("10月28日报送", ["2021-10-20.pdf"], [REVIEW], {"unmatched_attachment"}),
    Case("情况说明12材料", ["情况说明.docx"], [REVIEW], {"unmatched_attachment"}),
    # problems
    Case("指标65", ["情况说明.docx"], [REVIEW], {"out_of_range", "unmatched_attachment"}),
    Case("第0项", ["情况说明.docx"], [REVIEW], {"out_of_range", "unmatched_attachment"}),
    Case("指标12", ["指标65.docx"], [["12"]], {"out_of_range"}),
    Case("指标12涉密材料", ["情况说明.docx"], [["12"]], {"possibly_classified"}),
    Case("指标12", ["秘密-情况说明.docx"], [["12"]], {"possibly_classified"}),
    Case("指标12", ["涉密（秘密级）.docx"], [["12"]], {"possibly_classified"}),
    Case("指标12保密工作", ["保密情况.docx"], [["12"]]),
    Case("指标13", ["情况说明.docx"], [["13"]], {"no_materials_needed"}),
    # declarations, in the subject or the body
    Case("指标13 无材料", [], [], declarations=["13"]),
    Case("第45项本部门不涉及", [], [], declarations=["45"]),
    Case("法规科", [], [], declarations=["13", "45"], body="指标13无材料。\n第45项本部门不涉及。"),
    Case("指标12;指标40不适用", ["清理情况.docx"], [["12"]], declarations=["40"]),
    Case("指标40无材料", ["40-情况说明.docx"], [["40"]], {"declared_and_submitted"}, ["40"]),
    Case("指标12", ["情况说明.docx"], [["12"]], body="联系人：刘海利 13838912345，10月28日前"),
]


def _outcome(decision_attachment_ids: tuple[str, ...], needs_review: bool) -> list[str] | str:
    return REVIEW if needs_review else list(decision_attachment_ids)


@pytest.mark.parametrize("case", CASES, ids=[f"{c.subject}|{'|'.join(c.files)}" for c in CASES])
def test_evaluate(case: Case) -> None:
    decision = evaluate(case.subject, case.files, CATALOGUE, case.body)
    got = [_outcome(a.indicators, a.needs_review) for a in decision.attachments]
    assert got == case.expect
    assert {p.code for p in decision.problems} == case.problems
    assert list(decision.declarations) == case.declarations
    assert [a.filename for a in decision.attachments] == case.files


def test_review_has_no_indicators_and_ranked_candidates() -> None:
    decision = evaluate("指标7、12", ["情况说明1.docx", "涉企收费情况.docx"], CATALOGUE)
    for att in decision.attachments:
        if att.needs_review:
            assert att.indicators == ()
            assert att.matched_by == ""
            assert att.reason
            assert set(att.candidates[:2]) == {"7", "12"}


def test_enumerated_file_offers_both_readings() -> None:
    decision = evaluate("支队材料", ["1.涉企收费清理情况说明.docx"], CATALOGUE)
    (att,) = decision.attachments
    assert att.needs_review
    assert att.candidates[:2] == ("1", "12")


def test_similarity_candidates_without_any_number() -> None:
    decision = evaluate("关于报送材料的函", ["行政调解统计分析.docx"], CATALOGUE)
    (att,) = decision.attachments
    assert att.needs_review
    assert att.candidates[0] == "37"


@pytest.mark.parametrize(
    ("subject", "files", "matched_by"),
    [
        ("指标12", ["情况说明.docx"], ["subject"]),
        ("材料", ["12-情况说明.docx"], ["filename"]),
        ("指标7、37", ["监管工作情况说明.docx", "行政调解统计分析.docx"], ["similarity", "similarity"]),
        ("材料", ["情况说明.docx"], [""]),
    ],
)
def test_matched_by(subject: str, files: list[str], matched_by: list[str]) -> None:
    decision = evaluate(subject, files, CATALOGUE)
    assert [a.matched_by for a in decision.attachments] == matched_by


@pytest.mark.parametrize(
    ("subject", "files", "evidence"),
    [
        ("指标12", ["情况说明.docx", "清单.xlsx"], ["subject-number", "subject-number"]),
        ("指标7、12", ["情况说明.docx"], ["subject-list"]),
        ("指标12、37", ["12-情况说明.docx", "新建文档.docx"], ["filename-number", "subject-list"]),
        ("材料", ["指标12-情况说明.docx"], ["filename-number"]),
        ("材料", ["12-涉企收费清理情况说明.docx"], ["filename-number+materials"]),
        ("指标7、37", ["监管工作情况说明.docx", "行政调解统计分析.docx"], ["similarity", "similarity"]),
        ("二级指标12", ["情况说明.docx"], ["level2"]),
        ("材料", ["情况说明.docx"], ["review:no-number"]),
        ("指标7、12", ["情况说明.docx", "附件.docx"], ["review:ambiguous", "review:ambiguous"]),
        ("指标65", ["情况说明.docx"], ["review:out-of-range"]),
    ],
)
def test_evidence_codes(subject: str, files: list[str], evidence: list[str]) -> None:
    decision = evaluate(subject, files, CATALOGUE)
    assert [a.evidence for a in decision.attachments] == evidence
    assert all(a.reason and a.advice for a in decision.attachments if a.needs_review)


def test_problem_details_are_chinese_and_name_the_file() -> None:
    decision = evaluate("指标12", ["指标30-执法监督.docx"], CATALOGUE)
    (problem,) = decision.problems
    assert "指标30-执法监督.docx" in problem.detail
    assert "不一致" in problem.detail


def test_subject_indicators_exclude_declared() -> None:
    decision = evaluate("指标12;指标13无材料", [], CATALOGUE)
    assert decision.subject_indicators == ("12",)
    assert decision.declarations == ("13",)


def test_steps_are_data() -> None:
    assert [f.__name__ for f in ASSIGNERS] == ["by_filename", "by_level2", "by_subject", "by_similarity", "to_review"]
    assert "possibly_classified" in [f.__name__ for f in CHECKS]


def test_other_catalogue_id_space() -> None:
    small = Catalogue(CATALOGUE.campaign, CATALOGUE.indicators[:20])
    decision = evaluate("指标30", ["情况说明.docx"], small)
    assert decision.attachments[0].needs_review
    assert decision.problems[0].code == "out_of_range"


# --- property: text without an indicator reference never yields an assignment -----------------------


def _owed(level2_no: int) -> int:
    return sum(1 for i in CATALOGUE if i.level2_no == level2_no and i.owes_material)


_NOISE = st.one_of(
    st.integers(2015, 2025).flatmap(
        lambda y: st.sampled_from([f"{y}年", f"{y}年度", f"{y}年以来", f"{y}", f"{y}、{y + 1}年度"])
    ),
    st.tuples(st.integers(1, 12), st.integers(1, 31)).flatmap(
        lambda md: st.sampled_from(
            [f"{md[0]}月{md[1]}日", f"{md[0]}.{md[1]}", f"2021-{md[0]:02d}-{md[1]:02d}", f"2021{md[0]:02d}{md[1]:02d}"]
        )
    ),
    st.tuples(
        st.integers(0, 999), st.sampled_from(["字", "个学时", "%", "个工作日", "人", "份", "页", "万元", "次"])
    ).map(lambda nu: f"{nu[0]}{nu[1]}"),
    st.from_regex(r"1[3-9]\d{9}", fullmatch=True),
    st.from_regex(r"0\d{3}-\d{7}", fullmatch=True),
    st.integers(1, 9).flatmap(lambda n: st.sampled_from([f"v{n}", f"V{n}", f"第{n}版", f"修改稿{n}"])),
    # 二级指标 with several items needing material: a group, never an item (without the section)
    st.sampled_from([n for n in {i.level2_no for i in CATALOGUE} if _owed(n) > 1]).map(lambda n: f"二级指标{n}"),
    st.integers(37, 99).map(lambda n: f"二级指标{n}"),
    st.integers(1, 9).map(lambda n: f"附件{n}"),
    st.sampled_from(
        [
            "关于",
            "报送",
            "法规科",
            "支队",
            "情况说明",
            "依法行政",
            "材料",
            "示范单位",
            "创建",
            "刘海利",
            "汇总",
            "请查收",
        ]
    ),
)
_SEPARATORS = st.sampled_from(["", " ", "-", "_", "，", "、", "："])


@st.composite
def _plain_text(draw: st.DrawFn) -> str:
    parts = draw(st.lists(_NOISE, min_size=1, max_size=6))
    seps = draw(st.lists(_SEPARATORS, min_size=len(parts), max_size=len(parts)))
    text = ""
    for part, sep in zip(parts, seps, strict=True):
        # Digits run together ("1" + "2021") would be a different number, not two noise tokens.
        glue = " " if text[-1:].isdigit() and part[:1].isdigit() else ""
        text += glue + part + sep
    return text


@settings(max_examples=_examples(300), deadline=None)
@given(subject=_plain_text(), names=st.lists(_plain_text(), min_size=1, max_size=3), body=_plain_text())
def test_text_without_reference_never_assigns(subject: str, names: list[str], body: str) -> None:
    decision = evaluate(subject, [n + ".docx" for n in names], CATALOGUE, body)
    assert decision.subject_indicators == ()
    assert decision.declarations == ()
    assert all(a.needs_review and not a.indicators for a in decision.attachments)


_PLAIN_WITHOUT_GROUPS = _plain_text().filter(lambda t: "二级指标" not in t)


@settings(max_examples=_examples(300), deadline=None)
@given(
    subject=_PLAIN_WITHOUT_GROUPS,
    names=st.lists(_PLAIN_WITHOUT_GROUPS, min_size=1, max_size=3),
    body=_PLAIN_WITHOUT_GROUPS,
    section=st.sampled_from(SECTIONS),
)
def test_the_senders_section_alone_never_assigns(subject: str, names: list[str], body: str, section: str) -> None:
    decision = evaluate(subject, [n + ".docx" for n in names], CATALOGUE, body, section=section)
    assert all(a.needs_review and not a.indicators for a in decision.attachments)


# --- property: mail as sections write it is never assigned to what its sender did not mean ------------


@settings(max_examples=_examples(200), deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_generated_mail_is_never_assigned_wrongly(seed: int) -> None:
    for mail in generate(CATALOGUE, 5, seed):
        decision = evaluate(mail.subject, [f.name for f in mail.files], CATALOGUE, mail.body, section=mail.section)
        for f, att in zip(mail.files, decision.attachments, strict=True):
            assert att.needs_review or set(att.indicators) == set(f.truth), (mail, att)
