"""Reminder and digest slots: catch up once after downtime, never repeat, overdue cadence."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from rules.schedule import (
    days_left,
    due_digest_slot,
    due_reminder_slot,
    local_today,
    next_reminder_time,
    reminder_slot_on_or_before,
)

TZ = ZoneInfo("Asia/Shanghai")
DEADLINE = date(2025, 6, 30)
AT = time(9, 0)
DIGEST_AT = time(17, 30)


def at(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=TZ)


def due(now: datetime, last_done: date | None = None, *, every: int = 1, before: tuple[int, ...] = (7, 3, 1)) -> (
    date | None
):
    return due_reminder_slot(
        deadline=DEADLINE,
        days_before=before,
        overdue_every_days=every,
        at=AT,
        tz=TZ,
        last_done=last_done,
        now=now,
    )


@pytest.mark.parametrize(
    ("now", "last_done", "expected"),
    [
        # nothing due before the first slot, nor before its time of day
        (at(date(2025, 6, 22), 12), None, None),
        (at(date(2025, 6, 23), 8, 59), None, None),
        # the slots themselves, at their time
        (at(date(2025, 6, 23), 9), None, date(2025, 6, 23)),
        (at(date(2025, 6, 27), 9, 1), date(2025, 6, 23), date(2025, 6, 27)),
        (at(date(2025, 6, 29), 18), date(2025, 6, 27), date(2025, 6, 29)),
        # between slots: already done, nothing more
        (at(date(2025, 6, 25), 10), date(2025, 6, 23), None),
        (at(date(2025, 6, 29), 23, 59), date(2025, 6, 29), None),
        # the deadline day itself is not a slot with days_before (7, 3, 1)
        (at(date(2025, 6, 30), 9), date(2025, 6, 29), None),
        # overdue: every day after the deadline
        (at(date(2025, 7, 1), 9), date(2025, 6, 29), date(2025, 7, 1)),
        (at(date(2025, 7, 2), 8), date(2025, 7, 1), None),
        (at(date(2025, 7, 2), 9), date(2025, 7, 1), date(2025, 7, 2)),
    ],
)
def test_reminder_slots(now: datetime, last_done: date | None, expected: date | None) -> None:
    assert due(now, last_done) == expected


def test_restart_across_slots_catches_up_once_with_the_latest() -> None:
    # Down from 22 June to 28 June: the 23rd and 27th were missed; only the 27th is sent.
    now = at(date(2025, 6, 28), 7)
    assert due(now, date(2025, 6, 1)) == date(2025, 6, 27)
    # ... and once recorded, nothing again on the same day, even after another restart
    assert due(now + timedelta(hours=5), date(2025, 6, 27)) is None
    # the next regular slot still comes
    assert due(at(date(2025, 6, 29), 9), date(2025, 6, 27)) == date(2025, 6, 29)


def test_restart_on_the_same_slot_never_repeats() -> None:
    first = due(at(date(2025, 6, 27), 9, 5), date(2025, 6, 23))
    assert first == date(2025, 6, 27)
    for minutes in (6, 60, 600):
        assert due(at(date(2025, 6, 27), 9) + timedelta(minutes=minutes), first) is None


@pytest.mark.parametrize(
    ("every", "now", "expected"),
    [
        (3, at(date(2025, 7, 1), 10), date(2025, 6, 29)),  # the day before's slot, if not done
        (3, at(date(2025, 7, 3), 9), date(2025, 7, 3)),
        (3, at(date(2025, 7, 5), 9), date(2025, 7, 3)),
        (3, at(date(2025, 7, 6), 9), date(2025, 7, 6)),
        (2, at(date(2025, 7, 10), 8), date(2025, 7, 8)),
        (0, at(date(2025, 8, 1), 9), date(2025, 6, 29)),  # no overdue reminders at all
    ],
)
def test_overdue_cadence(every: int, now: datetime, expected: date) -> None:
    assert due(now, None, every=every) == expected
    assert due(now, expected, every=every) is None


def test_deadline_day_slot_when_configured() -> None:
    assert due(at(DEADLINE, 9), date(2025, 6, 29), before=(3, 1, 0)) == DEADLINE
    assert due(at(DEADLINE, 8), date(2025, 6, 29), before=(3, 1, 0)) is None


def test_timezone_decides_the_day() -> None:
    # 01:00 UTC on 23 June is 09:00 in Shanghai: the 7-days-before slot is due.
    now_utc = datetime(2025, 6, 23, 1, 0, tzinfo=ZoneInfo("UTC"))
    assert due(now_utc) == date(2025, 6, 23)
    assert due(now_utc - timedelta(minutes=1)) is None


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError):
        due(datetime(2025, 6, 23, 9, 0))


def test_negative_settings_are_refused() -> None:
    with pytest.raises(ValueError):
        reminder_slot_on_or_before(DEADLINE, deadline=DEADLINE, days_before=(-1,), overdue_every_days=1)
    with pytest.raises(ValueError):
        reminder_slot_on_or_before(DEADLINE, deadline=DEADLINE, days_before=(1,), overdue_every_days=-1)


@pytest.mark.parametrize(
    ("now", "last_done", "expected"),
    [
        (at(date(2025, 6, 20), 17, 29), date(2025, 6, 19), None),
        (at(date(2025, 6, 20), 17, 30), date(2025, 6, 19), date(2025, 6, 20)),
        (at(date(2025, 6, 20), 23), date(2025, 6, 20), None),
        (at(date(2025, 6, 21), 8), date(2025, 6, 20), None),
        # first run ever, in the morning: yesterday's digest is the latest whose time has come
        (at(date(2025, 6, 21), 8), None, date(2025, 6, 20)),
        # three days down: one digest, for the latest day
        (at(date(2025, 6, 24), 18), date(2025, 6, 20), date(2025, 6, 24)),
        (at(date(2025, 6, 24), 10), date(2025, 6, 20), date(2025, 6, 23)),
    ],
)
def test_digest_slots(now: datetime, last_done: date | None, expected: date | None) -> None:
    assert due_digest_slot(at=DIGEST_AT, tz=TZ, last_done=last_done, now=now) == expected


@pytest.mark.parametrize(
    ("deadline", "today", "expected"),
    [
        (date(2025, 6, 30), date(2025, 6, 23), 7),
        (date(2025, 6, 30), date(2025, 6, 30), 0),
        (date(2025, 6, 30), date(2025, 7, 2), -2),
        (date(2025, 3, 1), date(2024, 2, 28), 367),  # across a leap day
    ],
)
def test_days_left(deadline: date, today: date, expected: int) -> None:
    assert days_left(deadline, today) == expected


def test_local_today_uses_the_time_zone() -> None:
    late_utc = datetime(2025, 6, 29, 20, 0, tzinfo=ZoneInfo("UTC"))
    assert local_today(late_utc, TZ) == date(2025, 6, 30)


def _next(every: int, now: datetime) -> datetime | None:
    return next_reminder_time(
        deadline=DEADLINE, days_before=(7, 3, 1), overdue_every_days=every, at=AT, tz=TZ, now=now
    )


def test_next_reminder_time() -> None:
    assert _next(1, at(date(2025, 6, 23), 9)) == at(date(2025, 6, 27), 9)
    assert _next(2, at(date(2025, 6, 29), 10)) == at(date(2025, 7, 2), 9)
    assert _next(0, at(date(2025, 6, 29), 10)) is None


@pytest.mark.parametrize(
    ("every", "now", "expected"),
    [
        # after the first overdue interval the slots go on: 6-30 + 3 = 7-3, then 7-6, 7-9 ...
        (3, (date(2025, 7, 3), 10), date(2025, 7, 6)),
        (3, (date(2025, 7, 3), 8), date(2025, 7, 3)),  # the slot of today, before its hour
        (3, (date(2025, 9, 1), 10), date(2025, 9, 4)),  # weeks after the deadline (9-1 was one)
        (1, (date(2025, 8, 15), 10), date(2025, 8, 16)),
        (7, (date(2025, 7, 7), 10), date(2025, 7, 14)),
    ],
)
def test_next_reminder_time_keeps_going_after_the_deadline(
    every: int, now: tuple[date, int], expected: date
) -> None:
    when = _next(every, at(now[0], now[1]))
    assert when == at(expected, 9)
    # and it agrees with what the job will find due at that moment
    assert (
        due_reminder_slot(
            deadline=DEADLINE, days_before=(7, 3, 1), overdue_every_days=every, at=AT, tz=TZ,
            last_done=None, now=when,
        )
        == expected
    )  # fmt: skip
