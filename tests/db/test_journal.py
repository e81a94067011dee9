"""The action log and undo on both backends: every change restored exactly, conflicts refused whole."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.coordinator.actions import ActionError, Actor, accept, assign, declare, return_, undo_action
from bot.coordinator.status import take_snapshot
from db.models import Acceptance, ActionLog, Assignment, Declaration, ReturnRecord
from rules.catalogue import load_catalogue
from rules.progress import State
from tests.db import factories

CAT = load_catalogue()
ME = Actor("cli", "tester")


def state(s: Session, indicator: str, section: str) -> State:
    item = next(p for p in take_snapshot(s, CAT).items if p.indicator.id == indicator)
    return next(o.state for o in item.owners if o.section == section)


def rows(s: Session) -> tuple[object, ...]:
    """Everything an action may touch, as plain values."""
    return (
        sorted((a.id, a.indicator_id, a.section, a.version, a.is_current) for a in s.scalars(select(Assignment))),
        sorted((a.indicator_id, a.section, a.source) for a in s.scalars(select(Acceptance))),
        sorted((r.indicator_id, r.section) for r in s.scalars(select(ReturnRecord))),
        sorted((d.indicator_id, d.section) for d in s.scalars(select(Declaration))),
    )


def test_undo_restores_exactly_and_refuses_when_a_later_action_is_in_the_way(
    migrated_session: sessionmaker[Session],
) -> None:
    with migrated_session.begin() as s:
        submission = factories.mail(section="支队", from_addr="zhidui@example.com")
        file = factories.attachment(s, submission, "statement", filename="清理情况说明.docx")
        s.add(factories.assignment(file, "12", "支队"))
    with migrated_session.begin() as s:
        start = rows(s)
        accepted = accept(s, CAT, ["12"], section="支队", actor=ME).log_id
        after_accept = rows(s)
        returned = return_(s, CAT, [], ["12"], reason="缺少盖章页", section="支队", actor=ME).log_id
        assert state(s, "12", "支队") is State.OUTSTANDING

    # The return took the acceptance away: the accept cannot be undone before the return is.
    refused = pytest.raises(ActionError, match=f"已被后来的操作 {returned}.*请先撤销操作 {returned}")
    with migrated_session.begin() as s, refused:
        undo_action(s, str(accepted), actor=ME)
    with migrated_session.begin() as s:
        assert s.get_one(ActionLog, accepted).undone_at is None  # a refused undo changes nothing
        undo_action(s, str(returned), actor=ME)
        assert rows(s) == after_accept and state(s, "12", "支队") is State.ACCEPTED
        undo_action(s, f"#{accepted}", actor=ME)
        assert rows(s) == start and state(s, "12", "支队") is State.RECEIVED

    with migrated_session.begin() as s:
        with pytest.raises(ActionError, match="本身是一次撤销"):
            undo_action(s, str(returned + 1), actor=ME)
        with pytest.raises(ActionError, match="没有编号为 999 的操作"):
            undo_action(s, "999", actor=ME)


def test_a_new_version_after_an_assignment_blocks_its_undo(migrated_session: sessionmaker[Session]) -> None:
    """Undoing an assignment that a newer file has replaced would resurrect the old version."""
    with migrated_session.begin() as s:
        submission = factories.mail(section="支队", from_addr="zhidui@example.com")
        first = factories.attachment(s, submission, "v1", filename="工作材料.docx")
        second = factories.attachment(s, factories.mail(section="支队"), "v2", filename="工作材料（修改稿）.docx")
        s.flush()
        first_id, second_id = first.id, second.id
    with migrated_session.begin() as s:
        log_id = assign(s, CAT, f"A{first_id}", ["24"], actor=ME).log_id
        assign(s, CAT, f"A{second_id}", ["24"], actor=ME)  # version 2 replaces it
    with migrated_session.begin() as s, pytest.raises(ActionError, match="请先撤销操作"):
        undo_action(s, str(log_id), actor=ME)


def test_declare_and_its_undo(migrated_session: sessionmaker[Session]) -> None:
    with migrated_session.begin() as s:
        log_id = declare(s, CAT, ["45"], section="人事科", actor=ME).log_id
        assert state(s, "45", "人事科") is State.NOT_APPLICABLE
        with pytest.raises(ActionError, match="没有科室“人事处”，是指“人事科”吗？"):
            declare(s, CAT, ["45"], section="人事处", actor=ME)
    with migrated_session.begin() as s:
        text = undo_action(s, str(log_id), actor=ME).text
        assert "指标45（人事科）不涉及声明：有 → 无" in text
        assert state(s, "45", "人事科") is State.OUTSTANDING
