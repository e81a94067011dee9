"""Commands the coordinator sends by mail: decide whether to obey, execute, answer.

``route`` looks at one parsed mail and the sender verdict (``rules.sender``): the commands
(``rules.commands``) it carries and what ``rules.authority.command_authority`` says about them, fail
closed: they run at once only from an address in ``[coordinator] emails`` that the receiving server
verified (or, with ``require_auth_pass = false``, from the address alone); an unverified one is held
for the coordinator's one-time confirmation code (``bot.coordinator.confirmations``); everything else
is refused. A mail from a coordinator address that quotes a code it was sent is a confirmation.
A refused mail is processed as an ordinary one, and ``note_refused`` tells the coordinator (a review
item; a reply to her configured address when the mail came from it).

``handle_command_mail`` records the mail (kind "command") and runs every command in its own
savepoint, so one bad command does not undo the others, then queues one ``command_reply`` (outbox
key ``command:<mail key>``) saying what was done or why not, and a ``return_notice`` per item sent
back (``return_notice:<return id>``). All in the mail's transaction. ``状态`` is answered with the
digest, built after that commit so it shows what the other commands changed
(``command:<mail key>:status``). Answers go to the coordinator's *configured* address, never to
whatever ``From:`` said.

A reply to a receipt keeps its reference: the receipt's Message-ID is the outbox row
``receipt:<mail key>``, which names the submission; commands without a file or indicator then apply
to that submission's files.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.app import Deps
from bot.coordinator import cloud
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
from bot.coordinator.flags import clear_flag
from bot.coordinator.refs import explain_unknown
from bot.ingest import findings
from bot.mime.mail import IncomingMail, Material, Skipped
from bot.outgoing.compose import compose
from bot.outgoing.messages import CommandReplyContext, IndicatorRef, MailContext, ReturnNoticeContext
from bot.outgoing.messages import MailKind as OutgoingKind
from bot.outgoing.outbox import enqueue
from bot.outgoing.sending import signature
from db.models import Attachment, Mail, Outbox, PendingCommand, ReviewItem
from db.queries import find_pending, mail_by_dedupe_key
from rules import codes
from rules.authority import Authority, CodeState, code_state, codes_in, command_authority
from rules.commands import HELP_LINES, Command, Commands, Verb, brings_files, parse_commands
from rules.mailkind import MailKind
from rules.sender import SenderVerdict

log = logging.getLogger(__name__)

# The files a command mail brought (for 已下载), read when a command needs them.
Files = Callable[[], tuple[Sequence[Material], Sequence[Skipped]]]


@dataclass(frozen=True)
class Route:
    commands: Commands = field(default_factory=Commands)
    authority: Authority | None = None  # None: no commands
    reason: str = ""  # why they run or not (Chinese)
    confirms: int | None = None  # the pending_command this mail confirms (it quotes the code)

    @property
    def obey(self) -> bool:
        return self.authority is Authority.RUN

    @property
    def refusal(self) -> str | None:
        return self.reason if self.authority is Authority.REFUSE else None


def known_sections(deps: Deps) -> tuple[str, ...]:
    return findings.known_sections(deps.catalogue, deps.config.sections)


def coordinator_address(deps: Deps, address: str) -> str | None:
    """The configured coordinator address equal to ``address``, or None: answers go to this one."""
    wanted = address.strip().lower()
    return next((a for a in deps.config.coordinator.emails if a == wanted), None) if wanted else None


def is_coordinator(deps: Deps, address: str) -> bool:
    return coordinator_address(deps, address) is not None


def route(
    deps: Deps, mail: IncomingMail, kind: MailKind, sender: SenderVerdict, parsed: Commands | None = None
) -> Route:
    """Whether ``mail`` carries commands (or confirms held ones), and what to do with them.
    ``parsed``: the commands of its text when a worker read them already (``bot.ingest.findings``)."""
    if kind is not MailKind.SUBMISSION:
        return Route()
    files = bool(mail.materials or mail.cloud_links)
    commands = parsed if parsed is not None else parse_commands(mail.subject.text, mail.body_text, known_sections(deps))
    if sender.address and is_coordinator(deps, sender.address) and not files:
        quoted = codes_in(mail.subject.text, mail.body_text)
        pending: PendingCommand | None = None
        if quoted:
            with deps.sessions() as s:
                found = find_pending(s, quoted)
                pending = s.get(PendingCommand, found) if found is not None else None
        if pending is not None:
            valid = code_state(pending.status, pending.expires_at, deps.clock()) is CodeState.VALID
            # A used or expired code quoted in a reply that carries new commands of its own (she answered
            # in an old thread): the new commands count. Otherwise the reply is about the code.
            if valid or not commands:
                return Route(confirms=pending.id)
    if not commands:
        return Route()
    verdict = command_authority(
        sender,
        is_coordinator=is_coordinator(deps, sender.address),
        require_auth_pass=deps.config.coordinator.require_auth_pass,
        has_files=files and not brings_files(commands),
    )
    return Route(commands, verdict.decision, verdict.reason)


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
    with deps.sessions.begin() as s:
        row = record(s)
        run_commands(
            s, deps, row, mail, commands, referenced_mail(s, mail), to=mail.from_addr,
            files=lambda: (mail.materials, mail.skipped),
        )  # fmt: skip
        after(s)
        return row.id


def run_commands(
    s: Session,
    deps: Deps,
    row: Mail,
    mail: IncomingMail,
    commands: Commands,
    scope: Mail | None,
    *,
    to: str,
    preface: tuple[str, ...] = (),
    files: Files | None = None,
) -> None:
    """Execute ``commands`` (each in a savepoint) for the command mail ``row`` and queue the reply to
    the coordinator address ``to``, and the 状态 answer if one was asked for: all in the caller's
    transaction, so a crash loses neither the commands nor their answers. ``files``: the files the
    mail brought (for 已下载)."""
    lines: list[str] = list(preface)
    ok = True
    for command in commands.commands:
        try:
            with s.begin_nested():
                lines.extend(_execute(s, deps, row, command, scope, files))
        except ActionError as exc:
            ok = False
            lines.append(f"✗ {command.text}：{exc}")
    if not all(c.verb is Verb.STATUS for c in commands.commands) or preface:
        _reply(s, deps, row, mail, title_of(commands), ok, lines, to=to)
    if any(c.verb is Verb.STATUS for c in commands.commands):
        status_reply(s, deps, mail, f"command:{row.dedupe_key}:status", to=to)


def title_of(commands: Commands) -> str:
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


def _execute(
    s: Session, deps: Deps, row: Mail, command: Command, scope: Mail | None, files: Files | None = None
) -> list[str]:
    catalogue = deps.catalogue
    section = command.sections[0] if command.sections else None
    actor = Actor("mail", row.from_addr or row.from_name or "（未知）", row.id)
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
        outcome = assign(
            s, catalogue, refs[0], command.indicators, section=section, actor=actor, command=command.text,
            storage=deps.storage,
        )  # fmt: skip
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
        ref, reason = command.refs[0], command.reason
        if ref[:1] in "Cc":  # a cloud link (C3), not a review item
            return _done(cloud.dismiss(s, deps, ref, reason=reason, actor=actor, command=command.text))
        return _done(dismiss(s, ref, reason=reason, actor=actor, command=command.text))
    if command.verb is Verb.FETCHED:
        if len(command.refs) != 1:
            raise ActionError("请写明一个云附件编号，并附上下载的文件，例如：已下载 C3")
        materials, skipped = files() if files is not None else ((), ())
        return _done(cloud.fetch(s, deps, command.refs[0], materials, skipped, actor=actor, command=command.text))
    if command.verb is Verb.CLEAR_FLAG:
        if len(command.refs) != 1:
            raise ActionError("请写明一个文件编号，例如：解除涉密 A34")
        return _done(clear_flag(s, command.refs[0], actor=actor, command=command.text))
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


def _reply(
    s: Session, deps: Deps, row: Mail, mail: IncomingMail, title: str, ok: bool, lines: list[str], *, to: str
) -> None:
    if deps.config.smtp is None:
        log.warning("no [smtp]: the answer to command mail %s is not sent", row.message_id)
        return
    context = CommandReplyContext(command=title, ok=ok, lines=tuple(lines))
    answer(s, deps, context, f"command:{row.dedupe_key}", mail, to=to)


def status_reply(s: Session, deps: Deps, mail: IncomingMail, key: str, *, to: str) -> None:
    """The 状态 answer: the digest as the record stands in this transaction (after the mail's other
    commands), queued in it."""
    if deps.config.smtp is None:
        return
    from bot.outgoing.digest import build_digest

    s.flush()
    context = build_digest(deps, deps.clock(), session=s)
    answer(s, deps, context, key, mail, to=to, template="digest")


def answer(
    s: Session,
    deps: Deps,
    context: MailContext,
    key: str,
    mail: IncomingMail,
    *,
    to: str,
    template: OutgoingKind | None = None,
) -> None:
    """Queue an answer about a command mail, threaded under it, to the coordinator's configured
    address ``to`` (``coordinator_address``: never an address only the mail's header vouches for)."""
    address = coordinator_address(deps, to)
    if address is None:
        log.warning("command answer %s: %r is no configured coordinator address; not sent", key, to)
        return
    now = deps.clock()
    message = compose(
        deps.config,
        "command_reply",
        context,
        key=key,
        to=[address],
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
        context = CommandReplyContext(command=title_of(found.commands), ok=False, lines=(found.refusal + "。",))
        answer(s, deps, context, f"command:{row.dedupe_key}", mail, to=mail.from_addr)
