"""Recording one prepared mail (``bot.ingest.prepare``): alone in its own transaction, or in the
caller's (a batch of ``bot.ingest.pipeline``).

``record_prepared`` (inside the caller's transaction, no commit, no cursor): dedupe -> who sent it
(rules.sender, once: it decides section, commands and receipt) -> what is material (rules.material)
-> match (rules.match) -> rows: mail, files, assignments, reviews, problems, receipt.
``process_prepared``: the same in its own transaction with the cursor, retried on a concurrent
writer's conflict, and the fallback that keeps a mail the code fails on as an error row. A command
mail (run, held for the coordinator's confirmation code, or refused) is always recorded this way: its
handlers commit, and answer, on their own.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass, field, replace
from pathlib import Path

from sqlalchemy import bindparam, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.app import Deps
from bot.coordinator.confirmations import confirm_command_mail, hold_command_mail
from bot.coordinator.mailcommands import Route, handle_command_mail, note_refused, route
from bot.ingest import quarantine
from bot.ingest.download import sha256_of
from bot.ingest.faults import describe, is_transient
from bot.ingest.findings import Findings, not_material_files
from bot.ingest.prepare import Prepared
from bot.ingest.record import KnownVersions, Source, add_mail, add_unparseable, dedupe_key, record_submission
from bot.ingest.trust import sender_of, submission_facts
from bot.ingest.validate import validate_mail
from bot.mailbox.errors import ImapError
from bot.mime.mail import IncomingMail
from bot.mime.textextract import ExtractionStopped
from bot.outgoing.receipts import ReceiptOutcome, enqueue_receipt
from db.errors import unique_violation
from db.models import Attachment, Mail
from db.queries import mail_by_dedupe_key, mail_by_raw_sha256, save_cursor
from rules import codes
from rules.authority import Authority
from rules.disposition import disposition
from rules.mailkind import MailKind
from rules.match import evaluate
from rules.sender import SenderVerdict

log = logging.getLogger(__name__)

# Writes of one mail tried this often when a concurrent writer conflicts (then it is an error row).
WRITE_ATTEMPTS = 3


@dataclass(frozen=True)
class Outcome:
    status: str  # "recorded" | "ignored" | "error" | "duplicate"
    mail_id: int | None = None
    kind: str = ""
    files: int = 0
    assignments: int = 0
    reviews: int = 0
    too_old: bool = False  # no receipt: older than [receipts] max_age_hours
    row: Mail | None = None  # the mail's row when its id is known only after the batch's flush

    def flushed(self) -> Outcome:
        """The outcome with ``mail_id`` read from its row (after the flush that inserted it)."""
        if self.mail_id is None and self.row is not None:
            return replace(self, mail_id=self.row.id, row=None)
        return self


@dataclass
class Recorded:
    """The raw hashes and dedupe keys of every mail in the database, read once for a backlog, kept up
    to date by the run, and asked before each mail's dedupe query: a mail none of whose hash, key and
    variant key is here is new, and needs no query (2,000 queries on a first poll).

    It is only ever trusted to say "new". Anything it knows sends the mail to the query, so a row it
    has and the database lost (a batch rolled back, an undo) costs a query and nothing else. A row
    another writer inserted after the read (a second poller) is what the unique ``dedupe_key`` is
    for: same bytes, same Message-ID and sender, same key, and the insert fails; the batch is then
    redone mail by mail, and each mail's query finds the row."""

    raw_shas: set[str] = field(default_factory=set)
    keys: set[str] = field(default_factory=set)

    @classmethod
    def read(cls, s: Session) -> Recorded:
        rows = s.execute(select(Mail.raw_sha256, Mail.dedupe_key)).all()
        return cls({sha for sha, _ in rows}, {key for _, key in rows})

    def surely_new(self, raw_sha: str, key: str, variant: str) -> bool:
        return raw_sha not in self.raw_shas and key not in self.keys and variant not in self.keys

    def add(self, raw_sha: str, key: str) -> None:
        self.raw_shas.add(raw_sha)
        self.keys.add(key)


@dataclass
class Unflushed:
    """What a batch has added to its session and not flushed yet, so that the next mail of the batch
    needs no flush to see it: raw hashes and dedupe keys recorded, and the versions of each
    (indicator, section) pair read or written (``record.assign_file``)."""

    raw_shas: set[str] = field(default_factory=set)
    keys: set[str] = field(default_factory=set)
    versions: KnownVersions = field(default_factory=KnownVersions)  # valid for the whole transaction
    recorded: Recorded | None = None  # for a backlog: valid for the whole run, never cleared

    def flushed(self) -> None:
        """The session was flushed: nothing is pending (the versions read stay true)."""
        self.raw_shas.clear()
        self.keys.clear()

    def clear(self) -> None:
        """The transaction ended (commit or rollback)."""
        self.flushed()
        self.versions.clear()


