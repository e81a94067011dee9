"""What kind of mail this is (submission, auto-reply, bounce, recall, newsletter, our own), and whether
intake may answer it: the loop protection of RT, Zammad, osTicket and Mailman, as pure functions.

Only submissions are assigned and answered; every other kind is recorded as ignored with its kind.
The checks run in the order of ``_CHECKS`` (first match wins), so the table reads as the spec:
our own mail first (a loop is the costliest mistake), then bounces (which often also carry
``Auto-Submitted``), recalls, auto-replies and finally bulk / list mail.

About ``X-Auto-Response-Suppress`` (MS-OXCMAIL 2.2.3.2.14): Outlook's Simple MAPI path ("Send to ->
Mail recipient", which is how people mail a file straight from Word or Explorer) stamps ordinary mail
with ``X-Auto-Response-Suppress: All``. Treating it as "automatic mail" would throw away real
submissions, so it is *not* a classification signal. It is honoured where it means what it says: the
sender asks for no auto-replies, so ``may_auto_answer`` refuses a receipt when the value covers
auto-replies (``All`` or ``AutoReply``, or a value we cannot parse). Genuine Exchange auto-replies are
caught by ``Auto-Submitted`` and their subject anyway.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from email.utils import parseaddr
from enum import StrEnum


class MailKind(StrEnum):
    """The values are the ``mail.kind`` column's values."""

    SUBMISSION = "submission"
    AUTO_REPLY = "auto_reply"
    BOUNCE = "bounce"
    RECALL = "recall"
    NEWSLETTER = "newsletter"
    OWN = "own"


LOOP_HEADER = "x-intake-loop"
"""The header intake puts on every mail it sends; seeing it on incoming mail means a loop."""

# Local parts of senders that are delivery systems (RFC 5321 4.5.1 postmaster; MTA bounce senders).
_BOUNCE_SENDERS = frozenset({"mailer-daemon", "mailerdaemon", "postmaster", "mail-daemon", "maildelivery"})
# Local parts that announce "do not answer" (compared with '-', '_' and '.' removed).
_NOREPLY_MARKERS = ("noreply", "donotreply", "norespond", "noresponse")

# Subject prefixes; anchored at the start so that a human's "Fw: 系统退信" or "Re: 自动回复" stays a
# human mail (it may carry files the coordinator needs).
_BOUNCE_SUBJECT = re.compile(
    r"^\s*[\[【(（]?\s*(?:系统退信|退信通知|退信|无法传递|未能传递|邮件未送达|未送达|投递失败|邮件投递失败"
    r"|Undelivered Mail Returned to Sender|Delivery Status Notification|Undeliverable|Undelivered"
    r"|Mail delivery failed|Mail Delivery Failure|Delivery Failure|Returned mail|failure notice"
    r"|Delivery has failed|Mail System Error)",
    re.IGNORECASE,
)
_RECALL_SUBJECT = re.compile(r"^\s*(?:Recall|撤回|召回)\s*[:：]", re.IGNORECASE)
_RECALL_PHRASES = ("撤回邮件", "邮件撤回", "召回邮件", "邮件召回", "撤回了邮件", "召回了邮件")
_RECALL_BODY = ("would like to recall the message", "希望撤回邮件", "想撤回邮件", "希望召回邮件")
_AUTO_REPLY_SUBJECT = re.compile(
    r"^\s*[\[【(（]?\s*(?:自动回复|自动答复|自动回覆|休假自动回复|外出自动回复|Auto(?:matic)?[ _-]?(?:Reply|Response)"
    r"|Autoreply|Auto-Antwort|Out of (?:the )?Office|OOO\b|Abwesenheitsnotiz)",
    re.IGNORECASE,
)
_AUTO_REPLY_ANYWHERE = ("的自动回复", "out of office")


