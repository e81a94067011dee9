"""What the coordinator can do to the record: assign, dismiss, return, accept, declare, and undo.

Shared by the CLI and by commands sent by email, so both behave the same. Each action takes a
session inside the caller's transaction, checks every name it is given against the checklist
(``bot.coordinator.refs``: sections with a "是指“办公室”吗？" suggestion, indicator ids with the valid
range, file and review-item ids with their forms) before it changes anything, writes through a
``Journal`` so the change lands in the action log, and returns an ``Outcome``: a Chinese sentence
saying what was done and the log number that ``undo`` takes. Failures raise ``ActionError``.
Sending mail is the caller's job.

- assign (指派): a review item's file (R12) or a recorded file (A34 / SHA-256 prefix) counts for
  indicators, under the version rule; for an unknown sender's mail, the section says whose it is.
  A file already counted for the indicator under another section moves when a section is named.
- dismiss (关闭): the review item is closed without counting anything.
- return (退回), accept (确认), declare (不涉及): ``bot.coordinator.verdicts``.
- undo (撤销): ``bot.coordinator.journal.undo`` of one log entry.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.coordinator.journal import Actor, Journal, Outcome, changes_text, undo
from bot.coordinator.refs import (
    ActionError,
    Ref,
    check_section,
    find_attachment,
    find_review_item,
    parse_ids,
    parse_ref,
)
from bot.coordinator.verdicts import ReturnedItem, accept, declare, return_
from bot.ingest.storage import Storage
from bot.ingest.validate import stored_texts, validate_mail
from db.models import ActionLog, Assignment, Attachment, Declaration, Mail, Problem, ReviewItem, utcnow
from db.queries import attachment_ids_reviewed_for, versions
from db.upserts import ensure_declaration
from rules import codes
from rules.catalogue import Catalogue
from rules.disposition import PriorVersion, next_version
from rules.suggest import unknown_section

__all__ = [
    "ActionError",
    "Actor",
    "Outcome",
    "ReturnedItem",
    "accept",
    "assign",
    "declare",
    "dismiss",
    "return_",
    "undo_action",
]


def _resolve(j: Journal, item: ReviewItem, status: str, resolution: str) -> None:
    j.update(item, status=status, resolution=resolution, resolved_at=utcnow())


def _open_item(s: Session, ref: str) -> ReviewItem:
    item = find_review_item(s, ref)
    if item.status != "open":
        raise ActionError(f"待办 R{item.id} 已处理（{item.resolution or item.status}）")
    return item


def assign(
    s: Session,
    catalogue: Catalogue,
    ref: str,
    words: Sequence[str],
    *,
    section: str | None = None,
    actor: Actor,
    command: str = "",
    storage: Storage | None = None,
) -> Outcome:
    """Put a review item's file (R12) or a recorded file (A34 / sha prefix) under indicator(s).

    With ``storage`` (the CLI and mailed commands always give it) the file is then validated as an
    automatically assigned one is (``bot.ingest.validate``: 情况说明 word count, 涉密 marks in the
    document), and what that finds is part of the answer.

    For an unknown sender's mail (its review item), ``section`` says whose it is: the mail's files
    and declarations move to that section; with indicators, its one file counts for exactly those."""
    named_section = check_section(section, catalogue) if section else None
    target = parse_ref(ref)
    ids = parse_ids(words, catalogue) if words else []
    j = Journal(s)
    if target.kind == "review":
        item = _open_item(s, ref)
        if item.reason in (codes.UNKNOWN_SENDER, codes.SENDER_UNVERIFIED):
            if named_section is None:
                raise ActionError(
                    f"待办 R{item.id} 的发件人 {_sender(item.mail)} 不属于任何科室，请写明科室"
                    f"（例如 intake assign R{item.id} --section 办公室，或邮件“指派 R{item.id} 办公室”）"
                )
            text = _rehome(j, item, named_section, ids, actor)
        else:
            attachment = item.attachment
            if attachment is None:
                raise ActionError(
                    f"待办 R{item.id} 没有对应的文件，无法指派；处理完后可关闭它：intake dismiss R{item.id}"
                )
            if not ids:
                hint = f"（候选：{'、'.join(item.candidates)}）" if item.candidates else ""
                raise ActionError(f"请写明指标编号，例如 intake assign R{item.id} 12{hint}")
            text = _assign_file(j, catalogue, attachment, ids, named_section)
            _resolve(j, item, "resolved", f"{actor.label}指派到指标{'、'.join(ids)}")
    else:
        if not ids:
            raise ActionError("请写明指标编号，例如 intake assign A34 12")
        attachment = find_attachment(s, target)
        text = _assign_file(j, catalogue, attachment, ids, named_section)
        for item in _open_items_of(s, attachment):
            _resolve(j, item, "resolved", f"{actor.label}指派到指标{'、'.join(ids)}")
    if storage is not None:
        text += _validated(s, target, ref, storage, catalogue)
    entry = j.commit(actor, "assign", command or f"指派 {ref} {' '.join(words)}".strip(), text)
    return Outcome(text, entry.id)


def _validated(s: Session, target: Ref, ref: str, storage: Storage, catalogue: Catalogue) -> str:
    """Validate the mail of the file just assigned: what that finds anew, and a 涉密 flag the file
    already carries (it counts, but is never exported until the flag is cleared)."""
    att = find_review_item(s, ref).attachment if target.kind == "review" else find_attachment(s, target)
    if att is None:
        return ""
    mail = att.mail
    before = {p.id for p in s.scalars(select(Problem).where(Problem.mail_id == mail.id))}
    validate_mail(s, mail, stored_texts(s, mail, storage), catalogue)
    s.flush()
    found = [
        p.detail
        for p in s.scalars(select(Problem).where(Problem.mail_id == mail.id).order_by(Problem.id))
        if (p.id not in before and p.attachment_id in (att.id, None))
        or (p.code == codes.POSSIBLY_CLASSIFIED and p.cleared_at is None and p.attachment_id in (att.id, None))
    ]
    return ("校验发现：" + "；".join(dict.fromkeys(found)) + "。") if found else ""


def _open_items_of(s: Session, attachment: Attachment) -> list[ReviewItem]:
    """The open "which indicator?" item of a file assigned by its file id: answered by the same act."""
    stmt = select(ReviewItem).where(
        ReviewItem.attachment_id == attachment.id,
        ReviewItem.status == "open",
        ReviewItem.reason == codes.NEEDS_REVIEW,
    )
    return list(s.scalars(stmt))


def _sender(mail: Mail) -> str:
    return mail.from_addr or mail.from_name or "（未知发件人）"


def _assign_file(
    j: Journal, catalogue: Catalogue, attachment: Attachment, ids: list[str], named_section: str | None
) -> str:
    if attachment.id in attachment_ids_reviewed_for(j.s, codes.NOT_MATERIAL):
        raise ActionError(
            f"“{attachment.filename}”不是有效材料（可执行文件、编码损坏或无法打开的压缩包），"
            "不能计入指标；请联系报送人重新发送，并用 dismiss 关闭待办"
        )
    section = named_section or attachment.mail.section or ""
    if section and named_section is None and section not in catalogue.sections:
        # A section name that reached the record before names were checked (办公司): never reuse it.
        raise ActionError(f"{unknown_section(section, catalogue.sections)}；请写明科室（--section）")
    if not section:
        raise ActionError(
            f"文件 A{attachment.id} 的发件人 {_sender(attachment.mail)} 不属于任何科室，请写明科室"
            f"（例如 intake assign A{attachment.id} {ids[0]} --section 办公室）"
        )
    already = [i for i in ids if not place(j, attachment, i, section, move=named_section is not None)]
    text = f"已将“{attachment.filename}”（{section}）计入指标{'、'.join(ids)}"
    if already:
        text += f"；其中指标{'、'.join(already)}此前已计入相同文件"
    return text + "。"


def place(
    j: Journal, att: Attachment, indicator_id: str, section: str, *, move: bool, matched_by: str = "coordinator"
) -> bool:
    """Count ``att`` for (indicator, section) as the version rule says; False when it already is.

    The file may already count for the indicator under another section (a typo such as 办公司, or
    an unknown sender's ""): with ``move`` (a section was named) that row moves; else it is an error."""
    s = j.s
    existing = next((a for a in att.assignments if a.indicator_id == indicator_id), None)
    if existing is not None and existing.section == section:
        if existing.is_current:
            return False
        raise ActionError(
            f"文件 A{att.id} 曾计入指标{indicator_id}（{section}），后已退回或被新版本替代；"
            "不能重复指派，请让科室重新报送，或撤销相应操作（intake log 查看）"
        )
    if existing is not None and existing.section and not move:
        raise ActionError(
            f"文件 A{att.id} 已计入指标{indicator_id}（{existing.section}）；要改为{section}，请写明科室 {section}"
        )
    prior = [PriorVersion(k, v, h) for k, v, h in versions(s, indicator_id, section)]
    step = next_version(att.filename, att.sha256, prior)
    if step.version is None:
        return False  # the same content already counts there (another copy of the file)
    if step.replaces is not None:
        replaced = select(Assignment).where(
            Assignment.indicator_id == indicator_id,
            Assignment.section == section,
            Assignment.name_key == step.name_key,
            Assignment.is_current.is_(True),
        )
        for row in s.scalars(replaced):
            j.update(row, is_current=False)
    values = {
        "section": section,
        "name_key": step.name_key,
        "version": step.version,
        "is_current": True,
        "matched_by": matched_by,
        "created_at": utcnow(),  # counts as arriving now: it lifts an earlier 退回 or 确认 of the item
    }
    if existing is not None:
        j.update(existing, **values)
    else:
        j.add(Assignment(attachment_id=att.id, indicator_id=indicator_id, **values))
    return True


def _rehome(j: Journal, item: ReviewItem, section: str, ids: list[str], actor: Actor) -> str:
    """An unknown sender's mail belongs to ``section``: its files and declarations count there."""
    s = j.s
    mail = item.mail
    files = list(mail.attachments)
    if ids and len(files) > 1:
        listing = "、".join(f"A{f.id}“{f.filename}”" for f in files)
        raise ActionError(
            f"该邮件有{len(files)}个文件（{listing}），不能都计入同一指标。请只写科室确认发件人"
            f"（intake assign R{item.id} --section {section}，各文件按已识别的指标计入），"
            f"再逐个指派：intake assign A{files[0].id} 指标"
        )
    unplaced = [a for f in files for a in f.assignments if a.section == "" and a.is_current]
    j.update(mail, section=section)
    counted: list[str] = []
    if ids and files:
        for a in unplaced:
            if a.indicator_id not in ids:
                j.update(a, is_current=False)  # the coordinator's indicators replace the guess
        for indicator_id in ids:
            place(j, files[0], indicator_id, section, move=True)
        counted = [f"“{files[0].filename}”计入指标{'、'.join(ids)}"]
    else:
        for a in unplaced:
            if place(j, a.attachment, a.indicator_id, section, move=True):
                counted.append(f"“{a.attachment.filename}”计入指标{a.indicator_id}")
    for indicator_id in ids if ids and not files else list(item.candidates or []):
        if ensure_declaration(s, indicator_id, section, mail_id=mail.id, source="mail"):
            row = s.scalars(
                select(Declaration).where(Declaration.indicator_id == indicator_id, Declaration.section == section)
            ).one()
            j.inserted(row)
            counted.append(f"指标{indicator_id}登记为不涉及")
    _resolve(j, item, "resolved", f"{actor.label}确认发件人属于{section}")
    text = f"已确认 {_sender(mail)} 的邮件属于{section}"
    text += "：" + "；".join(counted) + "。" if counted else "。"
    still_open = select(ReviewItem.id).where(ReviewItem.mail_id == mail.id, ReviewItem.status == "open")
    waiting = [f"R{n}" for n in s.scalars(still_open) if n != item.id]
    if waiting:
        text += f"该邮件另有待办 {'、'.join(waiting)}（文件未识别出指标），请逐个指派。"
    if not mail.from_addr:
        return text  # an unverified sender: no address to add to the config
    return text + f"以后该地址的来信要自动计入，请把 {mail.from_addr} 加入配置中{section}的 senders。"


def dismiss(s: Session, ref: str, *, reason: str = "", actor: Actor, command: str = "") -> Outcome:
    """Close a review item without counting anything."""
    item = _open_item(s, ref)
    j = Journal(s)
    _resolve(j, item, "dismissed", f"{actor.label}关闭" + (f"：{reason}" if reason else ""))
    text = f"已关闭待办 R{item.id}（{codes.REVIEW_LABELS.get(item.reason, item.reason)}）。"
    entry = j.commit(actor, "dismiss", command or f"关闭 R{item.id} {reason}".strip(), text)
    return Outcome(text, entry.id)


def undo_action(s: Session, number: str, *, actor: Actor) -> Outcome:
    """Undo the action numbered ``number`` in the log (``7``, ``#7``, ``操作7``)."""
    m = re.fullmatch(r"(?:#|操作)?\s*(\d+)", number.strip())
    if m is None:
        raise ActionError(f"操作编号“{number}”无效：写数字，例如 intake undo 7（intake log 列出操作日志）")
    entry = s.get(ActionLog, int(m.group(1)))
    if entry is None:
        raise ActionError(f"没有编号为 {m.group(1)} 的操作（intake log 列出操作日志）")
    undo_entry, notes = undo(s, entry, actor)
    text = f"{undo_entry.summary}：{changes_text(s, undo_entry.changes)}。" + "".join(f"{n}。" for n in notes)
    undo_entry.summary = text
    return Outcome(text, undo_entry.id)
