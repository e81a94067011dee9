"""Receipts (回执): tell the sender of a submission what was recorded, from the rows just written.

``enqueue_receipt`` runs inside the transaction that records the mail (``bot.ingest.poll``), so the mail
and its receipt commit together: a crash loses neither and the outbox key ``receipt:<mail key>``
keeps a re-run from queuing a second one. Sending is the outbox's job (``bot.outgoing.sending``).

A receipt goes to exactly one address: the parsed sender's (``rules.sender``), never a string taken
from a header. When no receipt is queued, in this order (``ReceiptOutcome`` names each case):

- ``[smtp]`` is not configured (logged once per process);
- the mail is not a submission, or ``rules.mailkind.may_auto_answer`` refuses (auto-replies,
  bounces, list mail, mailer-daemon/postmaster/noreply senders, our own address or loop header, a
  sender asking for no auto-replies);
- ``rules.receipting`` refuses: a sender intake cannot trust (an unreliable ``From:``, failed
  authentication); a stranger (an address in no section's ``senders``) whose mail is not plausibly a
  submission (no material, no indicator named, bulk-like, phishing-like) or who comes after today's
  ``[receipts] max_stranger_receipts_per_day`` receipts to strangers; an address that has had
  ``[receipts] max_per_address_per_day`` receipts today (campaign time zone), counted from the
  outbox. The first mail over the per-address cap each day becomes a review item
  ("receipt_capped"), so the coordinator sees it in ``intake review`` and in the digest; later ones
  that day stay silent (a loop with an unrecognised autoresponder must not flood the queue either).

Whatever is not answered is recorded all the same and shown to the coordinator. A stranger who is
answered gets a receipt that lists what was recorded and says plainly that it counts for no section
until the coordinator confirms which section sent it (a problem line ``unknown_sender``).
"""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta
from email.message import EmailMessage
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.app import Deps
from bot.coordinator.status import progress_items
from bot.mime.mail import IncomingMail
from bot.outgoing.compose import compose
from bot.outgoing.messages import (
    CloudLinkLine,
    FileLine,
    IndicatorRef,
    ProblemLine,
    ReceiptContext,
)
from bot.outgoing.outbox import enqueue
from bot.outgoing.sending import signature, warn_unconfigured_once
from db.models import Assignment, Attachment, CloudFile, Declaration, Mail, Outbox, Problem, ReviewItem
from rules import codes
from rules.catalogue import Catalogue
from rules.mailkind import MailKind, may_auto_answer
from rules.progress import outstanding_for
from rules.receipting import ReceiptFacts, ReceiptVerdict, Submission, receipt_verdict
from rules.sender import SenderVerdict

log = logging.getLogger(__name__)



class ReceiptOutcome(StrEnum):
    QUEUED = "queued"
    EXISTS = "exists"  # queued or sent before (a re-run)
    NOT_CONFIGURED = "not_configured"
    NOT_ANSWERED = "not_answered"  # not a submission, or loop protection said no
    NOT_TRUSTED = "not_trusted"  # the sender is not trusted, or not one plain address
    STRANGER = "stranger"  # a stranger's mail that is not plausibly a submission, or over their cap
    CAPPED = "capped"


def receipt_key(mail: Mail) -> str:
    return f"receipt:{mail.dedupe_key}"


