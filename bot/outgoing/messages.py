"""What each outgoing mail says, as plain values, and how it is wrapped into an RFC 5322 message.

Every mail kind has one frozen context dataclass; the templates in ``templates/`` read nothing else.
Building a context (from the database and the catalogue) is the caller's job; rendering it is
``bot.outgoing.render``'s; this module only defines the shapes and builds the final ``EmailMessage``.

Datetimes in contexts are shown as given: the caller converts them to the campaign's time zone.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from typing import Literal

from rules import codes
from rules.catalogue import Indicator
from rules.material import is_web_link

LOOP_HEADER = "X-Intake-Loop"
"""Our own loop header: its value is the intake mailbox address. Mail carrying it is never answered."""

KIND_HEADER = "X-Intake-Kind"

MailKind = Literal["receipt", "reminder", "digest", "command_reply", "return_notice"]
MAIL_KINDS: tuple[MailKind, ...] = ("receipt", "reminder", "digest", "command_reply", "return_notice")

AutoSubmitted = Literal["auto-replied", "auto-generated"]


CLASSIFIED_REMINDER = "涉密材料不通过邮件报送，实地核验时提供"

SHORT_REQUIREMENT_CHARS = 40


def short_requirement(text: str, limit: int = SHORT_REQUIREMENT_CHARS) -> str:
    """The first sentence of an indicator's text, cut to ``limit`` characters with an ellipsis."""
    flat = " ".join(text.split())
    for stop in ("。", "；", ";"):
        head, sep, _ = flat.partition(stop)
        if sep and head:
            flat = head
            break
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


# --- pieces shared by several kinds -------------------------------------------------------------


@dataclass(frozen=True)
class IndicatorRef:
    """An indicator as a mail names it: id, short requirement, and the period the material covers."""

    id: str
    requirement: str
    period_hint: str | None = None

    @classmethod
    def of(cls, indicator: Indicator) -> IndicatorRef:
        return cls(indicator.id, short_requirement(indicator.text), indicator.period_hint)


@dataclass(frozen=True)
class ProblemLine:
    """A problem found in a submission. ``detail`` is the Chinese sentence shown to the sender."""

    code: str
    detail: str
    filename: str | None = None


def over_word_limit(filename: str, words: int, limit: int) -> ProblemLine:
    return ProblemLine(
        codes.OVER_WORD_LIMIT,
        f"情况说明约{words}字，超过{limit}字的篇幅要求，请精简后重新报送。",
        filename,
    )


def not_owner(filename: str, indicator_id: str, section: str) -> ProblemLine:
    return ProblemLine(
        codes.NOT_OWNER,
        f"指标{indicator_id}的责任科室不包括{section}，已转协调人核实。",
        filename,
    )


def possibly_classified(filename: str) -> ProblemLine:
    return ProblemLine(
        codes.POSSIBLY_CLASSIFIED,
        "该文件可能涉及涉密内容，请核实。",
        filename,
    )


@dataclass(frozen=True)
class CloudLinkLine:
    """A 超大附件 / cloud-drive file: it has to be downloaded before ``expires_at``."""

    filename: str
    size_text: str | None
    expires_at: datetime | None


# --- receipt (回执) -----------------------------------------------------------------------------


@dataclass(frozen=True)
class FileLine:
    """One received file: the indicators it was recorded under, or why it went to review."""

    filename: str
    indicators: tuple[IndicatorRef, ...]
    review_reason: str | None = None

    @property
    def needs_review(self) -> bool:
        return not self.indicators


@dataclass(frozen=True)
class ReceiptContext:
    campaign_title: str
    mailbox: str
    recipient_name: str
    section: str | None  # None: the sender is not on the owners' list
    mail_subject: str
    mail_date: datetime | None
    files: tuple[FileLine, ...]
    declarations: tuple[IndicatorRef, ...]
    problems: tuple[ProblemLine, ...]
    cloud_links: tuple[CloudLinkLine, ...]
    outstanding: tuple[IndicatorRef, ...]  # what the section still owes
    deadline: date
    signature: str  # e.g. "焦作市生态环境局法规科"

    @property
    def classified(self) -> bool:
        return any(p.code == codes.POSSIBLY_CLASSIFIED for p in self.problems)


