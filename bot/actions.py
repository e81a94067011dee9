"""What the coordinator can do to the record: assign, dismiss (and, later, return/accept/declare).

Shared by the CLI and by commands sent by email, so both behave the same. Each function takes a
session inside the caller's transaction and returns a Chinese sentence saying what was done, or
raises ``ActionError`` with a Chinese explanation.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.record import assign_file
from db.models import Assignment, Attachment, Mail, ReviewItem, utcnow
from db.upserts import ensure_declaration
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
    if item is not None and item.reason == "unknown_sender":
        if not section:
            raise ActionError("该邮件发件人不属于任何科室，请用 --section 指定科室（例如 --section 支队）")
        return _rehome(s, item, section, by)
    attachment = item.attachment if item is not None else find_attachment(s, ref)
    if attachment is None:
        raise ActionError(f"待办 R{item.id if item else '?'} 没有对应的文件，无法指派；可用 dismiss 关闭")
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
    return f"已确认 {mail.from_addr} 的邮件属于{section}，其中的文件和声明已计入该科室。"


def dismiss(s: Session, ref: str, *, reason: str = "", by: str = "协调人") -> str:
    item = find_review_item(s, ref)
    if item.status != "open":
        raise ActionError(f"待办 R{item.id} 已处理（{item.resolution or item.status}）")
    _resolve(item, "dismissed", f"{by}关闭" + (f"：{reason}" if reason else ""))
    return f"已关闭待办 R{item.id}。"
