"""rules.disposition: the version rule and what a submission's rows say, as pure functions."""

from __future__ import annotations

import pytest

from rules import codes
from rules.catalogue import load_catalogue
from rules.decision import AttachmentDecision, Decision, Problem
from rules.disposition import PriorVersion, disposition, name_key, next_version
from rules.material import NotMaterial

CATALOGUE = load_catalogue()


@pytest.mark.parametrize(
    ("filename", "key"),
    [
        ("情况说明.docx", "情况说明.docx"),
        ("情况说明(1).docx", "情况说明.docx"),  # Windows copy mark
        ("情况说明（1）.docx", "情况说明.docx"),
        ("情况说明 (2).DOCX", "情况说明.docx"),  # case folds, space before the mark goes
        ("情况说明-修改稿.docx", "情况说明.docx"),
        ("情况说明（修改稿）.docx", "情况说明.docx"),
        ("情况说明_最终版.docx", "情况说明.docx"),
        ("情况说明v2.docx", "情况说明.docx"),
        ("情况说明【更正】.docx", "情况说明.docx"),
        ("情况说明（修改）(1).docx", "情况说明.docx"),  # marks stack
        ("ＡＢＣ情况说明.docx", "abc情况说明.docx"),  # NFKC
        ("情况 说明.docx", "情况说明.docx"),
        ("台账.xlsx", "台账.xlsx"),
        ("修改稿.docx", "修改稿.docx"),  # a mark alone is the name, not a mark
        ("README", "readme"),
        ("archive.tar.verylongext", "archive.tar.verylongext"),
    ],
)
def test_name_key(filename: str, key: str) -> None:
    assert name_key(filename) == key


@pytest.mark.parametrize(
    ("filename", "sha", "prior", "expected"),
    [
        # nothing yet: version 1
        ("说明.docx", "a", [], (1, None)),
        # the same content again, whatever its name: nothing to write
        ("说明(1).docx", "a", [PriorVersion("说明.docx", 1, "a")], (None, None)),
        ("别的名字.docx", "a", [PriorVersion("说明.docx", 1, "a")], (None, None)),
        # a corrected file under the same name (copy mark aside) replaces the latest version
        ("说明-修改稿.docx", "b", [PriorVersion("说明.docx", 1, "a")], (2, 1)),
        ("说明.docx", "c", [PriorVersion("说明.docx", 1, "a"), PriorVersion("说明.docx", 2, "b")], (3, 2)),
        # another name is another file of the item
        ("台账.xlsx", "b", [PriorVersion("说明.docx", 1, "a")], (1, None)),
        # an old replaced version's content sent again is still the same content
        ("说明.docx", "a", [PriorVersion("说明.docx", 1, "a"), PriorVersion("说明.docx", 2, "b")], (None, None)),
    ],
)
def test_next_version(
    filename: str, sha: str, prior: list[PriorVersion], expected: tuple[int | None, int | None]
) -> None:
    step = next_version(filename, sha, prior)
    assert (step.version, step.replaces) == expected
    assert step.name_key == name_key(filename)


def _file(name: str, *ids: str, review: bool = False, candidates: tuple[str, ...] = ()) -> AttachmentDecision:
    by, why = ("", "说不清") if review else ("filename", "")
    return AttachmentDecision(name, ids, review, candidates=candidates, matched_by=by, reason=why)


def test_placed_files_count_and_unplaced_ones_go_to_review() -> None:
    decision = Decision(("12",), (), (_file("12.docx", "12"), _file("杂项.pdf", review=True, candidates=("7", "12"))))
    plan = disposition(decision, "支队", CATALOGUE, from_addr="zd@x")
    assert [(a.file, a.indicator_id, a.matched_by) for a in plan.assignments] == [(0, "12", "filename")]
    assert [(r.reason, r.file, r.candidates, r.detail) for r in plan.reviews] == [
        (codes.NEEDS_REVIEW, 1, ("7", "12"), "说不清")
    ]
    assert plan.problems == ()


def test_one_file_for_several_items_counts_for_each() -> None:
    plan = disposition(Decision((), (), (_file("7、12.docx", "7", "12"),)), "支队", CATALOGUE, from_addr="zd@x")
    assert [(a.file, a.indicator_id) for a in plan.assignments] == [(0, "7"), (0, "12")]


def test_a_section_sending_for_an_item_it_does_not_own_is_recorded_and_reported() -> None:
    plan = disposition(Decision((), (), (_file("1.docx", "1"),)), "支队", CATALOGUE, from_addr="zd@x")
    assert [a.indicator_id for a in plan.assignments] == ["1"]
    assert [(p.code, p.file) for p in plan.problems] == [(codes.NOT_OWNER, 0)]
    assert "服务科" in plan.problems[0].detail and "支队" in plan.problems[0].detail


def test_item_owned_by_two_sections_is_owned_by_either() -> None:
    for section in ("法规科", "服务科"):
        plan = disposition(Decision((), (), (_file("11.docx", "11"),)), section, CATALOGUE, from_addr="x@x")
        assert plan.problems == ()


