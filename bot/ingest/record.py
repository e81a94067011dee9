"""Turn one parsed mail and the rules' decision into rows: one call per mail, inside the caller's
transaction. No network, no matching: the decisions were made by ``rules``; this module only writes
them down (Mailman's habit: decisions separate from side effects).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo

from sqlalchemy import update
from sqlalchemy.orm import Session

from bot.mime.cloudlinks import in_zone
from bot.mime.mail import IncomingMail, Material, genuine_message_id
from db.models import Assignment, Attachment, CloudFile, Mail, Problem, ReviewItem
from db.queries import section_versions, versions
from db.upserts import defer_stored_files, ensure_declaration
from rules import codes
from rules.disposition import Disposition, PriorVersion, next_version


@dataclass
class Recorded:
    """What recording one mail produced (for the poll summary, validation and the receipt). The rows
    may not be flushed yet: read ids only after a flush."""

    mail: Mail
    files: int = 0
    attachments: list[Attachment] = field(default_factory=list)  # the file rows, in material order
    assignments: list[tuple[Attachment, str]] = field(default_factory=list)  # (file, indicator id) counted
    duplicates: int = 0  # files already recorded for the same indicator and section
    reviews: int = 0
    declarations: list[str] = field(default_factory=list)
    problems: list[tuple[Attachment | None, str]] = field(default_factory=list)  # (file, code) written


@dataclass(frozen=True)
class Source:
    """Where and when a mail was read."""

    folder: str | None
    uidvalidity: int | None
    uid: int | None
    received_at: datetime


def dedupe_key(mail: IncomingMail, raw_sha256: str) -> str:
    """``<Message-ID>#from:<sender>``: the same Message-ID from another address is another mail (a
    stranger who sends first must not make a section's mail look like a duplicate). A sender whose
    address could not be read reliably has "" here, never the address it pretends to be. Without a
    Message-ID: ``sha256:<raw hash>``."""
    message_id = genuine_message_id(mail.message_id)
    if not message_id:
        return f"sha256:{raw_sha256}"
    return f"{message_id.strip()}#from:{mail.from_addr.strip().lower()}"


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
    flush: bool = True,
) -> Mail:
    """Add the mail's row; ``flush=False`` leaves the INSERT to the next flush (the row's id is then
    unknown until it happens)."""
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
    if flush:
        s.flush()
    return row


def add_unparseable(
    s: Session,
    *,
    key: str,
    raw_sha256: str,
    raw_path: str,
    source: Source,
    error: str,
    reason: str = codes.UNPARSEABLE,
    detail: str | None = None,
) -> Mail:
    """A mail nothing could be read from (or that was set aside, ``reason``): keep its raw bytes and
    error, and put it before a human."""
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
            reason=reason,
            detail=detail or f"邮件无法解析，原始邮件已保存：{error}",
            candidates=[],
        )
    )
    return row


def record_submission(
    s: Session,
    row: Mail,
    mail: IncomingMail,
    disposition: Disposition,
    stored: Sequence[tuple[Material, str]],
    *,
    cloud_indicators: Sequence[Sequence[str]] = (),
    tz: tzinfo | None = None,
    known: KnownVersions | None = None,
) -> Recorded:
    """Write files, assignments, declarations, reviews, problems and cloud files of a submission, as
    ``rules.disposition`` decided them.

    ``stored`` pairs each material (in the order the rules saw the file names) with its
    storage-relative path. ``row.section`` is the sender's section or None for an unknown sender.
    ``cloud_indicators``: per cloud link, the indicators its name and the subject give (the fetched
    file will count for them); ``tz``: the campaign's zone, in which a link's expiry is read.
    ``known``: the versions of the (indicator, section) pairs the transaction has read or written so
    far (a batch's), kept up to date here, so that a batch of mails is inserted by one flush and each
    pair is read once.
    """
    # Rows refer to each other through relationships, so that the unit of work inserts them in
    # few statements (one flush for a whole batch); ids are read only where a query needs them.
    section = row.section or ""
    attachments: list[Attachment] = []
    # The content rows go in at the flush that inserts the file rows (one statement for a batch).
    defer_stored_files(s, [(m.sha256, m.size, rel_path) for m, rel_path in stored])
    for material, _rel_path in stored:
        att = Attachment(
            mail=row,
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

    def file(index: int | None) -> Attachment | None:
        return attachments[index] if index is not None else None

    assigned: list[tuple[Attachment, str]] = []
    duplicates = 0
    for a in disposition.assignments:
        att = attachments[a.file]
        if assign_file(s, att, a.indicator_id, section, a.matched_by, known=known):
            assigned.append((att, a.indicator_id))
        else:
            duplicates += 1
    problem_keys: list[tuple[Attachment | None, str]] = []
    for p in disposition.problems:
        s.add(Problem(mail=row, attachment=file(p.file), code=p.code, detail=p.detail))
        problem_keys.append((file(p.file), p.code))
    for r in disposition.reviews:
        s.add(
            ReviewItem(
                mail=row,
                attachment=file(r.file),
                reason=r.reason,
                detail=r.detail,
                candidates=list(r.candidates),
            )
        )
    for n, link in enumerate(mail.cloud_links):
        expires = link.expires_at
        s.add(
            CloudFile(
                mail=row,
                filename=link.filename,
                url=link.url,
                provider=link.provider,
                size_text=link.size_text,
                expires_at=in_zone(expires, tz) if expires is not None and tz is not None else expires,
                status="pending",
                indicators=list(cloud_indicators[n]) if n < len(cloud_indicators) else [],
            )
        )
    declarations: list[str] = []
    if disposition.declarations:
        s.flush()  # the declaration refers to the mail by id
    for indicator_id in disposition.declarations:
        ensure_declaration(s, indicator_id, section, mail_id=row.id, source="mail")
        declarations.append(indicator_id)
    return Recorded(
        mail=row,
        files=len(attachments),
        attachments=attachments,
        assignments=assigned,
        duplicates=duplicates,
        reviews=len(disposition.reviews),
        declarations=declarations,
        problems=problem_keys,
    )


@dataclass
class KnownVersions:
    """What a transaction knows of the versions counted per (indicator, section): each section's are
    read once (one query), then kept up to date by ``assign_file``, so a batch of mails needs neither
    a flush nor a query per file. Valid for one transaction only (a concurrent writer may change
    them between two)."""

    prior: dict[str, dict[str, list[PriorVersion]]] = field(default_factory=dict)  # section -> indicator -> versions
    rows: dict[tuple[str, str], list[Assignment]] = field(default_factory=dict)  # written in this transaction

    def of(self, s: Session, indicator_id: str, section: str) -> list[PriorVersion]:
        by_indicator = self.prior.get(section)
        if by_indicator is None:
            by_indicator = {}
            with s.no_autoflush:  # nothing pending is counted here: it all went through this object
                for i, k, v, h in section_versions(s, section):
                    by_indicator.setdefault(i, []).append(PriorVersion(k, v, h))
            self.prior[section] = by_indicator
        return by_indicator.setdefault(indicator_id, [])

    def clear(self) -> None:
        self.prior.clear()
        self.rows.clear()


def assign_file(
    s: Session,
    att: Attachment,
    indicator_id: str,
    section: str,
    matched_by: str,
    *,
    known: KnownVersions | None = None,
) -> bool:
    """Count ``att`` for the indicator as the version rule says; False when the same content is
    already counted there.

    Without ``known`` the session is flushed and the versions read from the database. With it (a
    batch: every assignment of the transaction goes through the same ``known``), nothing is flushed
    and the versions come from ``known``, which is updated here.
    """
    if known is None:
        s.flush()
        prior = [PriorVersion(k, v, h) for k, v, h in versions(s, indicator_id, section)]
    else:
        prior = known.of(s, indicator_id, section)
    step = next_version(att.filename, att.sha256, prior)
    if step.version is None:
        return False
    if step.replaces is not None:
        # The version it replaces is either in the database (this UPDATE) or was written in this
        # transaction (its row, flushed or not, is updated through the session).
        stmt = (
            update(Assignment)
            .where(
                Assignment.indicator_id == indicator_id,
                Assignment.section == section,
                Assignment.name_key == step.name_key,
            )
            .values(is_current=False)
        )
        if known is None:
            s.execute(stmt)  # everything was flushed above; the session's objects are updated too
        else:
            with s.no_autoflush:
                s.execute(stmt.execution_options(synchronize_session=False))
        if known is not None:
            for earlier in known.rows.get((indicator_id, section), []):
                if earlier.name_key == step.name_key and earlier.is_current:
                    earlier.is_current = False
    row = Assignment(
        attachment=att,
        indicator_id=indicator_id,
        section=section,
        name_key=step.name_key,
        version=step.version,
        is_current=True,
        matched_by=matched_by,
    )
    s.add(row)
    if known is not None:
        prior.append(PriorVersion(step.name_key, step.version, att.sha256))
        known.rows.setdefault((indicator_id, section), []).append(row)
    return True
