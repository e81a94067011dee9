"""match_subject: which indicator ids a subject line references, as staff really write them."""

from __future__ import annotations

import pytest

from rules.match import Evidence, match_subject

# subject -> ids it references for material (declared ones excluded)
REFERENCES = [
    # the forms the issue lists
    ("指标12", ["12"]),
    ("指标12-支队-涉企收费清理情况说明", ["12"]),
    ("第12项", ["12"]),
    ("序号12", ["12"]),
    ("12号", ["12"]),
    ("【12】", ["12"]),
    ("[12]", ["12"]),
    ("12、13、14项材料", ["12", "13", "14"]),
    ("指标7，12，13", ["7", "12", "13"]),
    ("7,12,13", ["7", "12", "13"]),
    ("指标１２", ["12"]),
    ("第十二项", ["12"]),
    ("第二十三项", ["23"]),
    ("加分项1", ["加1"]),
    ("加分1", ["加1"]),
    ("减分项2", ["减2"]),
    ("指标24至26", ["24", "25", "26"]),
    ("24-26", ["24", "25", "26"]),
    # reply and forward prefixes
    ("Re: 指标12", ["12"]),
    ("RE：指标12", ["12"]),
    ("回复：指标12", ["12"]),
    ("答复:第12项", ["12"]),
    ("Fw: 指标7，12", ["7", "12"]),
    ("FW：指标30", ["30"]),
    ("转发：【37】行政调解", ["37"]),
    ("Fwd: 序号45", ["45"]),
    ("Re:Re:指标12", ["12"]),
    ("回复：回复：Re:指标8", ["8"]),
    # as sections write them
    ("法规科-刘海利-指标8、9、10", ["8", "9", "10"]),
    # a space separates a list after 指标, but a count after it is not an item
    ("指标12 13 14", ["12", "13", "14"]),
    ("指标 12 13", ["12", "13"]),
    ("指标12 3页", ["12"]),
    ("指标12 30个学时", ["12"]),
    ("指标12 10.28前报送", ["12"]),
    # a list glued to the section name
    ("综合科19 20 23项", ["19", "20", "23"]),
    ("法规科8,9,10", ["8", "9", "10"]),
    ("综合科19、20、23项材料", ["19", "20", "23"]),
    ("【支队】指标7、12", ["7", "12"]),
    ("服务科史凤云报送指标1、2、3、4", ["1", "2", "3", "4"]),
    ("执法支队-申军强-指标12-涉企收费清理情况说明", ["12"]),
    ("焦作市生态环境局法规科关于指标9的材料", ["9"]),
    ("指标：12", ["12"]),
    ("指标 12", ["12"]),
    ("指标(12)", ["12"]),
    ("【指标12】依法行政材料", ["12"]),
    ("三级指标12", ["12"]),
    ("指标第12项", ["12"]),
    ("第12、13项材料", ["12", "13"]),
    ("第十二、十三项", ["12", "13"]),
    ("第１２项", ["12"]),
    ("第 12 项", ["12"]),
    ("序号：30", ["30"]),
    ("序号30、31", ["30", "31"]),
    ("12号材料", ["12"]),
    ("12、13号", ["12", "13"]),
    ("【30】执法监督", ["30"]),
    ("【7、12】", ["7", "12"]),
    ("指标7,12,13", ["7", "12", "13"]),
    ("指标7、12、13", ["7", "12", "13"]),
    ("指标7和12", ["7", "12"]),
    ("指标7及12", ["7", "12"]),
    ("指标7/12", ["7", "12"]),
    ("指标24-26", ["24", "25", "26"]),
    ("指标24~26", ["24", "25", "26"]),
    ("指标24到26", ["24", "25", "26"]),
    ("指标２４－２６", ["24", "25", "26"]),
    ("指标24—26", ["24", "25", "26"]),
    ("指标十二", ["12"]),
    ("指标六十", ["60"]),
    ("指标1", ["1"]),
    ("指标60", ["60"]),
    ("指标01", ["1"]),
    ("加分项2", ["加2"]),
    ("减分项1", ["减1"]),
    ("减分2", ["减2"]),
    ("加分项第1项", ["加1"]),
    ("加分项（1）", ["加1"]),
    ("加分项一", ["加1"]),
    ("加分项1、2", ["加1", "加2"]),
    ("指标加1", ["加1"]),
    ("加1", ["加1"]),
    ("附加项加分2", ["加2"]),
    ("指标12、加分项1", ["12", "加1"]),
    ("12-支队-涉企收费清理情况说明", ["12"]),
    ("30 执法监督情况", ["30"]),
    ("支队 12 材料", ["12"]),
    ("法规科-8-失信惩戒", ["8"]),
    ("12-13", ["12", "13"]),
    ("法规科报送12项材料", ["12"]),
    ("指标12（2020年度）", ["12"]),
    ("指标12 2020年以来情况说明", ["12"]),
    ("指标12 10月28日报送", ["12"]),
    ("指标12，联系电话13838912345", ["12"]),
    ("指标12-情况说明-修改稿2", ["12"]),
    ("指标12 v2", ["12"]),
    ("指标12(第2版)", ["12"]),
    ("附件1：指标12情况说明", ["12"]),
    ("二级指标7中的指标12", ["12"]),
    ("指标12;指标13无材料", ["12"]),
    ("非涉密 指标12", ["12"]),
    ("指标12-1", ["12"]),
]

