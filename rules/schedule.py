"""When reminders and digests are due: pure date arithmetic, the clock passed in.

A *slot* is a calendar date (in the campaign's time zone) on which one mail is due at a fixed time of
day. Reminder slots lie ``days_before`` days before the deadline and every ``overdue_every_days``
days after it; digest slots are every day. The caller records the last slot it handled (the
outbox's dedupe keys "reminder:<section>:<slot>" / "digest:<slot>" do that), and asks which slot is
due now:

- the most recent slot whose time has come, if it is later than the last one done;
- so after downtime the bot catches up once (only the latest missed slot), and never repeats one.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta, tzinfo


def days_left(deadline: date, today: date) -> int:
    """Whole days from ``today`` to ``deadline``: 0 on the deadline day, negative after it."""
    return (deadline - today).days


def local_today(now: datetime, tz: tzinfo) -> date:
    """The calendar date of ``now`` in ``tz``. ``now`` must be timezone-aware."""
    _require_aware(now)
    return now.astimezone(tz).date()


def _require_aware(now: datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")


def slot_time(slot: date, at: time, tz: tzinfo) -> datetime:
    """The moment a slot falls due."""
    return datetime.combine(slot, at, tzinfo=tz)


def _latest_reached(now: datetime, at: time, tz: tzinfo) -> date:
    """The latest calendar date whose ``at`` time is not after ``now``."""
    today = local_today(now, tz)
    return today if slot_time(today, at, tz) <= now else today - timedelta(days=1)


def reminder_slot_on_or_before(
    day: date, *, deadline: date, days_before: Sequence[int], overdue_every_days: int
) -> date | None:
    """The latest reminder slot on or before ``day``, or None when there is none yet."""
    if any(d < 0 for d in days_before):
        raise ValueError("days_before must not be negative")
    if overdue_every_days < 0:
        raise ValueError("overdue_every_days must not be negative")
    if day > deadline and overdue_every_days > 0:
        steps = (day - deadline).days // overdue_every_days
        if steps >= 1:
            return deadline + timedelta(days=steps * overdue_every_days)
    before = [deadline - timedelta(days=d) for d in days_before]
    reached = [s for s in before if s <= day]
    return max(reached) if reached else None


def due_reminder_slot(
    *,
    deadline: date,
    days_before: Sequence[int],
    overdue_every_days: int,
    at: time,
    tz: tzinfo,
    last_done: date | None,
    now: datetime,
) -> date | None:
    """The reminder slot to handle now, or None.

    ``days_before`` lists the days before the deadline that get a reminder (0 = the deadline day);
    after the deadline one falls every ``overdue_every_days`` days (0 = none). ``last_done`` is the
    latest slot already handled.
    """
    _require_aware(now)
    slot = reminder_slot_on_or_before(
        _latest_reached(now, at, tz),
        deadline=deadline,
        days_before=days_before,
        overdue_every_days=overdue_every_days,
    )
    if slot is None or (last_done is not None and slot <= last_done):
        return None
    return slot


def due_digest_slot(*, at: time, tz: tzinfo, last_done: date | None, now: datetime) -> date | None:
    """The daily digest slot to handle now (the latest day whose digest time has come), or None."""
    _require_aware(now)
    slot = _latest_reached(now, at, tz)
    if last_done is not None and slot <= last_done:
        return None
    return slot


def next_reminder_time(
    *,
    deadline: date,
    days_before: Sequence[int],
    overdue_every_days: int,
    at: time,
    tz: tzinfo,
    now: datetime,
) -> datetime | None:
    """When the next reminder slot after ``now`` falls due, None when none is left (the scheduler's
    trigger for the reminder job). Overdue slots recur every ``overdue_every_days`` days for as long
    as the campaign runs, so the search reaches one whole interval past today or the deadline."""
    _require_aware(now)
    day = local_today(now, tz)
    last = max(day, deadline) + timedelta(days=max(overdue_every_days, 0) + 1)
    for offset in range((last - day).days + 1):
        candidate = day + timedelta(days=offset)
        slot = reminder_slot_on_or_before(
            candidate, deadline=deadline, days_before=days_before, overdue_every_days=overdue_every_days
        )
        if slot == candidate and slot_time(candidate, at, tz) > now:
            return slot_time(candidate, at, tz)
    return None
