"""Mailed commands held for the coordinator's one-time confirmation code (``rules.authority``).

``hold_command_mail``: a command from a coordinator address that the receiving server did not verify
is recorded (kind "command") but not run. Its command lines are kept in ``pending_command`` with a
fresh code; a review item (``command_pending``) shows it waiting; and a request goes to the
coordinator's *configured* address (never the mail's ``From:``) with the code in the subject, so that
a plain reply brings it back. At most ``CONFIRMATIONS_PER_DAY`` requests a day: forged commands must
not flood her inbox (the review item is written all the same).

``confirm_command_mail``: a mail from a coordinator address quoting the code, while it is valid
(``CONFIRM_WINDOW``) and unused, runs the held commands as if they had been verified; the answer
echoes, in Chinese, what was run and what came of it. A used or expired code is answered and runs
nothing. Marking the code used and running the commands happen in the mail's one transaction, and the
mark is a conditional UPDATE, so two pollers cannot both run it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, time

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.app import Deps
from bot.coordinator.mailcommands import (
    answer,
    coordinator_address,
    known_sections,
    referenced_mail,
    run_commands,
    status_reply,
    title_of,
)
from bot.mime.mail import IncomingMail
from bot.outgoing.messages import CommandReplyContext
from db.models import Mail, PendingCommand, ReviewItem
from db.queries import pending_created_since
from rules import codes
from rules.authority import CONFIRM_WINDOW, CodeState, code_state, may_send_confirmation, new_code
from rules.commands import Commands, parse_line

log = logging.getLogger(__name__)


def _day_start(deps: Deps, now: datetime) -> datetime:
    tz = deps.config.campaign.tz
    return datetime.combine(now.astimezone(tz).date(), time(0), tzinfo=tz)


def _fresh_code(s: Session) -> str:
    while True:  # 2**40 codes: a collision is practically impossible, but the column is unique
        code = new_code()
        if s.scalar(select(PendingCommand.id).where(PendingCommand.code == code)) is None:
            return code


def hold_command_mail(
    deps: Deps,
    mail: IncomingMail,
    commands: Commands,
    reason: str,
    record: Callable[[Session], Mail],
    after: Callable[[Session], None],
) -> int:
    """Record the command mail unexecuted, keep its commands under a new code and ask the coordinator
    to confirm; returns the mail's id."""
    now = deps.clock()
    to = coordinator_address(deps, mail.from_addr)
    with deps.sessions.begin() as s:
        row = record(s)
        scope = referenced_mail(s, mail)
        asked_today = pending_created_since(s, _day_start(deps, now))
        code = _fresh_code(s)
        expires = now + CONFIRM_WINDOW
        s.add(
            PendingCommand(
                code=code,
                mail_id=row.id,
                scope_mail_id=scope.id if scope is not None else None,
                commands="\n".join(c.text for c in commands.commands),
                sent_to=to or "",
                status="pending",
                created_at=now,
                expires_at=expires,
            )
        )
        ask = to is not None and deps.config.smtp is not None and may_send_confirmation(asked_today)
        texts = "；".join(c.text for c in commands.commands)
        outcome = (
            f"已向 {to} 发送确认码邮件，24 小时内回复即执行。"
            if ask
            else "未发送确认邮件（今日待确认指令过多，或未配置发信）；如需执行，请在服务器上用 intake 命令操作。"
        )
        s.add(
            ReviewItem(
                mail_id=row.id,
                reason=codes.COMMAND_PENDING,
                detail=f"{reason}。指令未执行：{texts}。{outcome}",
                candidates=[],
                created_at=now,
            )
        )
        if ask and to is not None:
            context = CommandReplyContext(
                command=title_of(commands),
                ok=False,
                lines=(reason + "。",),
                code=code,
                expires_at=expires.astimezone(deps.config.campaign.tz),
            )
            answer(s, deps, context, f"command:{row.dedupe_key}", mail, to=to)
        else:
            log.warning("command mail %s held without a confirmation request", row.message_id)
        after(s)
        return row.id


def confirm_command_mail(
    deps: Deps,
    mail: IncomingMail,
    pending_id: int,
    record: Callable[[Session], Mail],
    after: Callable[[Session], None],
) -> int:
    """Record the reply quoting a code and, if the code is valid, run the commands held under it."""
    now = deps.clock()
    status_key: str | None = None
    with deps.sessions.begin() as s:
        row = record(s)
        pending = s.get_one(PendingCommand, pending_id)
        to = pending.sent_to or mail.from_addr
        state = code_state(pending.status, pending.expires_at, now)
        if state is CodeState.VALID:
            claimed = s.execute(
                update(PendingCommand)
                .where(PendingCommand.id == pending.id, PendingCommand.status == "pending")
                .values(status="done", confirmed_mail_id=row.id, confirmed_at=now)
                .execution_options(synchronize_session=False)
            )
            if getattr(claimed, "rowcount", 0) != 1:
                state = CodeState.USED  # another poller ran it a moment ago
        if state is not CodeState.VALID:
            why = "已使用过" if state is CodeState.USED else "已过期（有效期 24 小时）"
            context = CommandReplyContext(
                command=f"确认码 {pending.code}",
                ok=False,
                lines=(f"该确认码{why}，没有执行任何指令。如仍需执行，请重新发送指令。",),
            )
            if deps.config.smtp is not None:
                answer(s, deps, context, f"command:{row.dedupe_key}", mail, to=to)
            after(s)
            return row.id
        sections = known_sections(deps)
        held = Commands(tuple(c for line in pending.commands.splitlines() if (c := parse_line(line, sections))))
        original = s.get_one(Mail, pending.mail_id)
        scope = s.get(Mail, pending.scope_mail_id) if pending.scope_mail_id is not None else None
        when = original.received_at.astimezone(deps.config.campaign.tz)
        preface = (f"已凭确认码 {pending.code} 执行您 {when:%m月%d日 %H:%M} 发来的指令（{original.subject}）：",)
        status_key = run_commands(s, deps, row, mail, held, scope, to=to, preface=preface)
        s.execute(
            update(ReviewItem)
            .where(
                ReviewItem.mail_id == original.id,
                ReviewItem.reason == codes.COMMAND_PENDING,
                ReviewItem.status == "open",
            )
            .values(status="resolved", resolution="协调人已凭确认码确认，指令已执行", resolved_at=now)
            .execution_options(synchronize_session=False)
        )
        after(s)
        mail_id = row.id
    if status_key is not None:
        status_reply(deps, mail, status_key, to=to)
    return mail_id