# subjects that reference no indicator at all
NOT_REFERENCES = [
    "关于报送法治政府建设材料的函",
    "情况说明1",  # a file's own numbering glued to a word is not an indicator
    "支队材料共3",
    "依法行政示范单位创建材料",
    "2019年以来本部门情况说明",
    "2020年度",
    "2021",
    "2019、2020年度考核等次",
    "500字以内",
    "40个学时",
    "100%",
    "95%",
    "7个工作日",
    "10月28日前报送",
    "10.28",
    "2021-10-20",
    "2021.10.20",
    "20211020",
    "13838912345",
    "0391-3921234",
    "联系电话：3921234",
    "v2",
    "V3",
    "第2版",
    "修改稿2",
    "终稿3",
    "二级指标12",
    "二级指标第12项",
    "一级指标3",
    "附件1",
    "附件2-情况说明",
    "焦环〔2021〕12号",
    "豫环文[2020]33号",
    "28号前报送",
    "人民路12号",
    "第3条规定",
    "第2批",
    "第3期培训",
    "十三五规划",
    "指标一览表",
    "指标体系及责任分工",
    "14:30会议",
    "PM2.5",
    "ISO9001",
    "5G",
    "3.5万元",
    "共3项材料",
    "10-28",
    "12-30",
]

# subject -> problem-worthy numbers written explicitly but outside the checklist
OUT_OF_RANGE = [
    ("指标65", ["65"]),
    ("第0项", ["0"]),
    ("指标0", ["0"]),
    ("第61项", ["61"]),
    ("序号99", ["99"]),
    ("加分项3", ["加3"]),
    ("减分项5", ["减5"]),
    ("【88】", ["88"]),
    ("指标12、65", ["65"]),
    ("第六十五项", ["65"]),
]

# subject -> ids declared not applicable
DECLARATIONS = [
    ("指标13 无材料", ["13"]),
    ("指标13无材料", ["13"]),
    ("第45项本部门不涉及", ["45"]),
    ("人事科：指标5无需提供材料，指标45见附件", ["5"]),
    ("指标7、8均不涉及", ["7", "8"]),
    ("不涉及指标7、8", ["7", "8"]),
    ("指标22 无此项", ["22"]),
    ("指标40不适用", ["40"]),
    ("指标12：暂无材料", ["12"]),
    ("指标12;指标13无材料", ["13"]),
    ("无材料:指标41", ["41"]),
    ("序号45 我科不涉及", ["45"]),
    ("指标12材料", []),
    ("指标12 不涉密", []),
]


@pytest.mark.parametrize(("subject", "ids"), REFERENCES)
def test_references(subject: str, ids: list[str]) -> None:
    match = match_subject(subject)
    assert list(match.ids) == ids
    assert match.evidence >= Evidence.POSITIONAL


@pytest.mark.parametrize("subject", NOT_REFERENCES)
def test_not_references(subject: str) -> None:
    match = match_subject(subject)
    assert match.ids == ()
    assert match.evidence <= Evidence.WEAK
    assert match.out_of_range == ()


@pytest.mark.parametrize(("subject", "numbers"), OUT_OF_RANGE)
def test_out_of_range(subject: str, numbers: list[str]) -> None:
    assert list(match_subject(subject).out_of_range) == numbers


@pytest.mark.parametrize(("subject", "ids"), DECLARATIONS)
def test_declarations(subject: str, ids: list[str]) -> None:
    match = match_subject(subject)
    assert list(match.declarations) == ids
    assert not set(match.ids) & set(ids)


@pytest.mark.parametrize(
    ("subject", "evidence"),
    [
        ("指标12", Evidence.EXPLICIT),
        ("第12项", Evidence.EXPLICIT),
        ("12-涉企收费", Evidence.POSITIONAL),
        ("7,12,13", Evidence.POSITIONAL),
        ("情况说明12材料", Evidence.WEAK),
        ("关于报送材料的函", Evidence.NONE),
    ],
)
def test_evidence_strength(subject: str, evidence: Evidence) -> None:
    assert match_subject(subject).evidence == evidence


def test_stronger_evidence_hides_weaker_numbers() -> None:
    match = match_subject("指标12 情况说明3份附表5")
    assert match.ids == ("12",)


def test_weak_numbers_are_candidates_only() -> None:
    match = match_subject("情况说明12材料")
    assert match.ids == ()
    assert match.weaker == ("12",)


@pytest.mark.parametrize(
    ("subject", "marks"),
    [
        ("指标12涉密材料", ["涉密"]),
        ("指标12（秘密）", ["秘密"]),
        ("机密-指标12", ["机密"]),
        ("绝密文件", ["绝密"]),
        ("涉密（秘密级）材料", ["涉密", "秘密"]),
        ("保密工作情况说明", []),
        ("非涉密材料", []),
        ("不涉密", []),
        ("指标12", []),
    ],
)
def test_classification_marks(subject: str, marks: list[str]) -> None:
    assert list(match_subject(subject).classified) == marks
