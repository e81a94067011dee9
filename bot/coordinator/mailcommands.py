"""Commands the coordinator sends by mail: decide whether to obey, execute, answer.

``route`` looks at one parsed mail: commands (``rules.commands``) from an address in
``[coordinator] emails`` are obeyed, unless the receiving server's ``Authentication-Results`` shows
the From domain failing DKIM/SPF/DMARC (``[coordinator] require_auth_pass``, on by default). Anything
else that reads like a command is processed as an ordinary mail, and ``note_refused`` tells the
coordinator (a review item; a reply to the coordinator's own address when the refusal was for
failed authentication, so she learns that someone used her name).

``handle_command_mail`` records the mail (kind "command") and runs every command in its own
savepoint, so one bad command does not undo the others, then queues one ``command_reply`` (outbox
key ``command:<mail key>``) saying what was done or why not, and a ``return_notice`` per item sent
back (``return_notice:<return id>``). All in the mail's transaction. ``状态`` is answered with the
digest, built after that commit so it shows what the other commands changed
(``command:<mail key>:status``).

A reply to a receipt keeps its reference: the receipt's Message-ID is the outbox row
``receipt:<mail key>``, which names the submission; commands without a file or indicator then apply
to that submission's files.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.app import Deps
from bot.coordinator.actions import (
    ActionError,
    Actor,
    Outcome,
    ReturnedItem,
    accept,
    assign,
    declare,
    dismiss,
    return_,
    undo_action,
)
from bot.coordinator.refs import explain_unknown
from bot.mime.mail import IncomingMail
from bot.outgoing.compose import compose
from bot.outgoing.messages import CommandReplyContext, IndicatorRef, MailContext, ReturnNoticeContext
from bot.outgoing.messages import MailKind as OutgoingKind
from bot.outgoing.outbox import enqueue
from bot.outgoing.sending import signature
from db.models import Attachment, Mail, Outbox, ReviewItem
from db.queries import mail_by_dedupe_key
from rules import codes
from rules.commands import HELP_LINES, Command, Commands, Verb, auth_failure, parse_commands
from rules.mailkind import MailKind

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Route:
    commands: Commands = field(default_factory=Commands)
    obey: bool = False
    refusal: str | None = None  # why commands were not obeyed (Chinese); None when obeyed or none


def known_sections(deps: Deps) -> tuple[str, ...]:
    return tuple(dict.fromkeys((*deps.catalogue.sections, *(s.name for s in deps.config.sections))))


def is_coordinator(deps: Deps, address: str) -> bool:
    return address.strip().lower() in deps.config.coordinator.emails


def route(deps: Deps, mail: IncomingMail, kind: MailKind) -> Route:
    """Whether ``mail`` carries commands, and whether to obey them."""
    if kind is not MailKind.SUBMISSION:
        return Route()
    commands = parse_commands(mail.subject.text, mail.body_text, known_sections(deps))
    if not commands:
        return Route()
    if not is_coordinator(deps, mail.from_addr):
        return Route(commands, refusal=f"发件人 {mail.from_addr or '（无地址）'} 不是协调人，邮件中的指令未执行")
    if deps.config.coordinator.require_auth_pass:
        failed = auth_failure(mail.headers.get("authentication-results", ""), mail.from_addr)
        if failed is not None:
            return Route(commands, refusal=f"收件服务器验证发件人失败（{failed}），该邮件可能是冒名发送，指令未执行")
    if mail.materials or mail.cloud_links:
        # The coordinator is also 法规科's sender: a mail with files is material ("确认指标12材料"
        # reads like a command). Files are never dropped for the sake of a command.
        return Route(
            commands, refusal="邮件带有附件，已按报送材料处理，其中的指令未执行；下指令请单独发送不带附件的邮件"
        )
    return Route(commands, obey=True)


# -- the obeyed path ------------------------------------------------------------------------------


def handle_command_mail(
    deps: Deps,
    mail: IncomingMail,
    commands: Commands,
    record: Callable[[Session], Mail],
    after: Callable[[Session], None],
) -> int:
    """Record the command mail (``record`` adds the row), execute, queue the answers; returns the
    mail's id. ``after`` runs last in the same transaction (the poll saves its cursor there)."""
    status_key: str | None = None
    with deps.sessions.begin() as s:
        row = record(s)
        scope = referenced_mail(s, mail)
        lines: list[str] = []
        ok = True
        for command in commands.commands:
            try:
                with s.begin_nested():
                    lines.extend(_execute(s, deps, row, command, scope))
            except ActionError as exc:
                ok = False
                lines.append(f"✗ {command.text}：{exc}")
        only_status = all(c.verb is Verb.STATUS for c in commands.commands)
        if not only_status:
            _reply(s, deps, row, mail, _title(commands), ok, lines)
        if any(c.verb is Verb.STATUS for c in commands.commands):
            status_key = f"command:{row.dedupe_key}:status"
        after(s)
        mail_id = row.id
    if status_key is not None:
        _status_reply(deps, mail, status_key)
    return mail_id


