"""SQLAlchemy 2 typed models: the database schema of docs/ARCHITECTURE.md, one class per table.

The models only describe data. Which mail is a submission, which file is a new version and when a
reminder is due are decided elsewhere (rules/, bot/ingest/record.py); the unique constraints here are what
make every write safe to repeat (two pollers, a crash and a restart).

All timestamps are timezone-aware UTC on the Python side, on SQLite as well as PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from db.hygiene import CleanJSON, CleanString, CleanText

# Stable constraint names: Alembic's batch mode on SQLite and later migrations refer to them by name.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_N_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# The values each enumerated column takes (documentation for callers; not enforced by the database).
MAIL_KINDS = ("submission", "auto_reply", "bounce", "recall", "newsletter", "own", "command", "unparseable")
MAIL_STATUSES = ("recorded", "ignored", "error")
ATTACHMENT_ORIGINS = ("attachment", "zip", "forwarded", "tnef", "cloud")
MATCHED_BY = ("filename", "subject", "similarity", "coordinator", "cloud")
DECLARATION_SOURCES = ("mail", "coordinator")
REVIEW_STATUSES = ("open", "resolved", "dismissed")
CLOUD_FILE_STATUSES = ("pending", "fetched", "dismissed")
OUTBOX_KINDS = ("receipt", "reminder", "digest", "command_reply", "return_notice")
OUTBOX_STATUSES = ("queued", "sent", "failed")
ACTION_SOURCES = ("mail", "cli")
ACTION_VERBS = ("assign", "dismiss", "return", "accept", "declare", "undo")
PENDING_COMMAND_STATUSES = ("pending", "done")

CURRENT_VERSION_INDEX = "uq_assignment_current"


def utcnow() -> datetime:
    """The current time as an aware UTC datetime (the default of every ``*_at`` column)."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """``DateTime(timezone=True)`` that always hands back aware UTC datetimes.

    SQLite has no time zone type and returns naive values; PostgreSQL returns them in the session's
    time zone. Naive input is refused: it is always a bug to guess which zone it meant.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: timestamps must be timezone-aware")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        bytes: LargeBinary(),
    }


class MailboxCursor(Base):
    """How far one IMAP folder has been read: UIDs are only meaningful within one UIDVALIDITY."""

    __tablename__ = "mailbox_cursor"

    folder: Mapped[str] = mapped_column(CleanString(255), primary_key=True)
    # IMAP UIDs and UIDVALIDITY are unsigned 32-bit (RFC 3501 2.3.1.1): too big for a signed INTEGER.
    uidvalidity: Mapped[int] = mapped_column(BigInteger)
    last_uid: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class MailAttempt(Base):
    """A mail the poll has begun to process and not finished: marked before the expensive work, removed
    in the transaction that records the mail. A mark left behind means the process died on that mail;
    ``bot.ingest.quarantine`` counts such deaths and sets the mail aside after the second one."""

    __tablename__ = "mail_attempt"

    folder: Mapped[str] = mapped_column(CleanString(255), primary_key=True)
    uidvalidity: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    uid: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    attempts: Mapped[int] = mapped_column(Integer)  # times processing began and never ended
    owner: Mapped[str] = mapped_column(CleanString(255))  # the process working on it ("host:pid:start")
    started_at: Mapped[datetime] = mapped_column(default=utcnow)


