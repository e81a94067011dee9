"""Where every indicator stands, per responsible section: pure, from what has been recorded.

Used by ``intake status``, reminders (what a section still owes), the digest and the export.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from enum import StrEnum

from rules.catalogue import Catalogue, Indicator


class State(StrEnum):
    OUTSTANDING = "outstanding"
    RECEIVED = "received"
    ACCEPTED = "accepted"  # received and checked by the coordinator (确认)
    NOT_APPLICABLE = "not_applicable"
    NOT_REQUIRED = "not_required"


STATE_LABELS = {
    State.OUTSTANDING: "待报送",
    State.RECEIVED: "已报送",
    State.ACCEPTED: "已确认",
    State.NOT_APPLICABLE: "不涉及",
    State.NOT_REQUIRED: "无需材料",
}


@dataclass(frozen=True)
class OwnerState:
    section: str
    state: State


@dataclass(frozen=True)
class IndicatorProgress:
    indicator: Indicator
    state: State
    owners: tuple[OwnerState, ...]


def owner_state(
    indicator: Indicator,
    section: str,
    received: Collection[tuple[str, str]],
    declared: Collection[tuple[str, str]],
    returned: Collection[tuple[str, str]] = (),
    accepted: Collection[tuple[str, str]] = (),
) -> State:
    """``received``/``declared``/``returned``/``accepted`` hold (indicator id, section) pairs. A
    returned item is owed again until something new arrives (the caller leaves it out of
    ``returned`` then); an accepted one is received and checked by the coordinator."""
    if indicator.no_materials_needed:
        return State.NOT_REQUIRED
    key = (indicator.id, section)
    if key in received and key not in returned:
        return State.ACCEPTED if key in accepted else State.RECEIVED
    if key in declared:
        return State.NOT_APPLICABLE
    return State.OUTSTANDING


def overall(states: Iterable[State]) -> State:
    states = list(states)
    if not states or all(s is State.NOT_REQUIRED for s in states):
        return State.NOT_REQUIRED
    if any(s is State.OUTSTANDING for s in states):
        return State.OUTSTANDING
    if all(s is State.NOT_APPLICABLE for s in states):
        return State.NOT_APPLICABLE
    if all(s in (State.ACCEPTED, State.NOT_APPLICABLE, State.NOT_REQUIRED) for s in states):
        return State.ACCEPTED
    return State.RECEIVED


def progress(
    catalogue: Catalogue,
    received: Collection[tuple[str, str]],
    declared: Collection[tuple[str, str]],
    returned: Collection[tuple[str, str]] = (),
    accepted: Collection[tuple[str, str]] = (),
) -> list[IndicatorProgress]:
    result = []
    for ind in catalogue:
        owners = tuple(
            OwnerState(o.section, owner_state(ind, o.section, received, declared, returned, accepted))
            for o in ind.owners
        )
        result.append(IndicatorProgress(ind, overall(o.state for o in owners), owners))
    return result


def outstanding_for(section: str, items: Iterable[IndicatorProgress]) -> list[Indicator]:
    """What ``section`` still owes, in checklist order."""
    return [p.indicator for p in items for o in p.owners if o.section == section and o.state is State.OUTSTANDING]


def percent(done: int, total: int) -> int:
    """Whole percent, rounded down, so that 100 means everything is in (14/57 is 24%, never 25%).

    The one rounding rule of ``intake status``, the digest and every progress bar. Nothing owed is
    complete (100)."""
    return 100 if total <= 0 else (100 * done) // total


@dataclass(frozen=True)
class Tally:
    total: int  # items that need material (owner slots)
    done: int  # received (or accepted) or declared not applicable

    @property
    def percent(self) -> int:
        return percent(self.done, self.total)


def tally(items: Iterable[IndicatorProgress], *, section: str | None = None, level1: str | None = None) -> Tally:
    """Count owner slots that need material, and those settled, optionally for one section or heading."""
    total = done = 0
    for p in items:
        if level1 is not None and p.indicator.level1 != level1:
            continue
        for o in p.owners:
            if section is not None and o.section != section:
                continue
            if o.state is State.NOT_REQUIRED:
                continue
            total += 1
            done += o.state in (State.RECEIVED, State.ACCEPTED, State.NOT_APPLICABLE)
    return Tally(total, done)