def _title(commands: Commands) -> str:
    first = commands.commands[0].text
    return first if len(commands.commands) == 1 else f"{first} 等{len(commands.commands)}条指令"


def referenced_mail(s: Session, mail: IncomingMail) -> Mail | None:
    """The submission whose receipt this mail answers (In-Reply-To first, then References)."""
    for parent in (mail.in_reply_to, *reversed(mail.references)):
        if not parent:
            continue
        key = s.scalar(select(Outbox.dedupe_key).where(Outbox.message_id == parent.strip()))
        if key is not None and key.startswith("receipt:"):
            return mail_by_dedupe_key(s, key.removeprefix("receipt:"))
    return None


def _done(outcome: Outcome) -> list[str]:
    return [f"✓ {outcome.text}", f"（操作 {outcome.log_id}；如需撤销，回复：撤销 {outcome.log_id}）"]


def _execute(s: Session, deps: Deps, row: Mail, command: Command, scope: Mail | None) -> list[str]:
    catalogue = deps.catalogue
    section = command.sections[0] if command.sections else None
    actor = Actor("mail", row.from_addr, row.id)
    if command.unknown:
        raise ActionError(explain_unknown(command.unknown, catalogue, known_sections(deps)))
    if len(command.sections) > 1:
        raise ActionError("一条指令只能写一个科室")
    if command.verb is Verb.HELP:
        return list(HELP_LINES)
    if command.verb is Verb.STATUS:
        return ["进度汇总见另一封回复邮件。"]
    if command.verb is Verb.ASSIGN:
        refs = list(command.refs) or _scope_refs(s, scope)
        if len(refs) != 1:
            raise ActionError("请写明一个待办编号或文件编号，例如：指派 R12 指标12")
        outcome = assign(s, catalogue, refs[0], command.indicators, section=section, actor=actor, command=command.text)
        return _done(outcome)
    if command.verb is Verb.RETURN:
        use_scope = scope if not command.refs else None
        if use_scope is None and not command.refs and not command.indicators:
            raise ActionError("请写明文件编号或指标编号，例如：退回 A34 原因：缺少盖章页；或直接回复回执邮件")
        result = return_(
            s, catalogue, command.refs, command.indicators, reason=command.reason, section=section,
            mail_scope=use_scope, actor=actor, command=command.text,
        )  # fmt: skip
        for item in result.items:
            queue_return_notice(s, deps, item)
        return [*_done(result), "已通知报送科室。"]
    if command.verb is Verb.ACCEPT:
        use_scope = scope if not command.indicators else None
        if use_scope is None and not command.indicators:
            raise ActionError("请写明指标编号，例如：确认 指标12；或直接回复回执邮件")
        outcome = accept(
            s, catalogue, command.indicators, section=section, mail_scope=use_scope, actor=actor, command=command.text
        )
        return _done(outcome)
    if command.verb is Verb.DECLARE:
        return _done(declare(s, catalogue, command.indicators, section=section, actor=actor, command=command.text))
    if command.verb is Verb.DISMISS:
        if len(command.refs) != 1:
            raise ActionError("请写明一个待办编号，例如：关闭 R12 原因：重复邮件")
        return _done(dismiss(s, command.refs[0], reason=command.reason, actor=actor, command=command.text))
    if command.verb is Verb.UNDO:
        if len(command.refs) != 1:
            raise ActionError("请写明一个操作编号，例如：撤销 7（每条指令的回复中写有操作编号）")
        return [f"✓ {undo_action(s, command.refs[0], actor=actor).text}"]
    raise ActionError(f"不支持的指令：{command.text}")  # pragma: no cover - every verb is handled


def _scope_refs(s: Session, scope: Mail | None) -> list[str]:
    """In a reply to a receipt, "指派 12" means the receipt's one open review item (or one file)."""
    if scope is None:
        return []
    items = list(
        s.scalars(
            select(ReviewItem.id).where(
                ReviewItem.mail_id == scope.id, ReviewItem.status == "open", ReviewItem.attachment_id.is_not(None)
            )
        )
    )
    if len(items) == 1:
        return [f"R{items[0]}"]
    files = list(s.scalars(select(Attachment.id).where(Attachment.mail_id == scope.id)))
    return [f"A{files[0]}"] if len(files) == 1 and not items else []


