"""What the coordinator can do to the record: assign, dismiss, return, accept, declare.

Shared by the CLI and by commands sent by email, so both behave the same. Each function takes a
session inside the caller's transaction and returns a Chinese sentence saying what was done (``return_``
also says which sections to notify), or raises ``ActionError`` with a Chinese explanation. Sending
mail is the caller's job.

- return (退回): the files stop counting (their assignments are no longer current, so status,
  reminders and the export leave them out) and a ``return_record`` keeps the item owed until a file
  arrives for it again; an acceptance of the item is withdrawn.
- accept (确认): an ``acceptance`` row per (indicator, section) that has current files.
- declare (不涉及): a declaration made by the coordinator for a section.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from bot.ingest.record import assign_file
from db.models import Acceptance, Assignment, Attachment, Mail, ReturnRecord, ReviewItem, utcnow
from db.queries import attachment_ids_reviewed_for
from db.upserts import ensure_declaration
from rules import codes
from rules.catalogue import Catalogue
from rules.match import match_subject


class ActionError(ValueError):
    """The action cannot be done; ``str()`` says why, in Chinese."""


def parse_ids(words: Sequence[str], catalogue: Catalogue) -> list[str]:
    """Indicator ids from what the coordinator typed: "12", "指标12", "第十二项", "加分项1", "12、13"."""
    ids: list[str] = []
    for word in words:
        word = word.strip()
        if word in catalogue:
            found = [word]
        else:
            # The coordinator names indicators on purpose: bare numbers count here.
            m = match_subject(word)
            found = list(m.ids or m.weaker)
        bad = [i for i in found if i not in catalogue]
        if not found or bad:
            raise ActionError(f"无法识别指标编号“{word}”（可写 12、指标12、第十二项、加分项1）")
        ids.extend(i for i in found if i not in ids)
    if not ids:
        raise ActionError("请至少给出一个指标编号")
    return ids


def find_review_item(s: Session, ref: str) -> ReviewItem:
    m = re.fullmatch(r"[Rr#]?(\d+)", ref.strip())
    if m is None:
        raise ActionError(f"待办编号“{ref}”无效（例如 R12 或 12）")
    item = s.get(ReviewItem, int(m.group(1)))
    if item is None:
        raise ActionError(f"没有编号为 R{m.group(1)} 的待办")
    return item


def find_attachment(s: Session, ref: str) -> Attachment:
    ref = ref.strip()
    m = re.fullmatch(r"[Aa](\d+)", ref)
    if m is not None:
        att = s.get(Attachment, int(m.group(1)))
        if att is None:
            raise ActionError(f"没有编号为 A{m.group(1)} 的文件")
        return att
    if re.fullmatch(r"[0-9a-fA-F]{8,64}", ref):
        rows = s.scalars(select(Attachment).where(Attachment.sha256.startswith(ref.lower())).limit(2)).all()
        if len(rows) == 1:
            return rows[0]
        raise ActionError(f"SHA-256 前缀“{ref}”{'对应多个文件，请写长一些' if rows else '没有对应的文件'}")
    raise ActionError(f"文件编号“{ref}”无效（例如 A34，或 SHA-256 前缀）")


def _resolve(item: ReviewItem, status: str, resolution: str) -> None:
    item.status = status
    item.resolution = resolution
    item.resolved_at = utcnow()


def assign(
    s: Session,
    catalogue: Catalogue,
    ref: str,
    words: Sequence[str],
    *,
    section: str | None = None,
    by: str = "协调人",
) -> str:
    """Put a review item's file (R12) or a recorded file (A34 / sha prefix) under indicator(s).

    For an unknown sender's mail, ``section`` says whose it is: the mail's files recorded without a
    section move to it."""
    item: ReviewItem | None = None
    if re.fullmatch(r"[Rr#]?\d+", ref.strip()):
        item = find_review_item(s, ref)
        if item.status != "open":
            raise ActionError(f"待办 R{item.id} 已处理（{item.resolution or item.status}）")
    if item is not None and item.reason in (codes.UNKNOWN_SENDER, codes.SENDER_UNVERIFIED):
        if not section:
            raise ActionError("该邮件发件人不属于任何科室，请用 --section 指定科室（例如 --section 支队）")
        return _rehome(s, item, section, by)
    attachment = item.attachment if item is not None else find_attachment(s, ref)
    if attachment is None:
        raise ActionError(f"待办 R{item.id if item else '?'} 没有对应的文件，无法指派；可用 dismiss 关闭")
    if attachment.id in attachment_ids_reviewed_for(s, codes.NOT_MATERIAL):
        raise ActionError(
            f"“{attachment.filename}”不是有效材料（可执行文件、编码损坏或无法打开的压缩包），"
            "不能计入指标；请联系报送人重新发送，并用 dismiss 关闭待办"
        )
    ids = parse_ids(words, catalogue)
    mail = attachment.mail
    target_section = section or mail.section or ""
    if not target_section:
        raise ActionError("该文件的发件人不属于任何科室，请用 --section 指定科室")
    added = [i for i in ids if assign_file(s, attachment, i, target_section, "coordinator")]
    if item is not None:
        _resolve(item, "resolved", f"{by}指派到指标{'、'.join(ids)}")
    already = [i for i in ids if i not in added]
    text = f"已将“{attachment.filename}”（{target_section}）计入指标{'、'.join(ids)}"
    if already:
        text += f"；其中指标{'、'.join(already)}此前已有相同文件"
    return text + "。"


def _rehome(s: Session, item: ReviewItem, section: str, by: str) -> str:
    mail: Mail = item.mail
    mail.section = section
    s.execute(
        update(Assignment)
        .where(
            Assignment.section == "",
            Assignment.attachment_id.in_(select(Attachment.id).where(Attachment.mail_id == mail.id)),
        )
        .values(section=section)
    )
    for indicator_id in item.candidates or []:
        ensure_declaration(s, indicator_id, section, mail_id=mail.id, source="mail")
    _resolve(item, "resolved", f"{by}确认发件人属于{section}")
    return f"已确认 {mail.from_addr or mail.from_name} 的邮件属于{section}，其中的文件和声明已计入该科室。"


def dismiss(s: Session, ref: str, *, reason: str = "", by: str = "协调人") -> str:
    item = find_review_item(s, ref)
    if item.status != "open":
        raise ActionError(f"待办 R{item.id} 已处理（{item.resolution or item.status}）")
    _resolve(item, "dismissed", f"{by}关闭" + (f"：{reason}" if reason else ""))
    return f"已关闭待办 R{item.id}。"


# -- return / accept / declare ------------------------------------------------------------------------


@dataclass(frozen=True)
class ReturnedItem:
    """One (indicator, section) sent back: who to tell, and about which files."""

    record_id: int
    indicator_id: str
    section: str
    filenames: tuple[str, ...]
    mail_id: int  # the submission that brought the (first) file
    reason: str


@dataclass
class ReturnResult:
    text: str
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
        for ref in refs:
            if re.fullmatch(r"[Rr#]?\d+", ref.strip()):
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
    source: str = "cli",
    command_mail_id: int | None = None,
) -> ReturnResult:
    """Send files back to their section: by file (A34 / R12), by indicator (+ section), or all files of
    ``mail_scope`` (the mail a receipt answered). ``reason`` is quoted to the section."""
    reason = reason.strip()
    if not reason:
        raise ActionError("请写明退回原因，例如：退回 A34 原因：缺少盖章页")
    assignments = _targets(s, catalogue, refs, words, section, mail_scope)
    if any(not a.section for a in assignments):
        raise ActionError("该文件的发件人不属于任何科室，无法退回；请先用“指派 R编号 科室”确认科室")
    result = ReturnResult("")
    for (indicator_id, sec), rows in _groups(assignments).items():
        for a in rows:
            a.is_current = False
        files = tuple(dict.fromkeys(a.attachment.filename for a in rows))
        record = ReturnRecord(
            indicator_id=indicator_id,
            section=sec,
            attachment_id=rows[0].attachment_id if len(rows) == 1 else None,
            command_mail_id=command_mail_id,
            reason=reason,
            source=source,
        )
        s.add(record)
        s.execute(delete(Acceptance).where(Acceptance.indicator_id == indicator_id, Acceptance.section == sec))
        s.flush()
        result.items.append(ReturnedItem(record.id, indicator_id, sec, files, rows[0].attachment.mail_id, reason))
    result.text = (
        "；".join(
            f"已退回{i.section}指标{i.indicator_id}的材料“{'”“'.join(i.filenames)}”，该项重新列为待报送"
            for i in result.items
        )
        + f"。退回原因：{reason}"
    )
    return result


def accept(
    s: Session,
    catalogue: Catalogue,
    words: Sequence[str] = (),
    *,
    section: str | None = None,
    mail_scope: Mail | None = None,
    source: str = "cli",
    mail_id: int | None = None,
) -> str:
    """Mark the current materials of indicator(s) (for one section, or every section that sent some)
    as checked; or those of ``mail_scope``."""
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
    now = utcnow()
    for indicator_id, sec in keys:
        row = s.scalar(select(Acceptance).where(Acceptance.indicator_id == indicator_id, Acceptance.section == sec))
        if row is None:
            s.add(Acceptance(indicator_id=indicator_id, section=sec, mail_id=mail_id, source=source, created_at=now))
        else:
            row.created_at, row.mail_id, row.source = now, mail_id, source
    s.flush()
    return "已确认：" + "、".join(f"指标{i}（{sec}）" for i, sec in keys) + " 的材料审核通过。"


def declare(
    s: Session,
    catalogue: Catalogue,
    words: Sequence[str],
    *,
    section: str | None,
    mail_id: int | None = None,
) -> str:
    """Record that ``section`` has no material for indicator(s) (不涉及), on the coordinator's word."""
    ids = parse_ids(words, catalogue)
    if not section:
        raise ActionError("请写明科室，例如：不涉及 指标45 人事科")
    wrong = [i for i in ids if section not in catalogue[i].sections]
    if wrong:
        raise ActionError(
            "；".join(f"指标{i}的责任单位是{'、'.join(catalogue[i].sections)}，不包括{section}" for i in wrong)
        )
    added = [i for i in ids if ensure_declaration(s, i, section, mail_id=mail_id, source="coordinator")]
    text = f"已登记{section}指标{'、'.join(ids)}不涉及（无材料）"
    already = [i for i in ids if i not in added]
    if already:
        text += f"；其中指标{'、'.join(already)}此前已登记"
    return text + "。"
