"""Query functions for the pipeline and the CLI. Each takes the session first and neither commits nor
decides anything: transactions are framed by the caller (``with sessions.begin() as s:``).

Lists come back in a stable order and with the rows a report prints next to them already loaded, so
they stay readable after the session has closed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import case, select
from sqlalchemy.orm import Session, joinedload

from db.models import (
    Assignment,
    Attachment,
    CloudFile,
    Declaration,
    Mail,
    MailboxCursor,
    Outbox,
    PendingCommand,
    ReturnRecord,
    ReviewItem,
    StoredFile,
    utcnow,
)
from db.upserts import dialect_insert

# -- mailbox progress ---------------------------------------------------------------------------------


def get_cursor(s: Session, folder: str) -> MailboxCursor | None:
    """How far ``folder`` has been read, or None before the first poll."""
    return s.get(MailboxCursor, folder)


def save_cursor(s: Session, folder: str, uidvalidity: int, last_uid: int) -> MailboxCursor:
    """Record progress in ``folder`` in one atomic upsert, safe against a concurrent poller.

    Within one UIDVALIDITY the stored ``last_uid`` only grows: a slower poller finishing late cannot
    move it back. A different UIDVALIDITY replaces both values (the old UIDs mean nothing any more).
    """
    now = utcnow()
    stmt = dialect_insert(s, MailboxCursor)
    stmt = stmt.values(folder=folder, uidvalidity=uidvalidity, last_uid=last_uid, updated_at=now)
    new = stmt.excluded
    s.execute(
        stmt.on_conflict_do_update(
            index_elements=[MailboxCursor.folder],
            set_={
                "last_uid": case(
                    (MailboxCursor.uidvalidity != new.uidvalidity, new.last_uid),
                    (new.last_uid > MailboxCursor.last_uid, new.last_uid),
                    else_=MailboxCursor.last_uid,
                ),
                "uidvalidity": new.uidvalidity,
                "updated_at": now,
            },
        )
    )
    cursor = s.get(MailboxCursor, folder, populate_existing=True)
    if cursor is None:  # pragma: no cover - the row was just written in this transaction
        raise RuntimeError(f"cursor for {folder!r} vanished")
    return cursor


# -- mails and files ----------------------------------------------------------------------------------


def mail_by_dedupe_key(s: Session, key: str) -> Mail | None:
    """The mail already recorded under ``key`` (Message-ID or "sha256:<hash>"), if any."""
    return s.scalars(select(Mail).where(Mail.dedupe_key == key)).one_or_none()


def mail_by_raw_sha256(s: Session, raw_sha256: str) -> Mail | None:
    """A mail read and recorded from exactly these bytes, if any (a rescan, a second folder). Mail
    that could not be parsed does not count: a later, better parser may read it."""
    stmt = select(Mail).where(Mail.raw_sha256 == raw_sha256, Mail.kind != "unparseable").order_by(Mail.id)
    return s.scalars(stmt.limit(1)).first()


def attachment_ids_reviewed_for(s: Session, reasons: Iterable[str]) -> set[int]:
    """Files that got a review item for one of ``reasons``, whatever became of the item (the caller
    passes ``rules.codes.NOT_MATERIAL``: files kept but never counted nor exported)."""
    stmt = select(ReviewItem.attachment_id).where(
        ReviewItem.reason.in_(sorted(reasons)), ReviewItem.attachment_id.is_not(None)
    )
    return {i for i in s.scalars(stmt) if i is not None}


def stored_file(s: Session, sha256: str) -> StoredFile | None:
    """The stored content with this hash, if it was seen before."""
    return s.get(StoredFile, sha256)


def ignored_mails(s: Session) -> Sequence[Mail]:
    """Mails recorded as not being submissions (auto-replies, bounces, ...), oldest first."""
    return s.scalars(select(Mail).where(Mail.status == "ignored").order_by(Mail.id)).all()


def error_mails(s: Session) -> Sequence[Mail]:
    """Mails that could not be processed, kept with their error, oldest first."""
    return s.scalars(select(Mail).where(Mail.status == "error").order_by(Mail.id)).all()


# -- assignments and declarations ---------------------------------------------------------------------


# Reports print the file name and the mail beside each assignment.
_ATTACHMENT_AND_MAIL = joinedload(Assignment.attachment).joinedload(Attachment.mail)


def current_assignments(
    s: Session, indicator_id: str | None = None, section: str | None = None
) -> Sequence[Assignment]:
    """Current versions, optionally for one indicator and/or section, with attachment and mail
    loaded; ordered by indicator, section, then arrival."""
    stmt = select(Assignment).options(_ATTACHMENT_AND_MAIL).where(Assignment.is_current.is_(True))
    if indicator_id is not None:
        stmt = stmt.where(Assignment.indicator_id == indicator_id)
    if section is not None:
        stmt = stmt.where(Assignment.section == section)
    stmt = stmt.order_by(Assignment.indicator_id, Assignment.section, Assignment.id)
    return s.scalars(stmt).unique().all()


def all_assignments(s: Session) -> Sequence[Assignment]:
    """Every file version ever counted, current or not, with attachment and mail loaded; ordered by
    indicator, section, name, then version: what history and lateness read."""
    stmt = (
        select(Assignment)
        .options(_ATTACHMENT_AND_MAIL)
        .order_by(Assignment.indicator_id, Assignment.section, Assignment.name_key, Assignment.version, Assignment.id)
    )
    return s.scalars(stmt).unique().all()


def latest_returns(s: Session) -> dict[tuple[str, str], datetime]:
    """(indicator, section) -> when it was last sent back (退回)."""
    stmt = select(ReturnRecord.indicator_id, ReturnRecord.section, ReturnRecord.created_at)
    latest: dict[tuple[str, str], datetime] = {}
    for indicator_id, section, at in s.execute(stmt):
        key = (indicator_id, section)
        if key not in latest or at > latest[key]:
            latest[key] = at
    return latest


def versions(s: Session, indicator_id: str, section: str) -> Sequence[tuple[str, int, str]]:
    """(name_key, version, sha256) of every file counted for this indicator and section, current or
    replaced: what the version rule (``rules.disposition.next_version``) reads."""
    stmt = (
        select(Assignment.name_key, Assignment.version, Attachment.sha256)
        .join(Attachment, Assignment.attachment_id == Attachment.id)
        .where(Assignment.indicator_id == indicator_id, Assignment.section == section)
    )
    return [(k, v, h) for k, v, h in s.execute(stmt)]


def section_versions(s: Session, section: str) -> Sequence[tuple[str, str, int, str]]:
    """(indicator_id, name_key, version, sha256) of every file counted for the section: ``versions``
    for all of its indicators in one query."""
    stmt = (
        select(Assignment.indicator_id, Assignment.name_key, Assignment.version, Attachment.sha256)
        .join(Attachment, Assignment.attachment_id == Attachment.id)
        .where(Assignment.section == section)
    )
    return [(i, k, v, h) for i, k, v, h in s.execute(stmt)]


def declarations(s: Session) -> Sequence[Declaration]:
    """Every 无材料 declaration, with its mail loaded, ordered by indicator and section."""
    stmt = (
        select(Declaration)
        .options(joinedload(Declaration.mail))
        .order_by(Declaration.indicator_id, Declaration.section)
    )
    return s.scalars(stmt).all()


# -- the coordinator's queue --------------------------------------------------------------------------


def open_review_items(s: Session) -> Sequence[ReviewItem]:
    """Items waiting for the coordinator, oldest first, with mail and attachment loaded."""
    stmt = (
        select(ReviewItem)
        .options(joinedload(ReviewItem.mail), joinedload(ReviewItem.attachment))
        .where(ReviewItem.status == "open")
        .order_by(ReviewItem.id)
    )
    return s.scalars(stmt).all()


def pending_cloud_files(s: Session) -> Sequence[CloudFile]:
    """Cloud-drive files neither fetched nor dismissed, soonest expiry first (unknown expiry last)."""
    stmt = (
        select(CloudFile)
        .options(joinedload(CloudFile.mail))
        .where(CloudFile.status == "pending")
        .order_by(CloudFile.expires_at.is_(None), CloudFile.expires_at, CloudFile.id)
    )
    return s.scalars(stmt).all()


# -- commands waiting for the coordinator's confirmation ---------------------------------------------


def find_pending(s: Session, codes_quoted: Iterable[str]) -> int | None:
    """The id of the held command whose code is among ``codes_quoted`` (used or not), newest first."""
    wanted = list(codes_quoted)
    if not wanted:
        return None
    stmt = select(PendingCommand.id).where(PendingCommand.code.in_(wanted)).order_by(PendingCommand.id.desc())
    return s.scalars(stmt.limit(1)).first()


def pending_created_since(s: Session, since: datetime) -> int:
    """How many confirmations were asked for since ``since``."""
    return len(s.scalars(select(PendingCommand.id).where(PendingCommand.created_at >= since)).all())


# -- outbox -------------------------------------------------------------------------------------------


def outbox_due(s: Session, now: datetime, *, limit: int | None = None, lock: bool = False) -> Sequence[Outbox]:
    """Queued mails whose next attempt is due at ``now``, oldest due first.

    ``lock=True`` locks the rows for the rest of the transaction and skips rows another sender has
    locked (PostgreSQL ``FOR UPDATE SKIP LOCKED``; SQLite has a single writer and ignores it).
    """
    stmt = (
        select(Outbox)
        .where(Outbox.status == "queued", Outbox.next_attempt_at <= now)
        .order_by(Outbox.next_attempt_at, Outbox.id)
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    if lock:
        stmt = stmt.with_for_update(skip_locked=True)
    return s.scalars(stmt).all()