def enqueue_receipt(
    s: Session,
    deps: Deps,
    mail: Mail,
    incoming: IncomingMail,
    kind: MailKind,
    sender: SenderVerdict,
    submission: Submission,
) -> ReceiptOutcome:
    """Queue the receipt for ``mail`` (just recorded in ``s``), unless one of the module's rules says no."""
    if deps.config.smtp is None:
        warn_unconfigured_once("receipts")
        return ReceiptOutcome.NOT_CONFIGURED
    address = sender.address
    if not may_auto_answer(kind, incoming.headers, address, deps.own_addresses):
        log.info("no receipt for %s from %s (kind %s): automatic or list mail", mail.message_id, address, kind)
        return ReceiptOutcome.NOT_ANSWERED
    now = deps.clock()
    limits = deps.config.receipts
    verdict = receipt_verdict(
        ReceiptFacts(
            trusted=sender.trusted,
            address=address,
            known_section=deps.config.section_of(address) is not None,
            has_material=submission.has_material,
            names_indicator=submission.names_indicator,
            bulk_like=submission.bulk_like,
            phishing_like=submission.phishing_like,
            sent_to_address_today=receipts_today(s, deps, address, now) if address else 0,
            per_address_cap=limits.max_per_address_per_day,
            stranger_receipts_today=stranger_receipts_today(s, deps, now),
            stranger_cap=limits.max_stranger_receipts_per_day,
        )
    )
    if verdict is ReceiptVerdict.ADDRESS_CAPPED:
        _flag_capped(s, deps, mail, now, limits.max_per_address_per_day)
        return ReceiptOutcome.CAPPED
    if verdict is not ReceiptVerdict.SEND:
        log.info("no receipt for %s (%s)", mail.message_id, verdict.value)
        if verdict in (ReceiptVerdict.UNTRUSTED, ReceiptVerdict.NOT_ONE_ADDRESS):
            return ReceiptOutcome.NOT_TRUSTED
        return ReceiptOutcome.STRANGER
    s.flush()  # the mail's own rows must be visible to the queries below
    context = build_receipt_context(s, deps, mail)
    message = receipt_message(deps, mail, incoming.references, context, now, to=address)
    row = enqueue(s, kind="receipt", dedupe_key=receipt_key(mail), message=message, now=now)
    return ReceiptOutcome.QUEUED if row is not None else ReceiptOutcome.EXISTS


# -- the cap ------------------------------------------------------------------------------------


def _local_day(deps: Deps, now: datetime) -> tuple[datetime, datetime]:
    tz = deps.config.campaign.tz
    day = now.astimezone(tz).date()
    start = datetime.combine(day, time(0), tzinfo=tz)
    return start, start + timedelta(days=1)


def _recipients_today(s: Session, deps: Deps, now: datetime) -> list[list[str]]:
    start, end = _local_day(deps, now)
    rows = s.scalars(
        select(Outbox.recipients).where(Outbox.kind == "receipt", Outbox.created_at >= start, Outbox.created_at < end)
    )
    return [[r.lower() for r in recipients] for recipients in rows]


def receipts_today(s: Session, deps: Deps, address: str, now: datetime) -> int:
    """Receipts queued to ``address`` on ``now``'s calendar day in the campaign time zone."""
    target = address.strip().lower()
    return sum(1 for recipients in _recipients_today(s, deps, now) if target in recipients)


def stranger_receipts_today(s: Session, deps: Deps, now: datetime) -> int:
    """Receipts queued today to addresses in no section's ``senders``, all together."""
    rows = _recipients_today(s, deps, now)
    return sum(1 for recipients in rows if all(deps.config.section_of(r) is None for r in recipients))


def _flag_capped(s: Session, deps: Deps, mail: Mail, now: datetime, limit: int) -> None:
    start, end = _local_day(deps, now)
    already = s.scalar(
        select(ReviewItem.id)
        .join(Mail, ReviewItem.mail_id == Mail.id)
        .where(
            ReviewItem.reason == codes.RECEIPT_CAPPED,
            Mail.from_addr == mail.from_addr,
            ReviewItem.created_at >= start,
            ReviewItem.created_at < end,
        )
        .limit(1)
    )
    log.warning("receipt cap (%d a day) reached for %s: no receipt for %s", limit, mail.from_addr, mail.message_id)
    if already is not None:
        return
    s.add(
        ReviewItem(
            mail_id=mail.id,
            reason=codes.RECEIPT_CAPPED,
            detail=(
                f"今天已向 {mail.from_addr} 发送{limit}封回执，达到每日上限，此后该地址今日来信不再自动回执"
                "（材料照常登记）。如对方确需确认，请人工回复；若为自动回复循环，请检查对方邮箱设置。"
            ),
            candidates=[],
            created_at=now,
        )
    )


# -- the context --------------------------------------------------------------------------------


def _ref(catalogue: Catalogue, indicator_id: str) -> IndicatorRef:
    indicator = catalogue.get(indicator_id)
    return IndicatorRef.of(indicator) if indicator is not None else IndicatorRef(indicator_id, "（清单中无此指标）")


