"""The digest's blocks, each built by one function from the database and the snapshot.

``bot.outgoing.digest.build_digest`` calls them in turn and puts each result in one field of
``DigestContext``; a new block (issue 13's 迟报, say) is one more function here, one field and one
heading in each template. Every block says what to do where there is something to do: each review
item and each content problem comes with the mail command that resolves it (``rules.commands``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy import ColumnElement, select, true
from sqlalchemy.orm import Session, selectinload

from bot.coordinator.status import Snapshot
from bot.outgoing.digest_context import (
    ActivityLine,
    ArrivalLine,
    ContentProblemLine,
    ExpiredCloudLine,
    LateLine,
    OwedItem,
    ProgressLine,
    ReviewLine,
    SectionProgress,
)
from bot.outgoing.messages import short_requirement
from db.models import Acceptance, Assignment, Attachment, CloudFile, Mail, Outbox, Problem, ReturnRecord, ReviewItem
from rules import codes
from rules.catalogue import Catalogue
from rules.commands import problem_command, resolving_command
from rules.lateness import late_text
from rules.progress import outstanding_for, tally

ACTIVITY_LINES = 12  # per kind of change; the count says how many there were in all
OWED_NAME_CHARS = 16
# Problems about what a counted file says or who sent it; matching problems are the receipt's business.
CONTENT_CODES = (codes.OVER_WORD_LIMIT, codes.WORD_COUNT_UNKNOWN, codes.POSSIBLY_CLASSIFIED, codes.NOT_OWNER)


def sender_label(mail: Mail) -> str:
    """The sender as the digest shows it: the address, or what an unreliable From claimed (the parser
    leaves the address empty then, rules.sender)."""
    if mail.from_addr:
        return mail.from_addr
    return f"（未验证）{mail.from_name}" if mail.from_name else "（未知）"


def denominator(catalogue: Catalogue, overall: ProgressLine) -> str:
    """Where 应报 comes from: every indicator that needs material, once per responsible section."""
    needing = [i for i in catalogue if i.owes_material]
    shared = [i for i in needing if len(i.sections) > 1]
    text = f"应报 {overall.total} = {len(catalogue)} 项指标中需要材料的 {len(needing)} 项，按责任科室各计一次"
    if shared:
        extra = sum(len(i.sections) - 1 for i in shared)
        text += f"（其中 {len(shared)} 项由多个科室共同负责，多计 {extra} 次）"
    done = "已报 = 已报送、已确认或登记不涉及的项次"
    return f"{text}；{done}。"


def section_progress(catalogue: Catalogue, snap: Snapshot) -> tuple[SectionProgress, ...]:
    """Each section's bar and the indicators it still owes (id and a short name)."""
    out = []
    for name in catalogue.sections:
        t = tally(snap.items, section=name)
        if not t.total:
            continue
        owed = tuple(
            OwedItem(i.id, short_requirement(i.text, OWED_NAME_CHARS)) for i in outstanding_for(name, snap.items)
        )
        out.append(SectionProgress(ProgressLine(name, t.done, t.total), owed))
    return tuple(out)


def review_lines(s: Session, catalogue: Catalogue, items: Sequence[ReviewItem], tz: tzinfo) -> tuple[ReviewLine, ...]:
    """Open review items, with the files and indicators of an unknown sender's mail filled in (its
    item names no single file) and the command that resolves each."""
    lines = []
    for r in items:
        files = list(r.mail.attachments)
        if r.attachment is not None:
            filename: str | None = r.attachment.filename
            indicators = tuple(r.candidates or ())
        elif r.reason in (codes.UNKNOWN_SENDER, codes.SENDER_UNVERIFIED):
            filename = "、".join(f.filename for f in files) or None
            matched = dict.fromkeys(a.indicator_id for f in files for a in f.assignments if a.is_current)
            indicators = tuple(matched) or tuple(r.candidates or ())
        else:
            filename, indicators = None, tuple(r.candidates or ())
        owners = [sec for i in indicators if (ind := catalogue.get(i)) is not None for sec in ind.sections]
        command = resolving_command(
            r.reason, r.id, indicators=indicators, sections=owners, file_id=r.attachment_id, files=len(files)
        )
        lines.append(
            ReviewLine(
                id=r.id,
                received_at=r.mail.received_at.astimezone(tz),
                sender=sender_label(r.mail),
                filename=filename,
                reason=r.detail,
                candidates=indicators,
                command=command,
            )
        )
    return tuple(lines)


def content_problems(s: Session, catalogue: Catalogue) -> tuple[ContentProblemLine, ...]:
    """Problems of files that count now (a returned or replaced file's problem is no longer live)."""
    stmt = (
        select(Problem, Assignment)
        .join(Assignment, Assignment.attachment_id == Problem.attachment_id)
        .options(selectinload(Problem.attachment))
        .where(
            Problem.code.in_(CONTENT_CODES),
            Problem.cleared_at.is_(None),
            Assignment.is_current.is_(True),
            Assignment.section != "",
        )
        .order_by(Problem.id, Assignment.id)
    )
    grouped: dict[int, tuple[Problem, list[Assignment]]] = {}
    for problem, assignment in s.execute(stmt):
        grouped.setdefault(problem.id, (problem, []))[1].append(assignment)
    lines = []
    for problem, rows in grouped.values():
        att = problem.attachment
        if att is None:
            continue
        first = rows[0]
        owners = catalogue[first.indicator_id].sections if first.indicator_id in catalogue else ()
        lines.append(
            ContentProblemLine(
                section=first.section,
                indicators=tuple(dict.fromkeys(a.indicator_id for a in rows)),
                filename=att.filename,
                attachment_id=att.id,
                detail=problem.detail,
                command=problem_command(problem.code, att.id, first.indicator_id, first.section, owners),
            )
        )
    return tuple(lines)