def _lower_keys(headers: Mapping[str, str]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


def _token(value: str) -> str:
    """The first token of a structured header value: ``auto-replied; owner=x`` -> ``auto-replied``."""
    return value.split(";", 1)[0].strip().lower()


def _local_part(from_addr: str) -> str:
    address = parseaddr(from_addr)[1] or from_addr
    return address.rpartition("@")[0].strip().lower() if "@" in address else address.strip().lower()


def _is_own(from_addr: str, own_addresses: Collection[str]) -> bool:
    address = (parseaddr(from_addr)[1] or from_addr).strip().lower()
    return bool(address) and address in {own.strip().lower() for own in own_addresses}


def is_bounce_sender(from_addr: str) -> bool:
    """``MAILER-DAEMON@163.com``, ``Postmaster@qq.com`` ..."""
    return _local_part(from_addr) in _BOUNCE_SENDERS


def is_noreply_sender(from_addr: str) -> bool:
    """``noreply@...``, ``no-reply-notice@...``, ``do_not_reply@...``."""
    squeezed = re.sub(r"[-_.]", "", _local_part(from_addr))
    return any(marker in squeezed for marker in _NOREPLY_MARKERS)


def _auto_submitted(h: Mapping[str, str]) -> bool:
    # RFC 3834 section 5: any value other than "no" marks automatic mail.
    value = h.get("auto-submitted")
    return value is not None and _token(value) not in ("", "no")


def _precedence(h: Mapping[str, str]) -> str:
    return _token(h.get("precedence", ""))


def _null_return_path(h: Mapping[str, str]) -> bool:
    # RFC 3834 section 2: never respond to a mail with an empty envelope sender (bounces, auto-replies).
    value = h.get("return-path")
    return value is not None and value.strip() in ("<>", "")


class _Mail:
    """The inputs of one classification, with header names lower-cased once."""

    def __init__(
        self,
        headers: Mapping[str, str],
        content_type: str,
        from_addr: str,
        subject: str,
        body_text: str,
        own_addresses: Collection[str],
    ) -> None:
        self.h = _lower_keys(headers)
        self.content_type = content_type.split(";", 1)[0].strip().lower()
        self.full_content_type = (self.h.get("content-type") or content_type).lower()
        self.from_addr = from_addr
        self.subject = subject
        self.body_text = body_text
        self.own_addresses = own_addresses


def _own(m: _Mail) -> bool:
    return LOOP_HEADER in m.h or _is_own(m.from_addr, m.own_addresses)


def _bounce(m: _Mail) -> bool:
    if m.content_type == "multipart/report" and "disposition-notification" not in m.full_content_type:
        return True  # RFC 3464 delivery status notification
    if "x-failed-recipients" in m.h or is_bounce_sender(m.from_addr):
        return True
    return bool(_BOUNCE_SUBJECT.match(m.subject))


def _recall(m: _Mail) -> bool:
    if _RECALL_SUBJECT.match(m.subject) or any(p in m.subject for p in _RECALL_PHRASES):
        return True
    head = m.body_text[:2000].lower()
    return any(phrase in head for phrase in _RECALL_BODY)


def _auto_reply(m: _Mail) -> bool:
    if m.content_type == "multipart/report":
        return True  # RFC 8098 read receipt (the bounce check let it through)
    if _auto_submitted(m.h) or _precedence(m.h) == "auto_reply" or _null_return_path(m.h):
        return True
    if any(name in m.h for name in ("x-autoreply", "x-autorespond", "x-autoreply-from", "x-mail-autoreply")):
        return True
    subject = m.subject.lower()
    return bool(_AUTO_REPLY_SUBJECT.match(m.subject)) or any(p in subject for p in _AUTO_REPLY_ANYWHERE)


def _newsletter(m: _Mail) -> bool:
    if _precedence(m.h) in ("bulk", "junk", "list"):
        return True
    if any(name in m.h for name in ("list-id", "list-unsubscribe", "list-post")):
        return True
    return is_noreply_sender(m.from_addr)


_CHECKS: tuple[tuple[MailKind, Callable[[_Mail], bool]], ...] = (
    (MailKind.OWN, _own),
    (MailKind.BOUNCE, _bounce),
    (MailKind.RECALL, _recall),
    (MailKind.AUTO_REPLY, _auto_reply),
    (MailKind.NEWSLETTER, _newsletter),
)


def classify(
    headers: Mapping[str, str],
    content_type: str,
    from_addr: str,
    subject: str,
    body_text: str,
    own_addresses: Collection[str],
) -> MailKind:
    """Classify one mail; ``headers`` may use any case for names.

    >>> classify({"Auto-Submitted": "auto-replied"}, "text/plain", "a@b.cn", "自动回复: 材料", "", ())
    <MailKind.AUTO_REPLY: 'auto_reply'>
    """
    mail = _Mail(headers, content_type, from_addr, subject, body_text, own_addresses)
    for kind, check in _CHECKS:
        if check(mail):
            return kind
    return MailKind.SUBMISSION


_SUPPRESS_TOKENS = frozenset({"dr", "ndr", "rn", "nrn", "oof", "autoreply", "all"})


def _suppresses_auto_reply(value: str) -> bool:
    tokens = {t.strip().lower() for t in re.split(r"[,\s]+", value) if t.strip()}
    if not tokens:
        return False
    if not tokens <= _SUPPRESS_TOKENS:
        return True  # a value we do not understand: stay silent rather than risk a loop
    return bool(tokens & {"all", "autoreply"})


def may_auto_answer(
    kind: MailKind,
    headers: Mapping[str, str],
    from_addr: str,
    own_addresses: Collection[str],
) -> bool:
    """Whether intake may send an automatic answer (a receipt) to this mail's sender.

    Only submissions from a real person's address are answered: never our own address or loop header,
    never ``Auto-Submitted`` other than ``no``, ``Precedence`` bulk/junk/list/auto_reply, list mail,
    an empty Return-Path, delivery-system or no-reply senders, nor a sender whose
    ``X-Auto-Response-Suppress`` asks for no auto-replies. The per-address daily cap needs the
    database and lives with the outbox.
    """
    if kind is not MailKind.SUBMISSION:
        return False
    h = _lower_keys(headers)
    address = (parseaddr(from_addr)[1] or "").strip()
    if "@" not in address or _is_own(address, own_addresses) or LOOP_HEADER in h:
        return False
    if is_bounce_sender(address) or is_noreply_sender(address):
        return False
    if _auto_submitted(h) or _precedence(h) in ("bulk", "junk", "list", "auto_reply") or _null_return_path(h):
        return False
    if any(name in h for name in ("list-id", "list-unsubscribe", "list-post", "x-autoreply", "x-autorespond")):
        return False
    suppress = h.get("x-auto-response-suppress")
    return not (suppress is not None and _suppresses_auto_reply(suppress))
