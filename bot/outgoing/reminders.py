"""Reminders (催报提醒): what each section still owes, mailed to its owners at the reminder slots.

Slots (``rules.schedule``): ``[reminders] days_before`` days before the deadline and every
``overdue_every_days`` days after it, at ``[reminders] at`` in the campaign time zone. Each section
gets at most one reminder per slot: the outbox key ``reminder:<section>:<slot date>`` records it,
and the latest such key is the section's ``last_done``. So running twice sends once, and after
downtime only the latest missed slot is caught up (once).

Who gets one: every section of the checklist that still owes material and has ``owners`` in the
config. After the deadline the coordinator is copied. A section that owes material but has no
owners configured cannot be reminded; the digest lists it for the coordinator
(``unreachable_sections``). A section that owes nothing gets nothing (and no key, so if a returned
file makes it owe something again, the next slot reminds it).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date, datetime
from email.message import EmailMessage

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.app import Deps
from bot.coordinator.status import progress_items
from bot.outgoing.compose import compose
from bot.outgoing.messages import OutstandingItem, ReminderContext
from bot.outgoing.outbox import FlushReport, enqueue
from bot.outgoing.render import subject_for
from bot.outgoing.sending import flush_outbox, signature
from db.models import Outbox
from rules.catalogue import Indicator
from rules.progress import IndicatorProgress, outstanding_for
from rules.schedule import days_left, due_reminder_slot, local_today

log = logging.getLogger(__name__)

KEY_PREFIX = "reminder:"
SUBJECT_NAME_CHARS = 12
_PERIOD_LEAD = re.compile(r"^\d{4}年(?:度|以来)?")


def reminder_key(section: str, slot: date) -> str:
    return f"{KEY_PREFIX}{section}:{slot.isoformat()}"


@dataclass(frozen=True)
class DueReminder:
    section: str
    slot: date
    to: tuple[str, ...]
    cc: tuple[str, ...]
    context: ReminderContext

    @property
    def key(self) -> str:
        return reminder_key(self.section, self.slot)

    @property
    def subject(self) -> str:
        return subject_for("reminder", self.context)


@dataclass
class ReminderRun:
    due: list[DueReminder]
    queued: list[DueReminder]
    flush: FlushReport | None = None


def last_done_slots(s: Session) -> dict[str, date]:
    """The latest slot already handled for each section, from the outbox keys."""
    latest: dict[str, date] = {}
    for key in s.scalars(select(Outbox.dedupe_key).where(Outbox.dedupe_key.startswith(KEY_PREFIX))):
        section, _, slot_text = key.removeprefix(KEY_PREFIX).rpartition(":")
        try:
            slot = date.fromisoformat(slot_text)
        except ValueError:
            continue
        if section not in latest or slot > latest[section]:
            latest[section] = slot
    return latest


def subject_example(section: str, indicator: Indicator) -> str:
    """The subject convention, shown with the first outstanding indicator: 指标12-支队-材料名称."""
    name = (indicator.materials or "").split("，")[0].split("、")[0].strip()
    name = _PERIOD_LEAD.sub("", name)
    for lead in ("本部门", "本单位", "本级", "有关", "相关", "对"):
        name = name.removeprefix(lead)
    if not name or len(name) > SUBJECT_NAME_CHARS:
        name = "材料名称"
    return f"指标{indicator.id}-{section}-{name}"


def _owed(items: list[IndicatorProgress], section: str) -> list[Indicator]:
    return outstanding_for(section, items)


def unreachable_sections(deps: Deps, items: list[IndicatorProgress]) -> list[tuple[str, int]]:
    """Sections that owe material but have no owners configured: (section, items owed)."""
    result = []
    for section in deps.catalogue.sections:
        config = deps.config.section(section)
        owed = _owed(items, section)
        if owed and (config is None or not config.owners):
            result.append((section, len(owed)))
    return result


def due_reminders(deps: Deps, now: datetime) -> list[DueReminder]:
    """The reminders due at ``now`` that have not been handled yet, one per section, checklist order."""
    cfg = deps.config
    tz = cfg.campaign.tz
    deadline = cfg.campaign.deadline
    today = local_today(now, tz)
    with deps.sessions() as s:
        items = progress_items(s, deps.catalogue)
        done = last_done_slots(s)
    result = []
    for section in deps.catalogue.sections:
        slot = due_reminder_slot(
            deadline=deadline,
            days_before=cfg.reminders.days_before,
            overdue_every_days=cfg.reminders.overdue_every_days,
            at=cfg.reminders.at,
            tz=tz,
            last_done=done.get(section),
            now=now,
        )
        if slot is None:
            continue
        owed = _owed(items, section)
        if not owed:
            continue
        section_cfg = cfg.section(section)
        owners = section_cfg.owners if section_cfg is not None else ()
        if not owners:
            log.debug("reminder for %s due but no owners configured: shown in the digest", section)
            continue
        left = days_left(deadline, today)
        overdue = left < 0
        to = tuple(dict.fromkeys(address for _, address in owners))
        cc = tuple(a for a in cfg.coordinator.emails if a not in to) if overdue else ()
        context = ReminderContext(
            campaign_title=cfg.campaign.name,
            mailbox=cfg.mailbox.username,
            section=section,
            owners=tuple(name or address for name, address in owners),
            deadline=deadline,
            days_left=left,
            outstanding=tuple(OutstandingItem.of(i) for i in owed),
            subject_example=subject_example(section, owed[0]),
            coordinator_copied=bool(cc),
            signature=signature(cfg),
        )
        result.append(DueReminder(section, slot, to, cc, context))
    return result


def reminder_message(deps: Deps, due: DueReminder, now: datetime) -> EmailMessage:
    """Render one reminder into the message the outbox stores."""
    return compose(deps.config, "reminder", due.context, key=due.key, to=due.to, now=now, cc=due.cc)


def send_reminders(deps: Deps, now: datetime, *, dry_run: bool = False, flush: bool = True) -> ReminderRun:
    """Queue the reminders due at ``now`` (each under its slot key) and flush the outbox.

    ``dry_run`` returns what is due and records nothing. Without ``[smtp]`` nothing is queued either
    (the slot stays open, so configuring SMTP later still sends the latest slot).
    """
    due = due_reminders(deps, now)
    run = ReminderRun(due=due, queued=[])
    if dry_run or not due:
        return run
    if deps.config.smtp is None:
        log.warning("reminders due for %s, but [smtp] is not configured", ", ".join(d.section for d in due))
        return run
    with deps.sessions.begin() as s:
        for item in due:
            message = reminder_message(deps, item, now)
            if enqueue(s, kind="reminder", dedupe_key=item.key, message=message, now=now) is not None:
                run.queued.append(item)
    for item in run.queued:
        log.info(
            "reminder queued for %s (slot %s, %d outstanding)", item.section, item.slot, len(item.context.outstanding)
        )
    if flush and run.queued:
        run.flush = flush_outbox(deps, now=now)
    return run