def _line(label: str, texts: Sequence[str]) -> ActivityLine:
    shown = tuple(texts[:ACTIVITY_LINES])
    if len(texts) > ACTIVITY_LINES:
        shown += (f"……另有 {len(texts) - ACTIVITY_LINES} 项",)
    return ActivityLine(label, len(texts), shown)


def activity(s: Session, since: datetime | None, tz: tzinfo) -> tuple[ActivityLine, ...]:
    """What changed since the last digest (``since``; None: since the start): files counted, new
    versions, returns, acceptances, reminders sent, sends that failed."""

    def after(column: Any) -> ColumnElement[bool]:
        return true() if since is None else column > since

    counted = s.scalars(
        select(Assignment)
        .options(selectinload(Assignment.attachment))
        .where(after(Assignment.created_at), Assignment.section != "")
        .order_by(Assignment.created_at, Assignment.id)
    ).all()
    new_files = [f"指标{a.indicator_id}　{a.section}　“{a.attachment.filename}”" for a in counted if a.version == 1]
    versions = [
        f"指标{a.indicator_id}　{a.section}　“{a.attachment.filename}”（第{a.version}版，替代旧版）"
        for a in counted
        if a.version > 1
    ]
    returns = [
        f"指标{r.indicator_id}　{r.section}：{r.reason}"
        for r in s.scalars(select(ReturnRecord).where(after(ReturnRecord.created_at)).order_by(ReturnRecord.id))
    ]
    accepted = [
        f"指标{a.indicator_id}　{a.section}"
        for a in s.scalars(select(Acceptance).where(after(Acceptance.created_at)).order_by(Acceptance.id))
    ]
    reminders = [
        f"{o.dedupe_key.split(':')[1]}　{'、'.join(o.recipients)}"
        for o in s.scalars(
            select(Outbox)
            .where(Outbox.kind == "reminder", Outbox.status == "sent", after(Outbox.sent_at))
            .order_by(Outbox.id)
        )
    ]
    failed = [
        f"{'、'.join(o.recipients)}　“{o.subject}”"
        for o in s.scalars(
            select(Outbox).where(Outbox.status == "failed", after(Outbox.created_at)).order_by(Outbox.id)
        )
    ]
    return (
        _line("新计入的文件", new_files),
        _line("新版本（替代旧版）", versions),
        _line("退回", returns),
        _line("确认", accepted),
        _line("发出的催报提醒", reminders),
        _line("发送失败", failed),
    )


def arrivals(
    s: Session, since: datetime | None, tz: tzinfo, *, after_id: int | None = None, upto_id: int | None = None
) -> tuple[ArrivalLine, ...]:
    """Submissions recorded since the last digest: mail ids above its watermark ``after_id`` up to
    this digest's ``upto_id`` (ids are handed out in recording order, so two overlapping digests
    neither drop nor repeat a mail); ``since`` (time) only after a digest that has no watermark."""
    stmt = (
        select(Mail)
        .options(selectinload(Mail.attachments).selectinload(Attachment.assignments))
        .where(Mail.kind == "submission")
        .order_by(Mail.received_at, Mail.id)
    )
    if upto_id is not None:
        stmt = stmt.where(Mail.id <= upto_id)
    if after_id is not None:
        stmt = stmt.where(Mail.id > after_id)
    elif since is not None:
        stmt = stmt.where(Mail.processed_at > since)
    lines = []
    for mail in s.scalars(stmt):
        ids = dict.fromkeys(a.indicator_id for att in mail.attachments for a in att.assignments)
        lines.append(
            ArrivalLine(
                received_at=mail.received_at.astimezone(tz),
                sender=sender_label(mail),
                section=mail.section,
                subject=mail.subject,
                files=len(mail.attachments),
                indicators=tuple(ids),
            )
        )
    return tuple(lines)


def by_level1(catalogue: Catalogue, snap: Snapshot) -> tuple[ProgressLine, ...]:
    level1 = tuple(dict.fromkeys(i.level1 for i in catalogue))
    return tuple(ProgressLine(name, t.done, t.total) for name in level1 if (t := tally(snap.items, level1=name)).total)


def late_lines(catalogue: Catalogue, snap: Snapshot, tz: tzinfo) -> tuple[LateLine, ...]:
    """迟报: each (indicator, section) whose current files all came after the deadline day (and no
    on-time version covers them), in checklist order, with how late the first of them was."""
    lines = []
    for item in snap.items:
        for owner in item.owners:
            late = snap.late.get((item.indicator.id, owner.section))
            if late is None:
                continue
            first = min(f.received_at for f in snap.files.get(item.indicator.id, []) if f.section == owner.section)
            lines.append(
                LateLine(
                    owner.section,
                    item.indicator.id,
                    short_requirement(item.indicator.text, OWED_NAME_CHARS),
                    first.astimezone(tz),
                    late_text(late),
                )
            )
    return tuple(lines)


def expired_clouds(clouds: Sequence[CloudFile], now: datetime, tz: tzinfo) -> tuple[ExpiredCloudLine, ...]:
    """Open cloud links past their expiry that no digest has reported yet: each is said once, as a
    problem for its section (it has to send the file again)."""
    return tuple(
        ExpiredCloudLine(
            c.id,
            c.mail.section,
            sender_label(c.mail),
            c.filename,
            tuple(c.indicators or ()),
            c.expires_at.astimezone(tz),
        )
        for c in clouds
        if c.status == "pending" and c.expires_at is not None and c.expires_at <= now and c.expiry_noted_at is None
    )
