"""Names the coordinator types: suggestions, id forms, the id range, the percent rule, and the mail
command the digest prints for each kind of review item and problem."""

from __future__ import annotations

import pytest

from bot.coordinator.refs import ActionError, Ref, is_ref, parse_ids, parse_ref
from bot.outgoing.digest_context import ProgressLine
from rules import codes
from rules.catalogue import load_catalogue
from rules.commands import problem_command, resolving_command
from rules.progress import Tally, percent
from rules.suggest import closest, id_range, section_name, unknown_indicator, unknown_word

CAT = load_catalogue()
SECTIONS = CAT.sections  # 服务科、人事科、财审科、支队、法规科、办公室、综合科、宣教科


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("办公司", "办公室"),  # the typo of issue 14
        ("办公", "办公室"),
        ("支對", "支队"),  # traditional 對 for 队
        ("支队 ", "支队"),
        ("法规", "法规科"),
        ("财审", "财审科"),
        ("人事处", "人事科"),
        ("综合处", "综合科"),
        ("宣传科", "宣教科"),
        ("服务科", "服务科"),
    ],
)
def test_closest_section(typed: str, meant: str) -> None:
    assert closest(typed, SECTIONS) == meant


@pytest.mark.parametrize("typed", ["信息科", "后勤", "大气环境科", "x", "12"])
def test_nothing_close_is_not_guessed(typed: str) -> None:
    assert closest(typed, SECTIONS) is None


def test_section_name_folds_width_and_explains() -> None:
    assert section_name("支队", SECTIONS) == "支队"
    with pytest.raises(ValueError, match="没有科室“办公司”，是指“办公室”吗？可用的科室：服务科、人事科"):
        section_name("办公司", SECTIONS)
    with pytest.raises(ValueError) as err:
        section_name("信息科", SECTIONS)
    assert "是指" not in str(err.value) and "可用的科室" in str(err.value)


def test_id_range_of_the_checklist() -> None:
    assert id_range(CAT) == "1–60、加分项1–2、减分项1–2"
    assert unknown_indicator("61", CAT) == (
        "没有指标“61”：指标编号为 1–60、加分项1–2、减分项1–2（可写 12、指标12、第十二项、加分项1）"
    )


@pytest.mark.parametrize(
    ("word", "says"),
    [
        ("办公司", "是指科室“办公室”吗？"),
        ("第61项x", "指标编号为 1–60"),
        ("全部", "无法识别“全部”"),
    ],
)
def test_unknown_word(word: str, says: str) -> None:
    assert says in unknown_word(word, CAT, SECTIONS)


@pytest.mark.parametrize(
    ("text", "ref"),
    [
        ("R12", Ref("review", "12")),
        ("r12", Ref("review", "12")),
        ("#12", Ref("review", "12")),
        ("Ｒ１２", Ref("review", "12")),  # full-width, as a Chinese IME types it
        ("A34", Ref("file", "34")),
        ("a34", Ref("file", "34")),
        ("3fa2", Ref("sha", "3fa2")),
        ("3FA2C9", Ref("sha", "3fa2c9")),
        (
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            Ref("sha", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ),
    ],
)
def test_ref_forms(text: str, ref: Ref) -> None:
    assert parse_ref(text) == ref
    assert is_ref(text)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("2", "编号“2”不明确：待办请写 R2，文件请写 A2"),  # it once silently meant R2
        ("12", "不明确"),
        ("3fa", "太短：至少写4位"),
        ("xyz", "编号“xyz”无效：待办写作 R12，文件写作 A34"),
        ("R", "无效"),
        ("A3.4", "无效"),
    ],
)
def test_bad_refs_say_what_is_expected(text: str, says: str) -> None:
    with pytest.raises(ActionError, match=says):
        parse_ref(text)


@pytest.mark.parametrize("word", ["12", "指标12", "第十二项", "加分项1", "减2"])
def test_indicator_words_are_not_refs(word: str) -> None:
    assert not is_ref(word)


