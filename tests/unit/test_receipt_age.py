"""Backlog: mail older than [receipts] max_age_hours is recorded, not answered (rules.receipting)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from rules.receipting import too_old_to_answer

NOW = datetime(2021, 10, 25, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("age", "hours", "old"),
    [
        (timedelta(minutes=5), 72, False),
        (timedelta(hours=72), 72, False),  # exactly the limit: still answered
        (timedelta(hours=72, seconds=1), 72, True),
        (timedelta(days=30), 72, True),  # weeks of mail in a mailbox intake is pointed at for the first time
        (timedelta(days=2), 24, True),
        (timedelta(days=29), 720, False),
        (-timedelta(minutes=3), 72, False),  # the server's clock a little ahead of ours
    ],
)
def test_too_old_to_answer(age: timedelta, hours: int, old: bool) -> None:
    assert too_old_to_answer(NOW - age, NOW, hours) is old
