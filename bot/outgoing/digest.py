"""The daily digest (进度汇总) for the coordinator: where the campaign stands and what needs a human.

``build_digest`` reads one snapshot (``bot.coordinator.status.take_snapshot``) and a few outbox/mail queries;
``send_digest`` queues it under ``digest:<local date>`` to ``[coordinator] emails`` once the day's
``digest_at`` has come (``rules.schedule.due_digest_slot``: at most one a day, the latest missed day
caught up once after downtime) and flushes the outbox. ``write_digest_html`` renders the same digest
to a file for the demo and for ``status``.

What "since the last digest" means: mails *recorded* (``mail.processed_at``) after the previous
digest was queued, so mail that arrived during downtime is not skipped. Sections that owe material
but have no owners configured (reminders cannot reach them) are listed as notices at the top.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from email.message import EmailMessage
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from bot.app import Deps
from bot.coordinator.status import Snapshot, take_snapshot
from bot.outgoing.compose import compose
from bot.outgoing.messages import (
    ArrivalLine,
    CloudFileLine,
    DeclarationLine,
    DigestContext,
    ErrorLine,
    FailedSendLine,
    OverdueLine,
    ProgressLine,
    ReviewLine,
    error_location,
)
from bot.outgoing.outbox import FlushReport, enqueue
from bot.outgoing.reminders import unreachable_sections
from bot.outgoing.render import render
from bot.outgoing.sending import flush_outbox
from db.models import Attachment, Mail, Outbox
from rules.progress import outstanding_for, tally
from rules.schedule import days_left, due_digest_slot, local_today

log = logging.getLogger(__name__)

KEY_PREFIX = "digest:"
CLOUD_WARNING_DAYS = 3


def digest_key(slot: date) -> str:
    return f"{KEY_PREFIX}{slot.isoformat()}"


def _last_digest(s: Session) -> Outbox | None:
    return s.scalars(
        select(Outbox).where(Outbox.kind == "digest").order_by(Outbox.created_at.desc(), Outbox.id.desc()).limit(1)
    ).first()


def last_digest_slot(s: Session) -> date | None:
    """The latest digest day already handled, from the outbox keys."""
    latest: date | None = None
    for key in s.scalars(select(Outbox.dedupe_key).where(Outbox.dedupe_key.startswith(KEY_PREFIX))):
        try:
            slot = date.fromisoformat(key.removeprefix(KEY_PREFIX))
        except ValueError:
            continue
        latest = slot if latest is None or slot > latest else latest
    return latest


def due_digest(deps: Deps, now: datetime) -> date | None:
    """The digest day to handle at ``now``, or None when today's is done or not yet due."""
    with deps.sessions() as s:
        last = last_digest_slot(s)
    return due_digest_slot(at=deps.config.coordinator.digest_at, tz=deps.config.campaign.tz, last_done=last, now=now)


def _progress_lines(
    deps: Deps, snap: Snapshot
) -> tuple[ProgressLine, tuple[ProgressLine, ...], tuple[ProgressLine, ...]]:
    everything = tally(snap.items)
    level1 = tuple(dict.fromkeys(i.level1 for i in deps.catalogue))
    by_level1 = tuple(
        ProgressLine(name, t.done, t.total) for name in level1 if (t := tally(snap.items, level1=name)).total
    )
    by_section = tuple(
        ProgressLine(name, t.done, t.total)
        for name in deps.catalogue.sections
        if (t := tally(snap.items, section=name)).total
    )
    return ProgressLine("全部指标", everything.done, everything.total), by_level1, by_section


def sender_label(mail: Mail) -> str:
    """The sender as the digest shows it: the address, or what an unreliable From claimed (the parser
    leaves the address empty then, rules.sender)."""
    if mail.from_addr:
        return mail.from_addr
    return f"（未验证）{mail.from_name}" if mail.from_name else "（未知）"


def _arrivals(s: Session, since: datetime | None, tz: tzinfo) -> tuple[ArrivalLine, ...]:
    stmt = (
        select(Mail)
        .options(selectinload(Mail.attachments).selectinload(Attachment.assignments))
        .where(Mail.kind == "submission")
        .order_by(Mail.received_at, Mail.id)
    )
    if since is not None:
        stmt = stmt.where(Mail.processed_at > since)
    lines = []
    for mail in s.scalars(stmt):
        ids = dict.fromkeys(a.indicator_id for att in mail.attachments for a in att.assignments)
        lines.append(
            ArrivalLine(
                received_at=mail.received_at.astimezone(tz),
                sender=sender_label(mail),
                section=mail.section,
                subject=mail.subject,
                files=len(mail.attachments),
                indicators=tuple(ids),
            )
        )
    return tuple(lines)