# --- reminder (催报提醒) ------------------------------------------------------------------------


@dataclass(frozen=True)
class OutstandingItem:
    id: str
    requirement: str
    materials: str | None
    period_hint: str | None

    @classmethod
    def of(cls, indicator: Indicator) -> OutstandingItem:
        return cls(indicator.id, short_requirement(indicator.text), indicator.materials, indicator.period_hint)


@dataclass(frozen=True)
class ReminderContext:
    campaign_title: str
    mailbox: str
    section: str
    owners: tuple[str, ...]
    deadline: date
    days_left: int  # negative after the deadline
    outstanding: tuple[OutstandingItem, ...]
    subject_example: str  # e.g. "指标12-法规科-依法行政工作报告"
    coordinator_copied: bool
    signature: str

    @property
    def overdue(self) -> bool:
        return self.days_left < 0

    @property
    def days_overdue(self) -> int:
        return max(0, -self.days_left)


# --- digest (进度汇总) --------------------------------------------------------------------------


@dataclass(frozen=True)
class ProgressLine:
    label: str
    done: int
    total: int

    @property
    def percent(self) -> int:
        """Whole percent, rounded down so that 100 means everything is in."""
        return 0 if self.total <= 0 else (100 * self.done) // self.total


@dataclass(frozen=True)
class ArrivalLine:
    received_at: datetime
    sender: str
    section: str | None
    subject: str
    files: int
    indicators: tuple[str, ...]


@dataclass(frozen=True)
class ReviewLine:
    id: int
    received_at: datetime
    sender: str
    filename: str | None
    reason: str
    candidates: tuple[str, ...]


@dataclass(frozen=True)
class DeclarationLine:
    indicator_id: str
    section: str
    source: str  # "mail" | "coordinator"
    created_at: datetime


@dataclass(frozen=True)
class OverdueLine:
    section: str
    outstanding: int
    days_overdue: int


@dataclass(frozen=True)
class CloudFileLine:
    filename: str
    sender: str
    url: str
    expires_at: datetime | None

    @property
    def linkable(self) -> bool:
        """Only http(s) is ever a link: ``javascript://fs.mail.163.com/...`` names the right host too."""
        return is_web_link(self.url)


@dataclass(frozen=True)
class FailedSendLine:
    kind: str
    recipients: tuple[str, ...]
    subject: str
    last_error: str


@dataclass(frozen=True)
class ErrorLine:
    received_at: datetime
    sender: str
    subject: str
    error: str
    where: str = ""  # how to find the mail: error_location()


def error_location(raw_path: str | None, folder: str | None, uid: int | None, message_id: str | None) -> str:
    """Where a mail that failed can be found, for the coordinator and the IT person: the stored .eml
    (``intake inspect`` reads it), and the IMAP folder and UID when it has no Message-ID to search by."""
    parts = [f"原始邮件：{raw_path}"] if raw_path else []
    if not message_id and folder is not None and uid is not None:
        parts.append(f"邮箱文件夹 {folder} 中 UID {uid}")
    elif message_id:
        parts.append(f"Message-ID {message_id}")
    return "；".join(parts)


@dataclass(frozen=True)
class DigestContext:
    campaign_title: str
    generated_at: datetime
    since: datetime | None  # the previous digest; None for the first one
    deadline: date
    days_left: int
    overall: ProgressLine
    by_level1: tuple[ProgressLine, ...]
    by_section: tuple[ProgressLine, ...]
    arrivals: tuple[ArrivalLine, ...]
    review_queue: tuple[ReviewLine, ...]
    declarations: tuple[DeclarationLine, ...]
    overdue_sections: tuple[OverdueLine, ...]
    cloud_expiring: tuple[CloudFileLine, ...]
    failed_sends: tuple[FailedSendLine, ...]
    errors: tuple[ErrorLine, ...]
    notices: tuple[str, ...] = ()  # configuration problems the coordinator should fix


# --- command reply and return notice ------------------------------------------------------------