class Mail(Base):
    """One received mail, recorded once (``dedupe_key``) whatever it turned out to be."""

    __tablename__ = "mail"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # "<Message-ID>#from:<sender address>" when the mail has a Message-ID (the same Message-ID from
    # another address is another mail), else "sha256:<hash of the raw bytes>".
    dedupe_key: Mapped[str] = mapped_column(CleanString(), unique=True)
    message_id: Mapped[str | None] = mapped_column(CleanString(), index=True)
    raw_sha256: Mapped[str] = mapped_column(CleanString(64), index=True)  # the same bytes are the same mail
    raw_path: Mapped[str] = mapped_column(CleanString())  # storage-relative path of the .eml
    folder: Mapped[str | None] = mapped_column(CleanString(255))
    uidvalidity: Mapped[int | None] = mapped_column(BigInteger)
    uid: Mapped[int | None] = mapped_column(BigInteger)
    from_addr: Mapped[str] = mapped_column(CleanString())
    from_name: Mapped[str] = mapped_column(CleanString(), default="")
    subject: Mapped[str] = mapped_column(CleanText, default="")
    subject_raw: Mapped[bytes | None] = mapped_column(LargeBinary)  # set when undecodable
    sent_at: Mapped[datetime | None]  # the Date header
    received_at: Mapped[datetime]
    section: Mapped[str | None] = mapped_column(CleanString(255))  # the sender's section, if known
    kind: Mapped[str] = mapped_column(CleanString(32))  # MAIL_KINDS
    status: Mapped[str] = mapped_column(CleanString(32))  # MAIL_STATUSES
    error: Mapped[str | None] = mapped_column(CleanText)
    processed_at: Mapped[datetime] = mapped_column(default=utcnow)

    attachments: Mapped[list[Attachment]] = relationship(back_populates="mail", order_by="Attachment.id")
    problems: Mapped[list[Problem]] = relationship(back_populates="mail", order_by="Problem.id")
    cloud_files: Mapped[list[CloudFile]] = relationship(back_populates="mail", order_by="CloudFile.id")


