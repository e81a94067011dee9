"""match_filename: what an attachment's name says about its indicator."""

from __future__ import annotations

import pytest

from rules.match import Evidence, match_filename

# file name -> (ids, evidence)
FILENAMES = [
    ("30.2020年以来本部门对行政执法检查的监督情况.docx", ["30"], Evidence.POSITIONAL),
    ("12-清理情况.docx", ["12"], Evidence.POSITIONAL),
    ("（37）行政调解.docx", ["37"], Evidence.POSITIONAL),
    ("(37)行政调解.docx", ["37"], Evidence.POSITIONAL),
    ("【12】涉企收费.docx", ["12"], Evidence.EXPLICIT),
    ("指标12-涉企收费清理情况说明.docx", ["12"], Evidence.EXPLICIT),
    ("指标１２.docx", ["12"], Evidence.EXPLICIT),
    ("第12项-情况说明.doc", ["12"], Evidence.EXPLICIT),
    ("序号8 失信惩戒.pdf", ["8"], Evidence.EXPLICIT),
    ("12号.docx", ["12"], Evidence.EXPLICIT),
    ("12.docx", ["12"], Evidence.POSITIONAL),
    ("12、13-情况说明.docx", ["12", "13"], Evidence.POSITIONAL),
    ("24-26.docx", ["24", "25", "26"], Evidence.POSITIONAL),
    ("1.情况说明.docx", ["1"], Evidence.POSITIONAL),
    ("(1)依法行政.docx", ["1"], Evidence.POSITIONAL),
    ("12涉企收费清理.docx", ["12"], Evidence.POSITIONAL),
    ("12 涉企收费清理.docx", ["12"], Evidence.POSITIONAL),
    ("12_涉企收费清理.docx", ["12"], Evidence.POSITIONAL),
    ("12、涉企收费清理.docx", ["12"], Evidence.POSITIONAL),
    ("１２．涉企收费清理.docx", ["12"], Evidence.POSITIONAL),
    ("法规科-9-公平竞争审查目录.xlsx", ["9"], Evidence.POSITIONAL),
    ("指标12-情况说明(2).docx", ["12"], Evidence.EXPLICIT),
    ("指标12-情况说明 - 副本.docx", ["12"], Evidence.EXPLICIT),
    ("加分项1-表彰证书.pdf", ["加1"], Evidence.EXPLICIT),
    ("减分项2说明.docx", ["减2"], Evidence.EXPLICIT),
    ("指标12涉企收费v2.docx", ["12"], Evidence.EXPLICIT),
    ("指标12修改稿2.docx", ["12"], Evidence.EXPLICIT),
    ("52.2020年度普法责任制落实情况（1000字）.docx", ["52"], Evidence.POSITIONAL),
    ("54.2020年10月领导干部学法.jpg", ["54"], Evidence.POSITIONAL),
    ("指标7.docx.pdf", ["7"], Evidence.EXPLICIT),
    ("指标59考核等次说明.ofd", ["59"], Evidence.EXPLICIT),
    ("37 行政调解统计分析及相关材料.wps", ["37"], Evidence.POSITIONAL),
]

# file names that carry no indicator number an assignment could rest on
NO_NUMBER = [
    "材料(1).docx",
    "新建 Microsoft Word 文档 (2).docx",
    "情况说明 - 副本.docx",
    "附件1.docx",
    "附件2-情况说明.doc",
    "2020年度情况说明.pdf",
    "2019年以来本部门取消非行政许可审批事项的情况说明.docx",
    "12.1涉企收费清单.docx",
    "涉企收费清理情况说明v2.docx",
    "第2版情况说明.docx",
    "10月28日报送.docx",
    "2021-10-20会议纪要.pdf",
    "20211020.pdf",
    "IMG_20211020_093015.jpg",
    "微信图片_20211020093015.jpg",
    "扫描件001.pdf",
    "[扫描件]001.pdf",  # zero-padded sequence numbers are a scanner's or a copy's, never an item
    "IMG_001.jpg",
    "2.12：10字.docx",
    "DSC0012.JPG",
    "焦环〔2021〕12号.pdf",
    "二级指标12.docx",
    "培训40个学时.docx",
    "考试合格率100%.xlsx",
    "情况说明.docx",
    "winmail.dat",
    "二〇二一年工作安排.docx",
]


@pytest.mark.parametrize(("name", "ids", "evidence"), FILENAMES)
def test_filename_numbers(name: str, ids: list[str], evidence: Evidence) -> None:
    match = match_filename(name)
    assert list(match.ids) == ids
    assert match.evidence == evidence


@pytest.mark.parametrize("name", NO_NUMBER)
def test_filename_without_number(name: str) -> None:
    match = match_filename(name)
    assert match.ids == ()
    assert match.evidence <= Evidence.WEAK


@pytest.mark.parametrize(
    ("name", "copy_mark", "weaker", "mark"),
    [
        ("材料(1).docx", True, ["1"], None),
        ("清单 (1).xlsx", True, ["1"], None),
        ("情况说明 - 副本.docx", True, [], None),
        ("情况说明 - 副本 (2).docx", True, [], None),
        ("指标12-情况说明(3).docx", True, ["3"], None),
        ("（37）行政调解.docx", False, [], None),
        ("情况说明.docx", False, [], None),
        # full-width at the very end: a person wrote it; a candidate that needs the words to agree
        ("材料（2）.docx", False, ["2"], "2"),
        ("证明事项告知承诺制清单截图（4）.png", False, ["4"], "4"),
        ("证明事项告知承诺制清单截图（４）.png", False, ["4"], "4"),
        ("证明事项告知承诺制清单截图（ 4 ）.png", False, ["4"], "4"),
        ("证明事项告知承诺制清单截图（四）.png", False, [], None),  # not a copy mark form either
        ("证明事项告知承诺制清单截图（4）(1).png", True, ["1"], None),  # Explorer's copy: (4) is mid-name
        ("证明事项告知承诺制清单截图（65）.png", True, [], None),
    ],
)
def test_copy_marks_are_never_evidence(name: str, copy_mark: bool, weaker: list[str], mark: str | None) -> None:
    match = match_filename(name)
    assert match.copy_mark is copy_mark
    assert list(match.weaker) == weaker
    assert match.mark == mark


@pytest.mark.parametrize(
    ("name", "numbers"),
    [("指标65.docx", ["65"]), ("第0项.docx", ["0"]), ("加分项3.pdf", ["加3"]), ("65.情况说明.docx", [])],
)
def test_filename_out_of_range(name: str, numbers: list[str]) -> None:
    assert list(match_filename(name).out_of_range) == numbers


@pytest.mark.parametrize(
    ("name", "marks"),
    [
        ("秘密-指标12.docx", ["秘密"]),
        ("涉密（秘密级）指标12.docx", ["涉密", "秘密"]),
        ("机密文件.pdf", ["机密"]),
        ("保密工作情况说明.docx", []),
        ("非涉密-指标12.docx", []),
    ],
)
def test_filename_classification_marks(name: str, marks: list[str]) -> None:
    assert list(match_filename(name).classified) == marks