def _file_lines(s: Session, catalogue: Catalogue, mail: Mail) -> tuple[FileLine, ...]:
    attachments = s.scalars(select(Attachment).where(Attachment.mail_id == mail.id).order_by(Attachment.id)).all()
    reviews = {
        r.attachment_id: r.detail
        for r in s.scalars(
            select(ReviewItem).where(ReviewItem.mail_id == mail.id, ReviewItem.attachment_id.is_not(None))
        )
    }
    # The matcher's words to the sender for a file in review: why, and what to write next time.
    unmatched = select(Problem).where(Problem.mail_id == mail.id, Problem.code == codes.UNMATCHED_ATTACHMENT)
    advice = {p.attachment_id: p.detail for p in s.scalars(unmatched)}
    lines = []
    for att in attachments:
        ids = list(
            s.scalars(select(Assignment.indicator_id).where(Assignment.attachment_id == att.id).order_by(Assignment.id))
        )
        if not ids and att.id not in reviews:
            # The same content was already counted for these indicators (a re-sent file).
            ids = list(
                s.scalars(
                    select(Assignment.indicator_id)
                    .join(Attachment, Assignment.attachment_id == Attachment.id)
                    .where(Attachment.sha256 == att.sha256, Assignment.section == (mail.section or ""))
                    .distinct()
                    .order_by(Assignment.indicator_id)
                )
            )
        refs = tuple(_ref(catalogue, i) for i in dict.fromkeys(ids))
        reason = (advice.get(att.id) or reviews.get(att.id)) if not refs else None
        lines.append(FileLine(att.filename, refs, reason or (None if refs else "未能识别对应指标")))
    return tuple(lines)


def _problem_lines(s: Session, mail: Mail) -> list[ProblemLine]:
    rows = s.scalars(select(Problem).where(Problem.mail_id == mail.id).order_by(Problem.id)).all()
    # A file in review is explained in its own section, not again among the problems.
    rows = [p for p in rows if p.code != codes.UNMATCHED_ATTACHMENT]
    return [ProblemLine(p.code, p.detail, p.attachment.filename if p.attachment is not None else None) for p in rows]


def _outstanding(s: Session, catalogue: Catalogue, section: str) -> tuple[IndicatorRef, ...]:
    # progress_items applies every rule of what counts (returned files are owed again, ...).
    items = progress_items(s, catalogue)
    return tuple(IndicatorRef.of(i) for i in outstanding_for(section, items))


def _recipient_name(deps: Deps, mail: Mail) -> str:
    if mail.from_name:
        return mail.from_name
    for section in deps.config.sections:
        for name, address in section.owners:
            if address == mail.from_addr.lower() and name:
                return name
    return ""


def build_receipt_context(s: Session, deps: Deps, mail: Mail) -> ReceiptContext:
    """Everything the receipt says, read from the rows recorded for ``mail``."""
    tz = deps.config.campaign.tz
    catalogue = deps.catalogue
    problems = _problem_lines(s, mail)
    if not mail.section:
        problems.append(
            ProblemLine(
                codes.UNKNOWN_SENDER,
                "您的邮箱地址不在各科室报送人名单中：材料已登记，但在法规科确认所属科室之前暂不计入任何科室的报送进度。",
            )
        )
    declared = s.scalars(
        select(Declaration.indicator_id).where(Declaration.mail_id == mail.id).order_by(Declaration.id)
    ).all()
    clouds = s.scalars(select(CloudFile).where(CloudFile.mail_id == mail.id).order_by(CloudFile.id)).all()
    mail_date = mail.sent_at or mail.received_at
    return ReceiptContext(
        campaign_title=deps.config.campaign.name,
        mailbox=deps.config.mailbox.username,
        recipient_name=_recipient_name(deps, mail),
        section=mail.section or None,
        mail_subject=mail.subject,
        mail_date=mail_date.astimezone(tz) if mail_date is not None else None,
        files=_file_lines(s, catalogue, mail),
        declarations=tuple(_ref(catalogue, i) for i in declared),
        problems=tuple(problems),
        cloud_links=tuple(
            CloudLinkLine(c.filename, c.size_text, c.expires_at.astimezone(tz) if c.expires_at else None)
            for c in clouds
        ),
        outstanding=_outstanding(s, catalogue, mail.section) if mail.section else (),
        deadline=deps.config.campaign.deadline,
        signature=signature(deps.config),
    )


def receipt_message(
    deps: Deps, mail: Mail, references: tuple[str, ...], context: ReceiptContext, now: datetime, *, to: str
) -> EmailMessage:
    """The receipt to the one address ``to``, threaded under the sender's mail (RFC 5322 3.6.4)."""
    return compose(
        deps.config,
        "receipt",
        context,
        key=receipt_key(mail),
        to=[to],
        now=now,
        parent=mail.message_id,
        references=references,
    )