def process_prepared(deps: Deps, prepared: Prepared, source: Source, raw: bytes | Path | None = None) -> Outcome:
    """Record one prepared mail in its own transaction(s), cursor and mark with it: the way for a
    mail handled alone, a command mail, and a batch that has to be redone mail by mail."""
    if prepared.out_of_memory:
        # Running out of memory on a mail counts like dying on it; the poll stops (``PollStopped``).
        with contextlib.suppress(Exception):
            quarantine.count_as_death(deps.sessions, source)
        raise MemoryError(f"out of memory while reading mail uid={source.uid}")
    if prepared.mail is None:
        if prepared.failure is not None:
            log.error("processing mail uid=%s in %s failed: %s", source.uid, source.folder, prepared.failure_trace)
            return _record_unparseable(deps, prepared, source, f"处理失败（{prepared.failure}）")
        return _record_unparseable(deps, prepared, source, prepared.error or "邮件无法解析")
    try:
        attempt = 1
        while True:
            try:
                return _record_alone(deps, prepared, source)
            except IntegrityError as exc:
                # Only the dedupe key's conflict may mean "recorded already", and the retry's first
                # step finds out; any other conflict is a concurrent writer, and the retry reads anew.
                if attempt == WRITE_ATTEMPTS:
                    raise
                which = "the same mail" if unique_violation(exc, "mail", ["dedupe_key"]) else describe(exc)
                log.info("mail uid=%s: conflict with a concurrent writer (%s); retrying", source.uid, which)
                attempt += 1
    except (ImapError, ExtractionStopped):
        raise  # the mailbox is away, or we were asked to stop: the cursor keeps what was committed
    except Exception as exc:
        if is_transient(exc):
            raise  # disk, database or memory: stop the poll; this mail is retried next time
        # A bug must not block the mailbox (the same mail would fail on every poll): keep the raw
        # mail with the error for the coordinator and go on.
        log.exception("processing mail uid=%s in %s failed", source.uid, source.folder)
        if _committed(deps, prepared.raw_sha):
            _advance(deps, source)  # it failed after its own commit (e.g. while answering a command)
            return Outcome("duplicate")
        return _record_unparseable(deps, prepared, source, f"处理失败（{describe(exc)}）")


def set_aside(deps: Deps, raw: bytes | Path, source: Source, deaths: int) -> Outcome:
    """A process died on this mail ``deaths`` times: record it as an error, raw .eml kept, and move on."""
    log.error("mail uid=%s in %s set aside: the poller died on it %d times", source.uid, source.folder, deaths)
    raw_sha = sha256_of(raw)
    raw_path = (
        deps.storage.store_raw(raw, raw_sha) if isinstance(raw, bytes) else deps.storage.store_raw_file(raw, raw_sha)
    )
    error = f"处理这封邮件时收信进程已 {deaths} 次意外中止（多为内存不足被系统终止），为免阻塞后续邮件，已跳过"
    detail = (
        f"{error}。原始邮件已保存，可用 intake review 查看后请发件科室重新发送（如拆分成几封、压缩文件改为 PDF），"
        "或告诉维护者。"
    )
    return _record_unparseable(
        deps, Prepared(raw_sha, raw_path), source, error, reason=codes.QUARANTINED, detail=detail
    )


def _committed(deps: Deps, raw_sha: str) -> bool:
    with deps.sessions() as s:
        return mail_by_raw_sha256(s, raw_sha) is not None


def _record_unparseable(deps: Deps, prepared: Prepared, source: Source, error: str, **review: str) -> Outcome:
    with deps.sessions.begin() as s:
        outcome = record_unparseable(s, prepared, source, error, **review)
        _save(s, source)
        return outcome


def record_unparseable(s: Session, prepared: Prepared, source: Source, error: str, **review: str) -> Outcome:
    """In the caller's transaction: a mail nothing could be read from, kept raw for the coordinator."""
    key = f"sha256:{prepared.raw_sha}"
    if mail_by_dedupe_key(s, key) is not None:
        return Outcome("duplicate")
    log.warning("unparseable mail uid=%s in %s: %s", source.uid, source.folder, error)
    row = add_unparseable(
        s, key=key, raw_sha256=prepared.raw_sha, raw_path=prepared.raw_path, source=source, error=error, **review
    )
    return Outcome("error", row.id, "unparseable", reviews=1)