# -- answers ----------------------------------------------------------------------------------------


def _reply(s: Session, deps: Deps, row: Mail, mail: IncomingMail, title: str, ok: bool, lines: list[str]) -> None:
    if deps.config.smtp is None:
        log.warning("no [smtp]: the answer to command mail %s is not sent", row.message_id)
        return
    context = CommandReplyContext(command=title, ok=ok, lines=tuple(lines))
    _answer(s, deps, context, f"command:{row.dedupe_key}", mail)


def _status_reply(deps: Deps, mail: IncomingMail, key: str) -> None:
    if deps.config.smtp is None:
        return
    from bot.outgoing.digest import build_digest  # the digest module reads its own snapshot

    context = build_digest(deps, deps.clock())
    with deps.sessions.begin() as s:
        _answer(s, deps, context, key, mail, template="digest")


def _answer(
    s: Session, deps: Deps, context: MailContext, key: str, mail: IncomingMail, template: OutgoingKind | None = None
) -> None:
    """Queue the answer to a command mail, threaded under it, to the address it came from."""
    now = deps.clock()
    message = compose(
        deps.config,
        "command_reply",
        context,
        key=key,
        to=[mail.from_addr],
        now=now,
        parent=mail.message_id,
        references=mail.references,
        template=template,
    )
    enqueue(s, kind="command_reply", dedupe_key=key, message=message, now=now)


def queue_return_notice(s: Session, deps: Deps, item: ReturnedItem) -> None:
    """Tell the section that sent the files that they were sent back, quoting the reason."""
    if deps.config.smtp is None:
        log.warning("no [smtp]: the return notice for %s/%s is not sent", item.indicator_id, item.section)
        return
    submission = s.get_one(Mail, item.mail_id)
    section = deps.config.section(item.section)
    owners = [addr for _, addr in section.owners] if section is not None else []
    to = [submission.from_addr] if submission.from_addr else owners[:1]
    if not to:
        log.warning("return notice for %s/%s: nobody to tell", item.indicator_id, item.section)
        return
    name = submission.from_name or next((n for n, a in (section.owners if section else ()) if a in to), "")
    indicator = deps.catalogue.get(item.indicator_id)
    tz = deps.config.campaign.tz
    context = ReturnNoticeContext(
        campaign_title=deps.catalogue.campaign.title,
        mailbox=deps.config.mailbox.username,
        recipient_name=name,
        section=item.section,
        mail_subject=submission.subject,
        mail_date=(submission.sent_at or submission.received_at).astimezone(tz),
        filename="”“".join(item.filenames),
        indicator=IndicatorRef.of(indicator) if indicator is not None else None,
        reason=item.reason,
        subject_example=f"指标{item.indicator_id}-{item.section}-{item.filenames[0].rpartition('.')[0] or '材料名称'}",
        deadline=deps.config.campaign.deadline,
        signature=signature(deps.config),
    )
    key = f"return_notice:{item.record_id}"
    now = deps.clock()
    message = compose(
        deps.config,
        "return_notice",
        context,
        key=key,
        to=to,
        now=now,
        cc=[a for a in owners if a not in to],
        parent=submission.message_id,
    )
    enqueue(s, kind="return_notice", dedupe_key=key, message=message, now=now)


# -- the refused path -------------------------------------------------------------------------------


def note_refused(s: Session, deps: Deps, row: Mail, mail: IncomingMail, found: Route) -> None:
    """The mail was recorded as an ordinary one; tell the coordinator its commands were not obeyed."""
    if not found.commands or found.obey or found.refusal is None:
        return
    texts = "；".join(c.text for c in found.commands.commands)
    s.add(
        ReviewItem(
            mail_id=row.id,
            reason=codes.COMMAND_REFUSED,
            detail=f"{found.refusal}：{texts}。邮件已按普通来信处理。",
            candidates=[],
        )
    )
    if is_coordinator(deps, mail.from_addr) and deps.config.smtp is not None:
        lines = [
            found.refusal + "。",
            "如确系本人发送，请检查邮箱的发信验证（SPF/DKIM）设置，或在服务器上用 intake 命令操作。",
        ]
        context = CommandReplyContext(command=_title(found.commands), ok=False, lines=tuple(lines))
        _answer(s, deps, context, f"command:{row.dedupe_key}", mail)