@pytest.mark.parametrize(
    ("words", "ids"),
    [
        (["12"], ["12"]),
        (["指标12", "13"], ["12", "13"]),
        (["第十二项"], ["12"]),
        (["12、13"], ["12", "13"]),
        (["加分项1"], ["加1"]),
        (["减2"], ["减2"]),
        (["１２"], ["12"]),
    ],
)
def test_parse_ids(words: list[str], ids: list[str]) -> None:
    assert parse_ids(words, CAT) == ids


@pytest.mark.parametrize(("words", "bad"), [(["61"], "61"), (["加分项3"], "加分项3"), (["全部"], "全部"), (["0"], "0")])
def test_parse_ids_gives_the_range(words: list[str], bad: str) -> None:
    with pytest.raises(ActionError, match=f"没有指标“{bad}”：指标编号为 1–60"):
        parse_ids(words, CAT)


@pytest.mark.parametrize(
    ("done", "total", "expected"),
    [(14, 57, 24), (0, 57, 0), (57, 57, 100), (56, 57, 98), (1, 3, 33), (2, 3, 66), (1, 200, 0), (0, 0, 100)],
)
def test_one_rounding_rule_for_status_and_the_digest(done: int, total: int, expected: int) -> None:
    """14/57 was 25% in `intake status` (rounded) and 24% in the digest (floored)."""
    assert percent(done, total) == expected
    assert Tally(total, done).percent == expected == ProgressLine("x", done, total).percent


@pytest.mark.parametrize(
    ("reason", "kw", "command"),
    [
        (codes.UNKNOWN_SENDER, {"indicators": ["50"], "sections": ["办公室"], "files": 1}, "指派 R1 办公室 50"),
        (
            codes.UNKNOWN_SENDER,
            {"indicators": ["24", "26"], "sections": ["支队", "支队"], "files": 1},
            "指派 R1 支队 24 26",
        ),
        (codes.UNKNOWN_SENDER, {"indicators": ["24", "26"], "sections": ["支队", "支队"], "files": 2}, "指派 R1 支队"),
        (codes.UNKNOWN_SENDER, {"indicators": ["11"], "sections": ["法规科", "服务科"], "files": 1}, "指派 R1 科室 11"),
        (codes.UNKNOWN_SENDER, {}, "指派 R1 科室"),
        (codes.NEEDS_REVIEW, {"indicators": ["27", "28"]}, "指派 R1 27"),
        (codes.NEEDS_REVIEW, {}, "指派 R1 指标编号"),
        (codes.NO_MATERIAL, {}, "关闭 R1 原因：已处理"),
        (codes.UNPARSEABLE, {}, "关闭 R1 原因：已处理"),
        (
            codes.POSSIBLY_CLASSIFIED,
            {"file_id": 9},
            "退回 A9 原因：疑似涉密，涉密材料不通过邮件报送，请在实地核验时提供",
        ),
        (codes.COMMAND_REFUSED, {}, "关闭 R1 原因：已处理"),
    ],
)
def test_the_command_that_resolves_a_review_item(reason: str, kw: dict, command: str) -> None:  # type: ignore[type-arg]
    assert resolving_command(reason, 1, **kw) == command


@pytest.mark.parametrize(
    ("code", "owners", "command"),
    [
        (codes.OVER_WORD_LIMIT, ["支队"], "退回 A5 原因：情况说明超过字数要求，请精简后重新报送"),
        (codes.WORD_COUNT_UNKNOWN, ["支队"], "确认 指标12 法规科"),
        (codes.POSSIBLY_CLASSIFIED, ["支队"], "退回 A5 原因：疑似涉密，涉密材料不通过邮件报送，请在实地核验时提供"),
        (codes.NOT_OWNER, ["支队"], "指派 A5 支队 12"),  # count it for the section that owes it
        (codes.NOT_OWNER, ["支队", "法规科"], "确认 指标12 法规科"),
    ],
)
def test_the_command_for_a_content_problem(code: str, owners: list[str], command: str) -> None:
    assert problem_command(code, 5, "12", "法规科", owners) == command