# A Core statement on the table (run on the session's connection): it runs once per mail, and the
# ORM's statement handling cost more than the query.
_MAIL = Mail.__table__.c
_SAME_MAIL = select(_MAIL.id, _MAIL.dedupe_key, _MAIL.raw_sha256, _MAIL.kind, _MAIL.subject).where(
    or_(
        _MAIL.raw_sha256 == bindparam("sha"),
        _MAIL.dedupe_key == bindparam("key"),
        _MAIL.dedupe_key == bindparam("variant"),
    )
)


def _duplicate_or_key(s: Session, mail: IncomingMail, raw_sha: str, recorded: Recorded | None = None) -> str | None:
    """None when this mail is recorded already; otherwise the dedupe key to record it under.

    A duplicate: the very same bytes (a rescan, a second folder), or the same Message-ID from the same
    sender with the same files and subject. A reused Message-ID with other content (some clients do
    that) is a different mail, recorded under the key with its hash added. One query answers all.
    """
    key = dedupe_key(mail, raw_sha)
    variant = f"{key}#sha256:{raw_sha}"
    if recorded is not None and recorded.surely_new(raw_sha, key, variant):
        return key
    found = s.connection().execute(_SAME_MAIL, {"sha": raw_sha, "key": key, "variant": variant}).all()
    if any(row.raw_sha256 == raw_sha and row.kind != "unparseable" for row in found):
        return None
    keys = {row.dedupe_key: row for row in found}
    if key not in keys:
        return key
    same = keys[key]
    same_files = set(s.scalars(select(Attachment.sha256).where(Attachment.mail_id == same.id)))
    if same_files == {m.sha256 for m in mail.materials} and same.subject == mail.subject.text:
        return None
    return None if variant in keys else variant


@dataclass(frozen=True)
class Assessed:
    """What a prepared mail is, decided before any write: who sent it and what it commands."""

    sender: SenderVerdict
    section: str | None
    commands: Route

    @property
    def alone(self) -> bool:
        """A command mail: its handlers commit (and may answer) on their own."""
        c = self.commands
        return c.confirms is not None or c.obey or c.authority is Authority.CONFIRM


def assess(deps: Deps, mail: IncomingMail, kind: MailKind, findings: Findings | None = None) -> Assessed:
    """Who sent ``mail`` and what it commands, decided here (``findings``, a worker's, only spare
    the parsing of the commands' text: their authority is decided by ``route``)."""
    sender = sender_of(deps, mail)  # rules.sender: the one trust verdict everything below reads
    section = deps.config.section_of(sender.address) if sender.trusted else None
    return Assessed(sender, section, route(deps, mail, kind, sender, findings.commands if findings else None))


def _record_alone(deps: Deps, prepared: Prepared, source: Source) -> Outcome:
    mail, kind = prepared.mail, prepared.kind
    assert mail is not None and kind is not None
    with deps.sessions() as s:
        if _duplicate_or_key(s, mail, prepared.raw_sha) is None:
            _advance(deps, source)
            return Outcome("duplicate")
    assessed = assess(deps, mail, kind, prepared.findings)
    if assessed.alone:
        return _command(deps, prepared, source, assessed)
    with deps.sessions.begin() as s:
        outcome = record_prepared(s, deps, prepared, source, assessed)
        _save(s, source)
        return outcome


def _command(deps: Deps, prepared: Prepared, source: Source, assessed: Assessed) -> Outcome:
    """The coordinator's command mail: executed (or held for her confirmation code) and answered,
    never recorded as a submission."""
    mail = prepared.mail
    assert mail is not None
    with deps.sessions() as s:
        key = _duplicate_or_key(s, mail, prepared.raw_sha)
    if key is None:
        _advance(deps, source)
        return Outcome("duplicate")

    def record_command(s: Session) -> Mail:
        return add_mail(
            s, mail, key=key, raw_sha256=prepared.raw_sha, raw_path=prepared.raw_path, source=source,
            section=assessed.section, kind="command", status="recorded",
        )  # fmt: skip

    def save(s: Session) -> None:
        _save(s, source)

    commands = assessed.commands
    if commands.confirms is not None:
        return Outcome("recorded", confirm_command_mail(deps, mail, commands.confirms, record_command, save), "command")
    if commands.obey:
        return Outcome("recorded", handle_command_mail(deps, mail, commands.commands, record_command, save), "command")
    mail_id = hold_command_mail(deps, mail, commands.commands, commands.reason, record_command, save)
    return Outcome("recorded", mail_id, "command", reviews=1)


