"""The coordinator's verdicts on materials: return (退回), accept (确认), declare (不涉及).

- return: the files stop counting (their assignments are no longer current, so status, reminders and
  the export leave them out) and a ``return_record`` keeps the item owed until a file arrives for it
  again; an acceptance of the item is withdrawn. ``ReturnedItem`` says whom to notify.
- accept: an ``acceptance`` row per (indicator, section) that has current files.
- declare: a declaration made by the coordinator for a section.

Every write goes through the ``Journal`` (the action log, and undo); names are checked first
(``bot.coordinator.refs``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.coordinator.journal import Actor, Journal, Outcome
from bot.coordinator.refs import (
    ActionError,
    check_section,
    find_attachment,
    find_review_item,
    parse_ids,
    parse_ref,
)
from db.models import Acceptance, Assignment, Attachment, Declaration, Mail, ReturnRecord, utcnow
from db.upserts import ensure_declaration
from rules.catalogue import Catalogue


@dataclass(frozen=True)
class ReturnedItem:
    """One (indicator, section) sent back: who to tell, and about which files."""

    record_id: int
    indicator_id: str
    section: str
    filenames: tuple[str, ...]
    mail_id: int  # the submission that brought the (first) file
    reason: str


@dataclass(frozen=True)
class ReturnOutcome(Outcome):
    items: list[ReturnedItem] = field(default_factory=list)


def _owner_section(catalogue: Catalogue, indicator_id: str, section: str | None) -> str | None:
    if section:
        return section
    owners = catalogue[indicator_id].sections
    return owners[0] if len(owners) == 1 else None


def _targets(
    s: Session,
    catalogue: Catalogue,
    refs: Sequence[str],
    words: Sequence[str],
    section: str | None,
    mail_scope: Mail | None,
) -> list[Assignment]:
    """The current assignments a return/accept names: files (A34, R12), an indicator (+ section), or
    the files of the mail a receipt answered."""
    ids = parse_ids(words, catalogue) if words else []
    found: list[Assignment] = []
    if refs:
        for text in refs:
            ref = parse_ref(text)
            if ref.kind == "review":
                item = find_review_item(s, ref)
                if item.attachment is None:
                    raise ActionError(f"待办 R{item.id} 没有对应的文件")
                attachment = item.attachment
            else:
                attachment = find_attachment(s, ref)
            current = [a for a in attachment.assignments if a.is_current and (not ids or a.indicator_id in ids)]
            if not current:
                under = "指标" + "、".join(ids) if ids else "任何指标"
                raise ActionError(f"文件 A{attachment.id}“{attachment.filename}”目前没有计入{under}")
            found.extend(current)
        return found
    if mail_scope is not None:
        stmt = (
            select(Assignment)
            .join(Attachment, Assignment.attachment_id == Attachment.id)
            .where(Attachment.mail_id == mail_scope.id, Assignment.is_current.is_(True))
            .order_by(Assignment.id)
        )
        found = [a for a in s.scalars(stmt) if not ids or a.indicator_id in ids]
        if not found:
            raise ActionError(f"邮件“{mail_scope.subject}”中没有计入{'指标' + '、'.join(ids) if ids else '指标'}的文件")
        return found
    if not ids:
        raise ActionError("请写明文件编号（例如 A34）或指标编号（例如 指标12 支队）")
    for indicator_id in ids:
        owner = _owner_section(catalogue, indicator_id, section)
        stmt = select(Assignment).where(Assignment.indicator_id == indicator_id, Assignment.is_current.is_(True))
        stmt = stmt.where(Assignment.section == owner if owner is not None else Assignment.section != "")
        rows = list(s.scalars(stmt.order_by(Assignment.id)))
        if owner is None and len({a.section for a in rows}) > 1:
            owners = "、".join(catalogue[indicator_id].sections)
            example = f"指标{indicator_id} {catalogue[indicator_id].sections[0]}"
            raise ActionError(f"指标{indicator_id}由{owners}共同负责，请写明科室（例如：{example}）")
        if not rows:
            raise ActionError(f"指标{indicator_id}{('（' + owner + '）') if owner else ''}目前没有收到材料")
        found.extend(rows)
    return found


def _groups(assignments: Sequence[Assignment]) -> dict[tuple[str, str], list[Assignment]]:
    groups: dict[tuple[str, str], list[Assignment]] = {}
    for a in assignments:
        groups.setdefault((a.indicator_id, a.section), []).append(a)
    return groups


def return_(
    s: Session,
    catalogue: Catalogue,
    refs: Sequence[str] = (),
    words: Sequence[str] = (),
    *,
    reason: str,
    section: str | None = None,
    mail_scope: Mail | None = None,
    actor: Actor,
    command: str = "",
) -> ReturnOutcome:
    """Send files back to their section: by file (A34 / R12), by indicator (+ section), or all files of
    ``mail_scope`` (the mail a receipt answered). ``reason`` is quoted to the section."""
    reason = reason.strip()
    if not reason:
        raise ActionError("请写明退回原因，例如：退回 A34 原因：缺少盖章页")
    section = check_section(section, catalogue) if section else None
    assignments = _targets(s, catalogue, refs, words, section, mail_scope)
    if any(not a.section for a in assignments):
        raise ActionError("该文件的发件人不属于任何科室，无法退回；请先用“指派 R编号 科室”确认科室")
    j = Journal(s)
    items: list[ReturnedItem] = []
    for (indicator_id, sec), rows in _groups(assignments).items():
        for a in rows:
            j.update(a, is_current=False)
        files = tuple(dict.fromkeys(a.attachment.filename for a in rows))
        record = ReturnRecord(
            indicator_id=indicator_id,
            section=sec,
            attachment_id=rows[0].attachment_id if len(rows) == 1 else None,
            command_mail_id=actor.mail_id,
            reason=reason,
            source=actor.source,
            created_at=utcnow(),
        )
        j.add(record)
        for acceptance in s.scalars(
            select(Acceptance).where(Acceptance.indicator_id == indicator_id, Acceptance.section == sec)
        ):
            j.delete(acceptance)
        items.append(ReturnedItem(record.id, indicator_id, sec, files, rows[0].attachment.mail_id, reason))
    text = (
        "；".join(
            f"已退回{i.section}指标{i.indicator_id}的材料“{'”“'.join(i.filenames)}”，该项重新列为待报送" for i in items
        )
        + f"。退回原因：{reason}"
    )
    entry = j.commit(actor, "return", command or f"退回 {' '.join([*refs, *words])} 原因：{reason}", text)
    return ReturnOutcome(text, entry.id, items)


def accept(
    s: Session,
    catalogue: Catalogue,
    words: Sequence[str] = (),
    *,
    section: str | None = None,
    mail_scope: Mail | None = None,
    actor: Actor,
    command: str = "",
) -> Outcome:
    """Mark the current materials of indicator(s) (for one section, or every section that sent some)
    as checked; or those of ``mail_scope``."""
    section = check_section(section, catalogue) if section else None
    if mail_scope is not None:
        assignments = _targets(s, catalogue, (), words, section, mail_scope)
        keys = list(dict.fromkeys((a.indicator_id, a.section) for a in assignments if a.section))
    else:
        ids = parse_ids(words, catalogue)
        keys = []
        for indicator_id in ids:
            stmt = select(Assignment.section).where(
                Assignment.indicator_id == indicator_id, Assignment.is_current.is_(True), Assignment.section != ""
            )
            if section:
                stmt = stmt.where(Assignment.section == section)
            sections = list(dict.fromkeys(s.scalars(stmt)))
            if not sections:
                raise ActionError(
                    f"指标{indicator_id}{('（' + section + '）') if section else ''}尚未收到材料，无法确认"
                )
            keys.extend((indicator_id, sec) for sec in sections)
    if not keys:
        raise ActionError("没有可确认的材料")
    j = Journal(s)
    now = utcnow()
    for indicator_id, sec in keys:
        row = s.scalar(select(Acceptance).where(Acceptance.indicator_id == indicator_id, Acceptance.section == sec))
        if row is None:
            j.add(
                Acceptance(
                    indicator_id=indicator_id, section=sec, mail_id=actor.mail_id, source=actor.source, created_at=now
                )
            )
        else:
            j.update(row, created_at=now, mail_id=actor.mail_id, source=actor.source)
    text = "已确认：" + "、".join(f"指标{i}（{sec}）" for i, sec in keys) + " 的材料审核通过。"
    entry = j.commit(actor, "accept", command or f"确认 {' '.join(words)} {section or ''}".strip(), text)
    return Outcome(text, entry.id)


def declare(
    s: Session,
    catalogue: Catalogue,
    words: Sequence[str],
    *,
    section: str | None,
    actor: Actor,
    command: str = "",
) -> Outcome:
    """Record that ``section`` has no material for indicator(s) (不涉及), on the coordinator's word."""
    ids = parse_ids(words, catalogue)
    if not section:
        raise ActionError("请写明科室，例如：不涉及 指标45 人事科")
    section = check_section(section, catalogue)
    wrong = [i for i in ids if section not in catalogue[i].sections]
    if wrong:
        raise ActionError(
            "；".join(f"指标{i}的责任单位是{'、'.join(catalogue[i].sections)}，不包括{section}" for i in wrong)
        )
    j = Journal(s)
    added = []
    for indicator_id in ids:
        if ensure_declaration(s, indicator_id, section, mail_id=actor.mail_id, source="coordinator"):
            row = s.scalars(
                select(Declaration).where(Declaration.indicator_id == indicator_id, Declaration.section == section)
            ).one()
            j.inserted(row)
            added.append(indicator_id)
    text = f"已登记{section}指标{'、'.join(ids)}不涉及（无材料）"
    already = [i for i in ids if i not in added]
    if already:
        text += f"；其中指标{'、'.join(already)}此前已登记"
    entry = j.commit(actor, "declare", command or f"不涉及 {' '.join(words)} {section}", text + "。")
    return Outcome(text + "。", entry.id)
