"""Turn one parsed mail and the rules' decision into rows: one call per mail, inside the caller's
transaction. No network, no matching: the decisions were made by ``rules``; this module only writes
them down (Mailman's habit: decisions separate from side effects).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from bot.mime.mail import IncomingMail, Material
from db.models import Assignment, Attachment, CloudFile, Mail, Problem, ReviewItem
from db.queries import has_assignment_with_sha, latest_version
from db.upserts import ensure_declaration, ensure_stored_file
from rules.catalogue import Catalogue
from rules.decision import Decision

# Marks people add when they re-send a corrected file; stripped so that the corrected file becomes
# a new version of the old one instead of an extra file.
_COPY_MARKS = re.compile(
    r"[\s_-]*(?:[(（\[【](?:\d{1,2}|修改|修改稿|修订|修订稿|更新|新|最终|最终版|终稿|定稿|补充|更正)[)）\]】]"
    r"|修改稿|修订稿|修改版|最终版|终稿|定稿|更正版|[vV]\d{1,2})$"
)


def name_key(filename: str) -> str:
    """The identity of a file name across versions: NFKC, case-folded, copy/version marks removed."""
    name = unicodedata.normalize("NFKC", filename).strip().casefold()
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem or len(ext) > 6:
        stem, ext = name, ""
    while True:
        shorter = _COPY_MARKS.sub("", stem)
        if shorter == stem or not shorter:
            break
        stem = shorter
    stem = re.sub(r"\s+", "", stem)
    return f"{stem}.{ext}" if ext else stem


@dataclass
class Recorded:
    """What recording one mail produced (for the poll summary and the receipt)."""

    mail_id: int
    files: int = 0
    assignments: list[tuple[int, str]] = field(default_factory=list)  # (attachment id, indicator id)
    duplicates: int = 0  # files already recorded for the same indicator and section
    reviews: int = 0
    declarations: list[str] = field(default_factory=list)
    problems: int = 0


@dataclass(frozen=True)
class Source:
    """Where and when a mail was read."""

    folder: str | None
    uidvalidity: int | None
    uid: int | None
    received_at: datetime


def dedupe_key(mail: IncomingMail, raw_sha256: str) -> str:
    if mail.message_id and not mail.message_id.endswith(".missing@intake>"):
        return mail.message_id.strip()
    return f"sha256:{raw_sha256}"


def add_mail(
    s: Session,
    mail: IncomingMail,
    *,
    key: str,
    raw_sha256: str,
    raw_path: str,
    source: Source,
    section: str | None,
    kind: str,
    status: str,
    error: str | None = None,
) -> Mail:
    row = Mail(
        dedupe_key=key,
        message_id=mail.message_id,
        raw_sha256=raw_sha256,
        raw_path=raw_path,
        folder=source.folder,
        uidvalidity=source.uidvalidity,
        uid=source.uid,
        from_addr=mail.from_addr,
        from_name=mail.from_name,
        subject=mail.subject.text,
        subject_raw=mail.subject.raw,
        sent_at=mail.date,
        received_at=source.received_at,
        section=section,
        kind=kind,
        status=status,
        error=error,
    )
    s.add(row)
    s.flush()
    return row


def add_unparseable(s: Session, *, key: str, raw_sha256: str, raw_path: str, source: Source, error: str) -> Mail:
    """A mail nothing could be read from: keep its raw bytes and error, and put it before a human."""
    row = Mail(
        dedupe_key=key,
        message_id=None,
        raw_sha256=raw_sha256,
        raw_path=raw_path,
        folder=source.folder,
        uidvalidity=source.uidvalidity,
        uid=source.uid,
        from_addr="",
        received_at=source.received_at,
        kind="unparseable",
        status="error",
        error=error,
    )
    s.add(row)
    s.flush()
    s.add(
        ReviewItem(
            mail_id=row.id,
            reason="unparseable",
            detail=f"邮件无法解析，原始邮件已保存：{error}",
            candidates=[],
        )
    )
    return row


def record_submission(
    s: Session,
    row: Mail,
    mail: IncomingMail,
    decision: Decision,
    stored: Sequence[tuple[Material, str]],
    catalogue: Catalogue,
) -> Recorded:
    """Write files, assignments, declarations, reviews, problems and cloud files of a submission.

    ``stored`` pairs each material (in the order the rules saw the file names) with its
    storage-relative path. ``row.section`` is the sender's section or None for an unknown sender.
    """
    result = Recorded(mail_id=row.id)
    section = row.section or ""
    attachments: list[Attachment] = []
    for material, rel_path in stored:
        ensure_stored_file(s, material.sha256, material.size, rel_path)
        att = Attachment(
            mail_id=row.id,
            sha256=material.sha256,
            filename=material.filename.text,
            filename_raw=material.filename.raw,
            origin=material.origin,
            container=material.container,
            content_type=material.content_type,
            size=material.size,
        )
        s.add(att)
        attachments.append(att)
    s.flush()
    result.files = len(attachments)

    by_name = {a.filename: a for a in attachments}
    for att, verdict in zip(attachments, decision.attachments, strict=True):
        if verdict.needs_review or not verdict.indicators:
            s.add(
                ReviewItem(
                    mail_id=row.id,
                    attachment_id=att.id,
                    reason="needs_review",
                    detail=verdict.reason or "无法确定该文件对应的指标",
                    candidates=list(verdict.candidates),
                )
            )
            result.reviews += 1
            continue
        for indicator_id in verdict.indicators:
            if assign_file(s, att, indicator_id, section, verdict.matched_by or "subject"):
                result.assignments.append((att.id, indicator_id))
            else:
                result.duplicates += 1
            indicator = catalogue.get(indicator_id)
            if section and indicator is not None and section not in indicator.sections:
                owners = "、".join(indicator.sections)
                s.add(
                    Problem(
                        mail_id=row.id,
                        attachment_id=att.id,
                        code="not_owner",
                        detail=f"指标{indicator_id}的责任单位是{owners}，本文件由{section}报送，已记录并提请协调人核对。",
                    )
                )
                result.problems += 1

    for problem in decision.problems:
        target = by_name.get(problem.filename) if problem.filename else None
        s.add(
            Problem(
                mail_id=row.id,
                attachment_id=target.id if target else None,
                code=problem.code,
                detail=problem.detail,
            )
        )
        result.problems += 1

    for indicator_id in decision.declarations:
        if not section:
            continue  # an unknown sender's declaration waits for the coordinator (review below)
        ensure_declaration(s, indicator_id, section, mail_id=row.id, source="mail")
        result.declarations.append(indicator_id)

    for link in mail.cloud_links:
        s.add(
            CloudFile(
                mail_id=row.id,
                filename=link.filename,
                url=link.url,
                provider=link.provider,
                size_text=link.size_text,
                expires_at=link.expires_at,
                status="pending",
            )
        )

    if not section:
        s.add(
            ReviewItem(
                mail_id=row.id,
                reason="unknown_sender",
                detail=(
                    f"发件人 {mail.from_addr or '（无地址）'} 不属于任何已配置的科室；"
                    "文件已记录但未计入任何科室。请在配置的 [[sections]] senders 中添加该地址，或手工指派。"
                ),
                candidates=list(decision.declarations),
            )
        )
        result.reviews += 1
    elif not attachments and not mail.cloud_links and not decision.declarations:
        s.add(
            ReviewItem(
                mail_id=row.id,
                reason="no_material",
                detail="邮件中没有附件、云附件或“无材料”声明，请协调人查看邮件正文。",
                candidates=list(decision.subject_indicators),
            )
        )
        result.reviews += 1
    return result


def assign_file(s: Session, att: Attachment, indicator_id: str, section: str, matched_by: str) -> bool:
    """Count ``att`` for the indicator; False when the same content is already counted there."""
    if has_assignment_with_sha(s, indicator_id, section, att.sha256):
        return False
    key = name_key(att.filename)
    latest = latest_version(s, indicator_id, section, key)
    previous = latest.version if latest is not None else None
    if previous is not None:
        s.execute(
            update(Assignment)
            .where(
                Assignment.indicator_id == indicator_id,
                Assignment.section == section,
                Assignment.name_key == key,
            )
            .values(is_current=False)
        )
    s.add(
        Assignment(
            attachment_id=att.id,
            indicator_id=indicator_id,
            section=section,
            name_key=key,
            version=(previous or 0) + 1,
            is_current=True,
            matched_by=matched_by,
        )
    )
    s.flush()
    return True