def build_digest(deps: Deps, now: datetime) -> DigestContext:
    """The digest as of ``now``."""
    cfg = deps.config
    tz = cfg.campaign.tz
    left = days_left(cfg.campaign.deadline, local_today(now, tz))
    with deps.sessions() as s:
        snap = take_snapshot(s, deps.catalogue)
        previous = _last_digest(s)
        since = previous.created_at if previous is not None else None
        arrivals = _arrivals(s, since, tz)
        failed = s.scalars(select(Outbox).where(Outbox.status == "failed").order_by(Outbox.id)).all()
        failed_lines = tuple(FailedSendLine(f.kind, tuple(f.recipients), f.subject, f.last_error or "") for f in failed)
        review = [
            ReviewLine(
                id=r.id,
                received_at=r.mail.received_at.astimezone(tz),
                sender=sender_label(r.mail),
                filename=r.attachment.filename if r.attachment is not None else None,
                reason=r.detail,
                candidates=tuple(r.candidates or ()),
            )
            for r in snap.review
        ]
        declarations = tuple(
            # When the section said so (its mail's arrival), not when the row was written.
            DeclarationLine(
                d.indicator_id,
                d.section,
                d.source,
                (d.mail.received_at if d.mail is not None else d.created_at).astimezone(tz),
            )
            for d in snap.declarations
        )
        horizon = now + timedelta(days=CLOUD_WARNING_DAYS)
        clouds = tuple(
            CloudFileLine(c.filename, c.mail.from_addr, c.url, c.expires_at.astimezone(tz) if c.expires_at else None)
            for c in snap.cloud_files
            if c.expires_at is None or c.expires_at <= horizon
        )
        errors = tuple(
            ErrorLine(
                m.received_at.astimezone(tz),
                m.from_addr or "（未知）",
                m.subject or "（无主题）",
                m.error or "",
                error_location(str(deps.storage.root / m.raw_path), m.folder, m.uid, m.message_id),
            )
            for m in snap.errors
        )
    notices = tuple(
        f"{section}尚缺{owed}项指标，但配置中没有该科室的负责人邮箱（[[sections]] owners），无法发送催报提醒"
        for section, owed in unreachable_sections(deps, snap.items)
    )
    overdue: tuple[OverdueLine, ...] = ()
    if left < 0:
        overdue = tuple(
            OverdueLine(section, n, -left)
            for section in deps.catalogue.sections
            if (n := len(outstanding_for(section, snap.items)))
        )
    overall, by_level1, by_section = _progress_lines(deps, snap)
    return DigestContext(
        campaign_title=cfg.campaign.name,
        generated_at=now.astimezone(tz),
        since=since.astimezone(tz) if since is not None else None,
        deadline=cfg.campaign.deadline,
        days_left=left,
        overall=overall,
        by_level1=by_level1,
        by_section=by_section,
        arrivals=arrivals,
        review_queue=tuple(review),
        declarations=declarations,
        overdue_sections=overdue,
        cloud_expiring=clouds,
        failed_sends=failed_lines,
        errors=errors,
        notices=notices,
    )


def digest_message(deps: Deps, context: DigestContext, slot: date, now: datetime) -> EmailMessage:
    return compose(deps.config, "digest", context, key=digest_key(slot), to=deps.config.coordinator.emails, now=now)


def write_digest_html(deps: Deps, path: Path, now: datetime | None = None) -> Path:
    """Render the digest as of ``now`` (default: the clock) to an HTML file; records nothing."""
    context = build_digest(deps, now or deps.clock())
    _, html = render("digest", context)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html, encoding="utf-8")
    return path


@dataclass
class DigestRun:
    slot: date | None  # the day handled, None when nothing was due
    context: DigestContext | None
    queued: bool = False
    flush: FlushReport | None = None


def send_digest(deps: Deps, now: datetime, *, dry_run: bool = False, flush: bool = True) -> DigestRun:
    """Queue the digest due at ``now`` (if any) under ``digest:<day>`` and flush the outbox.

    ``dry_run`` builds the due digest and records nothing. Without ``[smtp]`` nothing is queued.
    """
    slot = due_digest(deps, now)
    if slot is None:
        return DigestRun(None, None)
    context = build_digest(deps, now)
    run = DigestRun(slot, context)
    if dry_run:
        return run
    if deps.config.smtp is None:
        log.warning("digest for %s due, but [smtp] is not configured", slot)
        return run
    message = digest_message(deps, context, slot, now)
    with deps.sessions.begin() as s:
        run.queued = enqueue(s, kind="digest", dedupe_key=digest_key(slot), message=message, now=now) is not None
    if run.queued:
        log.info("digest for %s queued to %s", slot, ", ".join(deps.config.coordinator.emails))
        if flush:
            run.flush = flush_outbox(deps, now=now)
    return run
