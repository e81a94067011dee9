"""Clearing a "疑似涉密" flag (``possibly_classified``) once the coordinator has checked the file.

A flag comes from the rules (涉密/秘密/机密/绝密 in a subject or file name) or from validation (the
same words in a document's first lines). Flagged files stay out of the export (rule 4: classified
material is shown on site, never mailed on). ``clear_flag`` marks the flags of one file (A34, with
its mail's subject flag, which covers every file of the mail) or of the mail a review item (R12)
is about as cleared (``problem.cleared_at``), resolves the review item once nothing is left flagged,
and writes through the action log, so ``intake undo`` restores the flag.
"""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bot.coordinator.journal import Actor, Journal, Outcome
from bot.coordinator.refs import ActionError, find_attachment, find_review_item, parse_ref
from db.models import Problem, ReviewItem, utcnow
from rules import codes


def _flags(s: Session, mail_id: int, attachment_id: int | None) -> list[Problem]:
    stmt = select(Problem).where(
        Problem.mail_id == mail_id, Problem.code == codes.POSSIBLY_CLASSIFIED, Problem.cleared_at.is_(None)
    )
    if attachment_id is not None:
        stmt = stmt.where(or_(Problem.attachment_id == attachment_id, Problem.attachment_id.is_(None)))
    return list(s.scalars(stmt.order_by(Problem.id)))


def clear_flag(s: Session, ref: str, *, actor: Actor, command: str = "") -> Outcome:
    """The file (A34) or the mail of review item R12 is not classified: clear its flags."""
    target = parse_ref(ref)
    if target.kind == "review":
        item = find_review_item(s, target)
        if item.reason != codes.POSSIBLY_CLASSIFIED:
            raise ActionError(f"待办 R{item.id} 不是“疑似涉密”待办；解除标记请写文件编号，例如 解除涉密 A34")
        mail_id, attachment_id, what = item.mail_id, None, f"待办 R{item.id} 所涉邮件“{item.mail.subject}”"
    else:
        att = find_attachment(s, target)
        mail_id, attachment_id, what = att.mail_id, att.id, f"文件 A{att.id}“{att.filename}”"
    flags = _flags(s, mail_id, attachment_id)
    if not flags:
        raise ActionError(f"{what}没有未解除的疑似涉密标记")
    j = Journal(s)
    now = utcnow()
    for problem in flags:
        j.update(problem, cleared_at=now)
    text = f"已解除{what}的疑似涉密标记"
    if attachment_id is not None and any(p.attachment_id is None for p in flags):
        text += "（邮件主题的涉密标记一并解除，对该邮件的全部文件有效）"
    if not _flags(s, mail_id, None):
        open_items = select(ReviewItem).where(
            ReviewItem.mail_id == mail_id,
            ReviewItem.reason == codes.POSSIBLY_CLASSIFIED,
            ReviewItem.status == "open",
        )
        for item in s.scalars(open_items):
            j.update(item, status="resolved", resolution=f"{actor.label}核实不涉密", resolved_at=now)
    text += "；这些文件此后正常计入、导出。"
    entry = j.commit(actor, "clear_flag", command or f"解除涉密 {ref}", text)
    return Outcome(text, entry.id)