class StoredFile(Base):
    """File content, stored once under the storage root whatever name it came with."""

    __tablename__ = "stored_file"

    sha256: Mapped[str] = mapped_column(CleanString(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    path: Mapped[str] = mapped_column(CleanString())  # storage-relative
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)


class Attachment(Base):
    """One file as it arrived in one mail (a real attachment, zip member, forwarded or TNEF file)."""

    __tablename__ = "attachment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mail_id: Mapped[int] = mapped_column(ForeignKey("mail.id"), index=True)
    sha256: Mapped[str] = mapped_column(ForeignKey("stored_file.sha256"), index=True)
    filename: Mapped[str] = mapped_column(CleanString())  # decoded
    filename_raw: Mapped[bytes | None] = mapped_column(LargeBinary)  # set when undecodable
    origin: Mapped[str] = mapped_column(CleanString(32))  # ATTACHMENT_ORIGINS
    container: Mapped[str | None] = mapped_column(CleanString())
    content_type: Mapped[str] = mapped_column(CleanString(255))
    size: Mapped[int] = mapped_column(BigInteger)

    mail: Mapped[Mail] = relationship(back_populates="attachments")
    stored_file: Mapped[StoredFile] = relationship()
    assignments: Mapped[list[Assignment]] = relationship(back_populates="attachment", order_by="Assignment.id")


class Assignment(Base):
    """A file counted for one indicator and section; a re-sent file under the same name is a new
    version and only the newest is current."""

    __tablename__ = "assignment"
    __table_args__ = (
        UniqueConstraint("attachment_id", "indicator_id"),
        Index("ix_assignment_indicator_id_section", "indicator_id", "section"),
        # At most one current version per file name of an item and section: two pollers recording
        # re-sends of one name at once cannot both make theirs current (the loser retries).
        Index(
            CURRENT_VERSION_INDEX,
            "indicator_id",
            "section",
            "name_key",
            unique=True,
            sqlite_where=text("is_current"),
            postgresql_where=text("is_current"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    attachment_id: Mapped[int] = mapped_column(ForeignKey("attachment.id"))
    indicator_id: Mapped[str] = mapped_column(CleanString(64))
    section: Mapped[str] = mapped_column(CleanString(255))  # "" for an unknown sender
    name_key: Mapped[str] = mapped_column(CleanString())  # normalised file name
    version: Mapped[int] = mapped_column(Integer, default=1)
    is_current: Mapped[bool] = mapped_column(Boolean, default=True)
    matched_by: Mapped[str] = mapped_column(CleanString(32))  # MATCHED_BY
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    attachment: Mapped[Attachment] = relationship(back_populates="assignments")


class Declaration(Base):
    """A section's statement that it has no material for an indicator (无材料)."""

    __tablename__ = "declaration"
    __table_args__ = (UniqueConstraint("indicator_id", "section"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mail_id: Mapped[int | None] = mapped_column(ForeignKey("mail.id"))  # None when made on the CLI
    indicator_id: Mapped[str] = mapped_column(CleanString(64))
    section: Mapped[str] = mapped_column(CleanString(255))
    source: Mapped[str] = mapped_column(CleanString(32))  # DECLARATION_SOURCES
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    mail: Mapped[Mail | None] = relationship()


class ReviewItem(Base):
    """Something the coordinator has to decide."""

    __tablename__ = "review_item"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mail_id: Mapped[int] = mapped_column(ForeignKey("mail.id"), index=True)
    attachment_id: Mapped[int | None] = mapped_column(ForeignKey("attachment.id"))
    reason: Mapped[str] = mapped_column(CleanString(64))  # a code
    detail: Mapped[str] = mapped_column(CleanText)  # Chinese, for the coordinator
    candidates: Mapped[list[str]] = mapped_column(CleanJSON, default=list)  # indicator ids
    status: Mapped[str] = mapped_column(CleanString(32), default="open", index=True)  # REVIEW_STATUSES
    resolution: Mapped[str | None] = mapped_column(CleanText)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]

    mail: Mapped[Mail] = relationship()
    attachment: Mapped[Attachment | None] = relationship()


class Problem(Base):
    """A finding about a mail or one of its files, reported back to the sender."""

    __tablename__ = "problem"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mail_id: Mapped[int] = mapped_column(ForeignKey("mail.id"), index=True)
    attachment_id: Mapped[int | None] = mapped_column(ForeignKey("attachment.id"))
    code: Mapped[str] = mapped_column(CleanString(64))
    detail: Mapped[str] = mapped_column(CleanText)
    cleared_at: Mapped[datetime | None]  # a possibly_classified flag the coordinator checked and cleared

    mail: Mapped[Mail] = relationship(back_populates="problems")
    attachment: Mapped[Attachment | None] = relationship()


class CloudFile(Base):
    """A 超大附件 / cloud-drive file announced in a mail body, to be fetched by hand before it expires."""

    __tablename__ = "cloud_file"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mail_id: Mapped[int] = mapped_column(ForeignKey("mail.id"), index=True)
    filename: Mapped[str] = mapped_column(CleanString())
    url: Mapped[str] = mapped_column(CleanText)
    provider: Mapped[str] = mapped_column(CleanString(32))
    size_text: Mapped[str | None] = mapped_column(CleanString(64))
    expires_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(CleanString(32), default="pending", index=True)  # CLOUD_FILE_STATUSES
    # What the mail's subject and the shared name give (the matcher); the fetched file counts for them.
    indicators: Mapped[list[str]] = mapped_column(CleanJSON, default=list, server_default="[]")
    attachment_id: Mapped[int | None] = mapped_column(ForeignKey("attachment.id"))  # the fetched file
    closed_at: Mapped[datetime | None]  # fetched or dismissed
    expiry_noted_at: Mapped[datetime | None]  # a digest said it expired unfetched (said once)

    mail: Mapped[Mail] = relationship(back_populates="cloud_files")
    attachment: Mapped[Attachment | None] = relationship()


class Outbox(Base):
    """An outgoing mail, rendered once and sent until it succeeds; ``dedupe_key`` makes every job that
    enqueues mail safe to re-run."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status_next_attempt_at", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(CleanString(32))  # OUTBOX_KINDS
    # "receipt:<mail dedupe_key>", "reminder:<section>:<slot date>", "digest:<date>", ...
    dedupe_key: Mapped[str] = mapped_column(CleanString(), unique=True)
    message_id: Mapped[str] = mapped_column(CleanString())
    recipients: Mapped[list[str]] = mapped_column(CleanJSON)
    subject: Mapped[str] = mapped_column(CleanText)
    raw: Mapped[bytes] = mapped_column(LargeBinary)  # the rendered RFC 5322 bytes
    status: Mapped[str] = mapped_column(CleanString(32), default="queued")  # OUTBOX_STATUSES
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(CleanText)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    # Digests: the highest mail.id covered; the next digest's arrivals are the mails above it.
    mail_watermark: Mapped[int | None] = mapped_column(Integer)


class Acceptance(Base):
    """The coordinator checked a section's materials for an indicator (确认). A file that arrives
    later makes the item "received" again until it is checked anew."""

    __tablename__ = "acceptance"
    __table_args__ = (UniqueConstraint("indicator_id", "section"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    indicator_id: Mapped[str] = mapped_column(CleanString(64))
    section: Mapped[str] = mapped_column(CleanString(255))
    mail_id: Mapped[int | None] = mapped_column(ForeignKey("mail.id"))  # the command mail; None on the CLI
    source: Mapped[str] = mapped_column(CleanString(32))  # ACTION_SOURCES
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReturnRecord(Base):
    """The coordinator sent a section's material back (退回): the item is owed again until a file
    arrives for it after ``created_at``."""

    __tablename__ = "return_record"
    __table_args__ = (Index("ix_return_record_indicator_id_section", "indicator_id", "section"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    indicator_id: Mapped[str] = mapped_column(CleanString(64))
    section: Mapped[str] = mapped_column(CleanString(255))
    attachment_id: Mapped[int | None] = mapped_column(ForeignKey("attachment.id"))  # None: the whole item
    command_mail_id: Mapped[int | None] = mapped_column(ForeignKey("mail.id"))  # None on the CLI
    reason: Mapped[str] = mapped_column(CleanText)
    source: Mapped[str] = mapped_column(CleanString(32))  # ACTION_SOURCES
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    attachment: Mapped[Attachment | None] = relationship()


class ActionLog(Base):
    """One change the coordinator made to the record (CLI or mail): who, when, what, and the row
    changes that undo it (``bot.coordinator.journal``). An undone entry points at the undo's entry."""

    __tablename__ = "action_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    source: Mapped[str] = mapped_column(CleanString(32))  # ACTION_SOURCES
    actor: Mapped[str] = mapped_column(CleanString(255))  # the CLI user, or the address the command mail came from
    mail_id: Mapped[int | None] = mapped_column(ForeignKey("mail.id"))  # the command mail; None on the CLI
    verb: Mapped[str] = mapped_column(CleanString(32))  # ACTION_VERBS
    command: Mapped[str] = mapped_column(CleanText)  # as typed
    summary: Mapped[str] = mapped_column(CleanText)  # what was done, in Chinese
    # [{"table", "id", "op": insert|update|delete, "before": {...}|None, "after": {...}|None}, ...]
    changes: Mapped[list[dict[str, Any]]] = mapped_column(CleanJSON, default=list)
    undone_at: Mapped[datetime | None]
    undone_by: Mapped[int | None] = mapped_column(ForeignKey("action_log.id"))


class PendingCommand(Base):
    """Mailed commands that could not be verified (``rules.authority``), waiting for the coordinator to
    reply with the one-time ``code`` mailed to her configured address; used at most once, until
    ``expires_at``."""

    __tablename__ = "pending_command"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(CleanString(16), unique=True)
    mail_id: Mapped[int] = mapped_column(ForeignKey("mail.id"), index=True)  # the command mail
    scope_mail_id: Mapped[int | None] = mapped_column(ForeignKey("mail.id"))  # the receipt it answered
    commands: Mapped[str] = mapped_column(CleanText)  # the command lines as written, one per line
    sent_to: Mapped[str] = mapped_column(CleanString())  # the configured coordinator address the code went to
    status: Mapped[str] = mapped_column(CleanString(32), default="pending")  # PENDING_COMMAND_STATUSES
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    confirmed_mail_id: Mapped[int | None] = mapped_column(ForeignKey("mail.id"))  # the reply quoting the code
    confirmed_at: Mapped[datetime | None]
