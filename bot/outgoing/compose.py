"""One way to make an outgoing mail: render the kind's templates from its context and wrap them in a
message with our sender, a Message-ID derived from the outbox key, and the loop-protection headers.

Every mail intake sends is built here, so threading and ``Auto-Submitted`` are decided once: answers
to a mail (receipts, command replies) are ``auto-replied`` and thread under that mail when it had a
genuine Message-ID; everything else is ``auto-generated``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from email.message import EmailMessage

from bot.config import Config
from bot.mime.mail import genuine_message_id
from bot.outgoing.messages import AutoSubmitted, MailContext, MailKind, build_message, make_message_id
from bot.outgoing.render import render, subject_for
from bot.outgoing.sending import from_addr, mail_domain

AUTO_SUBMITTED: dict[MailKind, AutoSubmitted] = {
    "receipt": "auto-replied",
    "command_reply": "auto-replied",
    "reminder": "auto-generated",
    "digest": "auto-generated",
    "return_notice": "auto-generated",
}


def compose(
    config: Config,
    kind: MailKind,
    context: MailContext,
    *,
    key: str,
    to: Sequence[str],
    now: datetime,
    cc: Sequence[str] = (),
    parent: str | None = None,
    references: Sequence[str] = (),
    template: MailKind | None = None,
) -> EmailMessage:
    """The message for outbox ``key``. ``parent`` is the Message-ID of the mail this answers (a
    synthesized one is ignored); ``template`` renders another kind's templates under this kind's
    headers (a 状态 command is answered with the digest's body)."""
    shown = template or kind
    text, html = render(shown, context)
    sender = from_addr(config)
    parent_id = genuine_message_id(parent)
    return build_message(
        kind,
        to,
        subject_for(shown, context),
        text,
        html,
        from_addr=sender,
        message_id=make_message_id(key, mail_domain(sender)),
        date=now,
        auto_submitted=AUTO_SUBMITTED[kind],
        in_reply_to=parent_id,
        references=tuple(references) if parent_id else (),
        cc=cc,
    )
