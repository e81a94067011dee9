"""Who is late (迟报): pure, from arrival times (the server's INTERNALDATE) and the campaign deadline.

- ``deadline_end``: the deadline is a day in the campaign's time zone; material is on time until that
  day ends there (00:00 of the next day, local). A mail at 00:30 Beijing time on the day after is late,
  although it is still the deadline day in UTC.
- ``is_late`` / ``lateness``: one arrival against that instant. The Date header is what the sender's
  clock claimed and is never used: only the server's arrival time counts.
- ``item_lateness``: one (indicator, section). It is late when it has current files and none of them
  is covered on time. A file is covered by an on-time delivery of the same name (a corrected re-send
  after the deadline does not make an on-time item late) unless the item was sent back (退回) after
  that delivery: what was returned counts for nothing.
- ``late_text``: how late, in Chinese ("晚 2 天 3 小时").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo


def deadline_end(deadline: date, tz: tzinfo) -> datetime:
    """The first instant that is late: 00:00 local on the day after ``deadline``."""
    return datetime.combine(deadline + timedelta(days=1), time(0), tzinfo=tz)


def lateness(arrived: datetime, deadline: date, tz: tzinfo) -> timedelta | None:
    """How long after the end of the deadline day ``arrived`` is, or None when it is on time."""
    if arrived.tzinfo is None:
        raise ValueError("arrival times must be timezone-aware")
    late = arrived - deadline_end(deadline, tz)
    return late if late >= timedelta(0) else None


def is_late(arrived: datetime, deadline: date, tz: tzinfo) -> bool:
    return lateness(arrived, deadline, tz) is not None


@dataclass(frozen=True)
class Delivery:
    """One file version ever counted for an (indicator, section)."""

    name_key: str  # the version chain it belongs to (rules.disposition.name_key)
    arrived: datetime  # the server's arrival time of its mail
    current: bool
    assigned_at: datetime  # when it was counted (a 退回 before this does not touch it)


def item_lateness(
    deliveries: Iterable[Delivery], deadline: date, tz: tzinfo, *, returned_at: datetime | None = None
) -> timedelta | None:
    """How late the (indicator, section) is, or None when it is not late (on time, or nothing current).

    ``returned_at``: the item's latest 退回, if any. How late: from the end of the deadline day to the
    earliest current file's arrival."""
    rows = list(deliveries)
    current = [d for d in rows if d.current]
    if not current:
        return None
    chains = {d.name_key for d in current}
    for d in rows:
        counts = returned_at is None or d.assigned_at > returned_at
        if counts and d.name_key in chains and not is_late(d.arrived, deadline, tz):
            return None
    return lateness(min(d.arrived for d in current), deadline, tz)


def late_text(late: timedelta) -> str:
    """ "晚 2 天 3 小时", "晚 5 小时", "晚 20 分钟": whole units, rounded down, never "晚 0 分钟"."""
    minutes = int(late.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"晚 {days} 天" + (f" {hours} 小时" if hours else "")
    if hours:
        return f"晚 {hours} 小时"
    return f"晚 {max(minutes, 1)} 分钟"