def record_prepared(
    s: Session,
    deps: Deps,
    prepared: Prepared,
    source: Source,
    assessed: Assessed,
    unflushed: Unflushed | None = None,
) -> Outcome:
    """Record a prepared, readable, non-command mail in the caller's transaction (no commit, no
    cursor): the rows of an ignored mail, or of a submission with its files, matches, findings and
    receipt. With ``unflushed`` (a batch), the rows are left for the batch's flush where nothing
    needs them sooner; the outcome's id is then read after it (``Outcome.flushed``)."""
    mail, kind = prepared.mail, prepared.kind
    assert mail is not None and kind is not None and not assessed.alone
    if unflushed is None:
        s.flush()
    elif prepared.raw_sha in unflushed.raw_shas:
        return Outcome("duplicate")  # the very same bytes, earlier in this batch
    elif dedupe_key(mail, prepared.raw_sha) in unflushed.keys:
        s.flush()  # the full comparison reads that mail's files
        unflushed.flushed()
    with s.no_autoflush:
        key = _duplicate_or_key(s, mail, prepared.raw_sha, unflushed.recorded if unflushed is not None else None)
    if key is None:
        return Outcome("duplicate")
    if unflushed is not None:
        unflushed.raw_shas.add(prepared.raw_sha)
        unflushed.keys.add(key)
        if unflushed.recorded is not None:
            unflushed.recorded.add(prepared.raw_sha, key)
    section, sender = assessed.section, assessed.sender
    if kind is not MailKind.SUBMISSION:
        row = add_mail(
            s, mail, key=key, raw_sha256=prepared.raw_sha, raw_path=prepared.raw_path, source=source, section=section,
            kind=kind.value, status="ignored", flush=False,
        )  # fmt: skip
        return Outcome("ignored", None, kind.value, row=row)

    # rules.material (executables, damaged parts, unopened containers) and rules.match: found by the
    # worker that read the mail when it could (bot.ingest.findings), for the section decided here.
    findings = prepared.findings
    refused = findings.refused if findings is not None else not_material_files(mail)
    decision = findings.for_section(section) if findings is not None else None
    if decision is None:
        decision = evaluate(
            mail.subject.text, [m.filename.text for m in mail.materials], deps.catalogue, mail.body_text,
            section=section,
        )  # fmt: skip
    plan = disposition(
        decision, section, deps.catalogue, from_addr=mail.from_addr or mail.from_name,
        has_cloud_links=bool(mail.cloud_links), unverified=None if sender.trusted else sender.doubt,
        not_material=refused,
    )  # fmt: skip
    stored = list(zip(mail.materials, prepared.stored, strict=True))
    row = add_mail(
        s, mail, key=key, raw_sha256=prepared.raw_sha, raw_path=prepared.raw_path, source=source, section=section,
        kind=kind.value, status="recorded", flush=False,
    )  # fmt: skip
    rec = record_submission(
        s, row, mail, plan, stored, cloud_indicators=_cloud_indicators(deps, mail, section),
        tz=deps.config.campaign.tz, known=unflushed.versions if unflushed is not None else None,
    )  # fmt: skip
    validate_mail(s, row, prepared.texts, deps.catalogue, fresh=rec)  # before the receipt
    if assessed.commands.commands or deps.config.smtp is not None:
        s.flush()  # refused commands and receipts refer to the mail by id
        if unflushed is not None:
            unflushed.flushed()
    note_refused(s, deps, row, mail, assessed.commands)
    # commits with the mail, or not at all
    receipt = enqueue_receipt(s, deps, row, mail, kind, sender, submission_facts(deps, mail, decision, refused))
    return Outcome(
        "recorded", None, kind.value, files=rec.files, assignments=len(rec.assignments), reviews=rec.reviews,
        too_old=receipt is ReceiptOutcome.TOO_OLD, row=row,
    )  # fmt: skip


def _cloud_indicators(deps: Deps, mail: IncomingMail, section: str | None) -> list[tuple[str, ...]]:
    """Per cloud link, the indicators the matcher reads from its shared name and the subject (none
    when it is unsure: the coordinator says which when the file is fetched)."""
    if not mail.cloud_links:
        return []
    names = [link.filename for link in mail.cloud_links]
    decision = evaluate(mail.subject.text, names, deps.catalogue, mail.body_text, section=section)
    return [() if v.needs_review else tuple(v.indicators) for v in decision.attachments]


def _save(s: Session, source: Source) -> None:
    """In the transaction that settles a mail: the cursor moves past it and its mark goes."""
    if source.folder is not None and source.uidvalidity is not None and source.uid is not None:
        save_cursor(s, source.folder, source.uidvalidity, source.uid)
        quarantine.finish(s, source)


def _advance(deps: Deps, source: Source) -> None:
    with deps.sessions.begin() as s:
        _save(s, source)
