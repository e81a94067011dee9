"""The daily digest (进度汇总) for the coordinator: where the campaign stands and what needs a human.

``build_digest`` reads one snapshot (``bot.coordinator.status.take_snapshot``) and a few outbox/mail queries;
``send_digest`` queues it under ``digest:<local date>`` to ``[coordinator] emails`` once the day's
``digest_at`` has come (``rules.schedule.due_digest_slot``: at most one a day, the latest missed day
caught up once after downtime) and flushes the outbox. ``write_digest_html`` renders the same digest
to a file for the demo and for ``status``.

What "since the last digest" means: mails *recorded* (``mail.processed_at``) and changes made
(files counted, returns, acceptances, reminders, failed sends) after the previous digest was queued,
so mail that arrived during downtime is not skipped. Sections that owe material but have no owners
configured (reminders cannot reach them) are listed as notices at the top. The blocks themselves are
built in ``bot.outgoing.digest_blocks``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bot.app import Deps
from bot.coordinator.status import take_snapshot
from bot.outgoing import digest_blocks as blocks
from bot.outgoing.compose import compose
from bot.outgoing.digest_context import (
    CloudFileLine,
    DeclarationLine,
    DigestContext,
    ErrorLine,
    FailedSendLine,
    OverdueLine,
    ProgressLine,
    error_location,
)
from bot.outgoing.outbox import FlushReport, enqueue
from bot.outgoing.reminders import unreachable_sections
from bot.outgoing.render import render
from bot.outgoing.sending import flush_outbox
from db.models import CloudFile, Mail, Outbox
from rules.progress import outstanding_for, tally
from rules.schedule import days_left, due_digest_slot, local_today

log = logging.getLogger(__name__)

KEY_PREFIX = "digest:"
CLOUD_WARNING_DAYS = 3


def digest_key(slot: date) -> str:
    return f"{KEY_PREFIX}{slot.isoformat()}"


def _last_digest(s: Session, *, before: datetime) -> Outbox | None:
    return s.scalars(
        select(Outbox)
        .where(Outbox.kind == "digest", Outbox.created_at < before)
        .order_by(Outbox.created_at.desc(), Outbox.id.desc())
        .limit(1)
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


@dataclass(frozen=True)
class Built:
    """A digest and what queuing it settles: the highest mail id it covered (the next digest lists
    mail above it) and the expired cloud links it reported (reported once)."""

    context: DigestContext
    watermark: int
    expired_cloud_ids: tuple[int, ...]


def build_digest(deps: Deps, now: datetime, *, session: Session | None = None) -> DigestContext:
    """The digest as of ``now``: "since the last digest" means since the last one queued before
    ``now`` (a digest written right after sending its mail shows the same period, not an empty one).
    ``session``: read inside the caller's transaction (a 状态 answer sees the commands it answers)."""
    if session is not None:
        return _build(session, deps, now).context
    with deps.sessions() as s:
        return _build(s, deps, now).context


def _build(s: Session, deps: Deps, now: datetime) -> Built:
    cfg = deps.config
    tz = cfg.campaign.tz
    catalogue = deps.catalogue
    left = days_left(cfg.campaign.deadline, local_today(now, tz))
    # The watermark first: mail committed while the digest is built belongs to the next one.
    top = s.scalar(select(func.max(Mail.id))) or 0
    snap = take_snapshot(s, catalogue, cfg.campaign)
    previous = _last_digest(s, before=now)
    since = previous.created_at if previous is not None else None
    after_id = previous.mail_watermark if previous is not None else 0
    failed = s.scalars(select(Outbox).where(Outbox.status == "failed").order_by(Outbox.id)).all()
    failed_lines = tuple(FailedSendLine(f.kind, tuple(f.recipients), f.subject, f.last_error or "") for f in failed)
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
        if c.expires_at is None or now < c.expires_at <= horizon
    )
    expired = blocks.expired_clouds(snap.cloud_files, now, tz)
    late = blocks.late_lines(catalogue, snap, tz)
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
    review = blocks.review_lines(s, catalogue, snap.review, tz)
    problems = blocks.content_problems(s, catalogue)
    activity = blocks.activity(s, since, tz)
    # By mail id, not by clock (issue 13): an old digest row without a watermark falls back to time.
    arrivals = blocks.arrivals(s, since, tz, after_id=after_id, upto_id=top)
    notices = tuple(
        f"{section}尚缺{owed}项指标，但配置中没有该科室的负责人邮箱（[[sections]] owners），无法发送催报提醒"
        for section, owed in unreachable_sections(deps, snap.items)
    )
    overdue: tuple[OverdueLine, ...] = ()
    if left < 0:
        overdue = tuple(
            OverdueLine(section, n, -left)
            for section in catalogue.sections
            if (n := len(outstanding_for(section, snap.items)))
        )
    everything = tally(snap.items)
    overall = ProgressLine("全部指标", everything.done, everything.total)
    context = DigestContext(
        campaign_title=cfg.campaign.name,
        generated_at=now.astimezone(tz),
        since=since.astimezone(tz) if since is not None else None,
        deadline=cfg.campaign.deadline,
        days_left=left,
        overall=overall,
        denominator=blocks.denominator(catalogue, overall),
        by_level1=blocks.by_level1(catalogue, snap),
        by_section=blocks.section_progress(catalogue, snap),
        review_queue=review,
        content_problems=problems,
        activity=activity,
        arrivals=arrivals,
        declarations=declarations,
        overdue_sections=overdue,
        cloud_expiring=clouds,
        failed_sends=failed_lines,
        errors=errors,
        notices=notices,
        late=late,
        cloud_expired=expired,
    )
    return Built(context, top, tuple(line.id for line in expired))


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
    with deps.sessions() as s:
        built = _build(s, deps, now)
    run = DigestRun(slot, built.context)
    if dry_run:
        return run
    if deps.config.smtp is None:
        log.warning("digest for %s due, but [smtp] is not configured", slot)
        return run
    message = digest_message(deps, built.context, slot, now)
    with deps.sessions.begin() as s:
        row = enqueue(s, kind="digest", dedupe_key=digest_key(slot), message=message, now=now)
        run.queued = row is not None
        if row is not None:
            # Settled with the digest itself: what it covered, and the expired links it has now reported.
            row.mail_watermark = built.watermark
            if built.expired_cloud_ids:
                s.execute(
                    update(CloudFile)
                    .where(CloudFile.id.in_(built.expired_cloud_ids), CloudFile.expiry_noted_at.is_(None))
                    .values(expiry_noted_at=now)
                )
    if run.queued:
        log.info("digest for %s queued to %s", slot, ", ".join(deps.config.coordinator.emails))
        if flush:
            run.flush = flush_outbox(deps, now=now)
    return run