def test_unknown_sender_review_carries_the_declarations_and_records_none() -> None:
    decision = Decision(("13",), ("13",), ())
    plan = disposition(decision, None, CATALOGUE, from_addr="stranger@qq.com")
    assert plan.declarations == ()
    assert [(r.reason, r.candidates, r.file) for r in plan.reviews] == [(codes.UNKNOWN_SENDER, ("13",), None)]
    assert "stranger@qq.com" in plan.reviews[0].detail


def test_unknown_sender_files_are_still_placed_under_no_section() -> None:
    plan = disposition(Decision((), (), (_file("12.docx", "12"),)), None, CATALOGUE, from_addr="")
    assert [a.indicator_id for a in plan.assignments] == ["12"]
    assert plan.problems == ()  # ownership is the coordinator's question once she knows the sender
    assert "（无地址）" in plan.reviews[0].detail


@pytest.mark.parametrize(
    ("decision", "clouds", "empty"),
    [
        (Decision(("12",), (), ()), False, True),
        (Decision(("12",), (), ()), True, False),  # a 超大附件 link is material
        (Decision(("13",), ("13",), ()), False, False),  # a 无材料 declaration is the content
        (Decision(("12",), (), (_file("12.docx", "12"),)), False, False),
    ],
)
def test_a_submission_with_nothing_in_it_is_read_by_the_coordinator(
    decision: Decision, clouds: bool, empty: bool
) -> None:
    plan = disposition(decision, "支队", CATALOGUE, from_addr="zd@x", has_cloud_links=clouds)
    reasons = [r.reason for r in plan.reviews]
    assert (codes.NO_MATERIAL in reasons) is empty
    if empty:
        assert plan.reviews[0].candidates == ("12",)


def test_declarations_of_a_known_section_are_recorded() -> None:
    plan = disposition(Decision(("13",), ("13",), ()), "支队", CATALOGUE, from_addr="zd@x")
    assert plan.declarations == ("13",) and plan.reviews == ()


def test_matcher_problems_point_at_their_file() -> None:
    decision = Decision(
        (),
        (),
        (_file("a.docx", "12"), _file("b.docx", "12")),
        (Problem(codes.CONFLICTING_NUMBERS, "冲突", "b.docx"), Problem(codes.OUT_OF_RANGE, "主题编号65")),
    )
    plan = disposition(decision, "支队", CATALOGUE, from_addr="zd@x")
    assert [(p.code, p.file) for p in plan.problems] == [(codes.CONFLICTING_NUMBERS, 1), (codes.OUT_OF_RANGE, None)]


def test_files_that_are_not_material_are_reviewed_never_assigned() -> None:
    decision = Decision(
        ("26",),
        (),
        (_file("26-说明\u202ecod.exe", "26"), _file("26-台账.xlsx", "26"), _file("加密.zip", "26")),
        (Problem(codes.UNMATCHED_ATTACHMENT, "噪声", "26-说明\u202ecod.exe"),),
    )
    refused = {
        0: NotMaterial(codes.EXECUTABLE, "文件实际扩展名为 .exe"),
        2: NotMaterial(codes.CONTAINER_UNOPENED, "压缩包设有密码"),
    }
    plan = disposition(decision, "支队", CATALOGUE, from_addr="zd@x", not_material=refused)
    assert [(a.file, a.indicator_id) for a in plan.assignments] == [(1, "26")]
    assert [(r.reason, r.file) for r in plan.reviews] == [(codes.EXECUTABLE, 0), (codes.CONTAINER_UNOPENED, 2)]
    assert plan.problems == ()  # the matcher's words about the refused file add nothing


def test_a_sender_who_cannot_be_trusted_counts_for_no_section() -> None:
    decision = Decision(("24",), ("13",), (_file("24-移送清单.pdf", "24"),))
    plan = disposition(
        decision, None, CATALOGUE, from_addr="carol@example.test <evil@evil.example>", unverified="From 格式不规范"
    )
    assert [(a.indicator_id, a.file) for a in plan.assignments] == [("24", 0)]  # under no section
    assert plan.declarations == ()
    assert [(r.reason, r.candidates, r.file) for r in plan.reviews] == [(codes.SENDER_UNVERIFIED, ("13",), None)]
    assert "From 格式不规范" in plan.reviews[0].detail and "evil@evil.example" in plan.reviews[0].detail


def test_a_name_with_bidi_controls_is_reported_under_its_visible_name() -> None:
    plan = disposition(Decision((), (), (_file("12-说明\u202efdp.docx", "12"),)), "支队", CATALOGUE, from_addr="zd@x")
    assert [a.indicator_id for a in plan.assignments] == ["12"]
    assert [(p.code, p.file) for p in plan.problems] == [(codes.BIDI_IN_NAME, 0)]
    assert "12-说明fdp.docx" in plan.problems[0].detail and "\u202e" not in plan.problems[0].detail
