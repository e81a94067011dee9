"""Progress per indicator and section, from recorded files and declarations."""

from __future__ import annotations

import pytest

from rules.catalogue import load_catalogue
from rules.progress import State, outstanding_for, overall, progress, tally

CAT = load_catalogue()


def states(received=(), declared=(), returned=()):
    return {p.indicator.id: p for p in progress(CAT, set(received), set(declared), set(returned))}


def test_nothing_recorded_everything_with_materials_is_outstanding() -> None:
    st = states()
    assert st["1"].state is State.OUTSTANDING
    assert st["5"].state is State.NOT_REQUIRED  # 不需提供材料
    assert st["减2"].state is State.NOT_REQUIRED


def test_two_owner_item_needs_both_sections() -> None:
    st = states(received={("37", "法规科")})
    assert st["37"].state is State.OUTSTANDING
    assert [(o.section, o.state) for o in st["37"].owners] == [
        ("法规科", State.RECEIVED),
        ("支队", State.OUTSTANDING),
    ]
    st = states(received={("37", "法规科")}, declared={("37", "支队")})
    assert st["37"].state is State.RECEIVED


def test_declared_everywhere_is_not_applicable_and_returned_is_owed_again() -> None:
    assert states(declared={("1", "服务科")})["1"].state is State.NOT_APPLICABLE
    st = states(received={("1", "服务科")}, returned={("1", "服务科")})
    assert st["1"].state is State.OUTSTANDING


def test_file_from_a_non_owner_does_not_settle_the_item() -> None:
    assert states(received={("1", "支队")})["1"].state is State.OUTSTANDING


def test_outstanding_for_section_in_checklist_order() -> None:
    items = progress(CAT, {("6", "财审科")}, {("46", "财审科")})
    assert [i.id for i in outstanding_for("财审科", items)] == ["33", "45"]
    assert [i.id for i in outstanding_for("人事科", items)] == ["45"]  # 5 needs no material


def test_tally_counts_owner_slots() -> None:
    items = progress(CAT, {("6", "财审科"), ("33", "财审科")}, {("46", "财审科")})
    t = tally(items, section="财审科")
    assert (t.total, t.done, t.percent) == (4, 3, 75)
    whole = tally(items)
    assert whole.total == sum(len(i.owners) for i in CAT if not i.no_materials_needed)
    assert tally(items, level1="十一、附加项").total == 2


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ([], State.NOT_REQUIRED),
        ([State.RECEIVED, State.NOT_APPLICABLE], State.RECEIVED),
        ([State.RECEIVED, State.OUTSTANDING], State.OUTSTANDING),
        ([State.NOT_APPLICABLE, State.NOT_APPLICABLE], State.NOT_APPLICABLE),
    ],
)
def test_overall(given: list[State], expected: State) -> None:
    assert overall(given) is expected