@dataclass(frozen=True)
class CommandReplyContext:
    """The answer to a command mail; with ``code`` set, the request to confirm an unverified one: the
    code goes in the subject, so a plain reply carries it back (``rules.authority``)."""

    command: str
    ok: bool
    lines: tuple[str, ...]
    code: str | None = None
    expires_at: datetime | None = None  # when the code stops working (shown in the campaign's zone)


@dataclass(frozen=True)
class ReturnNoticeContext:
    """The coordinator sent a submission back: what, why, and how to send it again."""

    campaign_title: str
    mailbox: str
    recipient_name: str
    section: str
    mail_subject: str
    mail_date: datetime | None
    filename: str
    indicator: IndicatorRef | None
    reason: str
    subject_example: str
    deadline: date
    signature: str


MailContext = ReceiptContext | ReminderContext | DigestContext | CommandReplyContext | ReturnNoticeContext

CONTEXT_TYPES: dict[MailKind, type] = {
    "receipt": ReceiptContext,
    "reminder": ReminderContext,
    "digest": DigestContext,
    "command_reply": CommandReplyContext,
    "return_notice": ReturnNoticeContext,
}


# --- the message itself -------------------------------------------------------------------------


def make_message_id(dedupe_key: str, domain: str) -> str:
    """A Message-ID derived from the outbox dedupe key: the same key always gives the same id, so a
    mail re-sent after a crash is recognisable as the same mail by the recipient's client."""
    digest = hashlib.sha256(dedupe_key.encode("utf-8")).hexdigest()[:32]
    return f"<{digest}.intake@{domain}>"


def build_message(
    kind: MailKind,
    to: Sequence[str],
    subject: str,
    text: str,
    html: str,
    *,
    from_addr: str,
    message_id: str,
    date: datetime,
    auto_submitted: AutoSubmitted = "auto-replied",
    in_reply_to: str | None = None,
    references: Sequence[str] = (),
    cc: Sequence[str] = (),
    from_name: str | None = None,
) -> EmailMessage:
    """Wrap rendered text and HTML into a multipart/alternative UTF-8 message.

    Headers that keep mail loops and autoresponders away:

    - ``Auto-Submitted`` (RFC 3834 §5): ``auto-replied`` for answers to a mail (receipts, command
      replies), ``auto-generated`` for reminders and digests. Compliant responders never answer it.
    - ``X-Intake-Loop: <from_addr>``: our own marker; intake ignores any mail that carries it.
    - ``Precedence``: RFC 3834 §3.1.8 tells *responders* not to rely on it, but classic vacation
      programs and many server-side autoresponders still check only this header, so we set it too:
      ``auto_reply`` for replies, ``bulk`` for generated mail.
    - ``X-Auto-Response-Suppress: All``: Exchange/Outlook's own switch for out-of-office answers.

    The envelope sender is set by ``bot.outgoing.smtp``; 163 refuses an empty one, so the headers above are
    the only loop protection available.
    """
    if not to:
        raise ValueError("a message needs at least one recipient")
    msg = EmailMessage(policy=SMTP)
    msg["From"] = Address(display_name=from_name or "", addr_spec=from_addr)
    msg["To"] = ", ".join(to)
    if cc:
        msg["Cc"] = ", ".join(cc)
    msg["Subject"] = subject
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = message_id
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
        refs = [r for r in references if r != in_reply_to]
        msg["References"] = " ".join([*refs, in_reply_to])
    elif references:
        msg["References"] = " ".join(references)
    msg["Auto-Submitted"] = auto_submitted
    msg["Precedence"] = "auto_reply" if auto_submitted == "auto-replied" else "bulk"
    msg["X-Auto-Response-Suppress"] = "All"
    msg[LOOP_HEADER] = from_addr
    msg[KIND_HEADER] = kind
    msg.set_content(text, charset="utf-8")
    msg.add_alternative(html, subtype="html", charset="utf-8")
    return msg


def recipients_of(msg: EmailMessage) -> tuple[str, ...]:
    """Envelope recipients: the addresses of To, Cc and Bcc, in order, without duplicates."""
    seen: dict[str, None] = {}
    for header in ("To", "Cc", "Bcc"):
        value = msg[header]
        if value is None:
            continue
        for address in value.addresses:
            if address.addr_spec:
                seen.setdefault(address.addr_spec, None)
    return tuple(seen)
