"""Lateness (迟报): arrival against the end of the deadline day in the campaign's time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from rules.lateness import Delivery, deadline_end, is_late, item_lateness, late_text, lateness

BEIJING = ZoneInfo("Asia/Shanghai")
URUMQI = ZoneInfo("Asia/Urumqi")  # UTC+6: the same instant is another local day
DEADLINE = date(2021, 10, 28)


def bj(*args: int) -> datetime:
    return datetime(*args, tzinfo=BEIJING)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("arrived", "tz", "late"),
    [
        (bj(2021, 10, 20, 9, 30), BEIJING, None),
        (bj(2021, 10, 28, 0, 0), BEIJING, None),
        (bj(2021, 10, 28, 17, 59), BEIJING, None),
        (bj(2021, 10, 28, 23, 59, 59), BEIJING, None),
        (bj(2021, 10, 29, 0, 0), BEIJING, timedelta(0)),  # the first late instant
        # 00:30 the day after, Beijing time: still 10-28 in UTC (16:30), but late.
        (datetime(2021, 10, 28, 16, 30, tzinfo=UTC), BEIJING, timedelta(minutes=30)),
        (bj(2021, 10, 29, 0, 30), BEIJING, timedelta(minutes=30)),
        (bj(2021, 10, 30, 11, 0), BEIJING, timedelta(days=1, hours=11)),
        # 15:59 UTC on 10-28 is 23:59 in Beijing: on time.
        (datetime(2021, 10, 28, 15, 59, tzinfo=UTC), BEIJING, None),
        # The campaign's own zone decides: 00:30 Beijing is 22:30 the deadline day in Urumqi.
        (bj(2021, 10, 29, 0, 30), URUMQI, None),
        (datetime(2021, 10, 28, 18, 5, tzinfo=UTC), URUMQI, timedelta(minutes=5)),
    ],
)
def test_lateness_table(arrived: datetime, tz: ZoneInfo, late: timedelta | None) -> None:
    assert lateness(arrived, DEADLINE, tz) == late
    assert is_late(arrived, DEADLINE, tz) is (late is not None)


def test_deadline_end_is_local_midnight_after_the_deadline_day() -> None:
    end = deadline_end(DEADLINE, BEIJING)
    assert end == datetime(2021, 10, 28, 16, 0, tzinfo=UTC)
    assert end.astimezone(BEIJING).date() == date(2021, 10, 29)


def test_naive_arrival_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        lateness(datetime(2021, 10, 29, 1, 0), DEADLINE, BEIJING)


ON_TIME = bj(2021, 10, 27, 10, 0)
LATE = bj(2021, 10, 29, 9, 0)
LATER = bj(2021, 10, 31, 9, 0)


def d(name: str, arrived: datetime, current: bool = True, assigned: datetime | None = None) -> Delivery:
    return Delivery(name, arrived, current, assigned or arrived)


@pytest.mark.parametrize(
    ("case", "deliveries", "returned_at", "late"),
    [
        ("nothing", [], None, None),
        ("only replaced versions", [d("a.pdf", LATE, current=False)], None, None),
        ("one on-time file", [d("a.pdf", ON_TIME)], None, None),
        ("one late file", [d("a.pdf", LATE)], None, timedelta(hours=9)),
        ("late plus another on-time file", [d("a.pdf", ON_TIME), d("b.pdf", LATE)], None, None),
        ("two late files: the earliest counts", [d("b.pdf", LATER), d("a.pdf", LATE)], None, timedelta(hours=9)),
        (
            "corrected after the deadline: the on-time version covers it",
            [d("a.pdf", ON_TIME, current=False), d("a.pdf", LATE)],
            None,
            None,
        ),
        (
            "an on-time file of another name that was replaced does not cover",
            [d("old.pdf", ON_TIME, current=False), d("new.pdf", LATE)],
            None,
            timedelta(hours=9),
        ),
        (
            "returned after the deadline and re-sent late",
            [d("a.pdf", ON_TIME, current=False), d("a.pdf", LATER)],
            bj(2021, 10, 30, 8, 0),
            timedelta(days=2, hours=9),
        ),
        (
            "returned before the deadline and re-sent on time",
            [d("a.pdf", bj(2021, 10, 20, 8, 0), current=False), d("a.pdf", ON_TIME)],
            bj(2021, 10, 25, 8, 0),
            None,
        ),
        (
            "file arrived on time, assigned by hand after a return: still on time",
            [d("a.pdf", ON_TIME, assigned=bj(2021, 10, 30, 12, 0))],
            bj(2021, 10, 30, 8, 0),
            None,
        ),
    ],
)
def test_item_lateness_table(
    case: str, deliveries: list[Delivery], returned_at: datetime | None, late: timedelta | None
) -> None:
    assert item_lateness(deliveries, DEADLINE, BEIJING, returned_at=returned_at) == late, case


@pytest.mark.parametrize(
    ("late", "text"),
    [
        (timedelta(0), "晚 1 分钟"),
        (timedelta(seconds=59), "晚 1 分钟"),
        (timedelta(minutes=30), "晚 30 分钟"),
        (timedelta(hours=5, minutes=59), "晚 5 小时"),
        (timedelta(days=1), "晚 1 天"),
        (timedelta(days=2, hours=3, minutes=10), "晚 2 天 3 小时"),
    ],
)
def test_late_text(late: timedelta, text: str) -> None:
    assert late_text(late) == text
