"""One poll of the mailbox: the bot's main job, read straight down.

``poll_once``: for each folder, cursor from db -> new UIDs -> for each mail in UID order:
``process_one`` -> the cursor moves in the same transaction that records the mail.

``process_one``: mark the mail in progress (``bot.ingest.quarantine``) -> parse (header fields clipped
first, ``bot.ingest.limits``) -> classify (rules.mailkind) -> who sent it (rules.sender, once: it
decides section, commands and receipt) -> commands (run, held for the coordinator's confirmation code,
or refused) -> what is material (rules.material) -> match (rules.match) -> store files
(content-addressed, idempotent) -> read documents in capped child processes
(``bot.ingest.validate.extract_texts``) -> one transaction: mail, files, assignments, reviews,
problems, receipt, cursor, and the mark removed.

What goes wrong is sorted by ``bot.ingest.faults``:

- the mail itself is broken (no library reads it, it triggers a bug): it is kept raw with its error
  and put before the coordinator; the poll goes on;
- the machine is in trouble (disk full or read-only, database locked or away, out of memory): the
  poll stops with ``PollStopped`` (cause and fix in Chinese); the mail is not recorded and the cursor
  stays before it, so the next poll retries it;
- the process dies on the mail (OOM killer, SIGKILL): its mark stays; after two such deaths the mail
  is set aside for the coordinator and the cursor moves past it.

A crash leaves nothing or the whole mail recorded; the next poll resumes after the last committed
UID. The same raw bytes are never recorded twice, and the unique ``mail.dedupe_key`` (Message-ID
*and* sender) keeps a second poller or a rescan from recording anything twice, while a stranger
reusing a section's Message-ID cannot make the section's mail look like a duplicate. A conflict with
a concurrent writer is retried from the start: only the dedupe key's can mean "recorded already".
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.app import Deps
from bot.coordinator.confirmations import confirm_command_mail, hold_command_mail
from bot.coordinator.mailcommands import handle_command_mail, note_refused, route
from bot.ingest import quarantine
from bot.ingest.download import discard, fetch_run, runs, sha256_of, weight
from bot.ingest.faults import PollStopped, describe, is_transient, transient_message
from bot.ingest.limits import bound, parse_within_limits
from bot.ingest.record import Source, add_mail, add_unparseable, dedupe_key, record_submission
from bot.ingest.spool import process_spool
from bot.ingest.trust import not_material_files, sender_of, submission_facts
from bot.ingest.validate import extract_texts, validate_mail
from bot.mailbox.errors import ImapError
from bot.mailbox.imap import MailboxClient
from bot.mailbox.prefetch import prefetched
from bot.mime.mail import IncomingMail
from bot.mime.parse import ParseError
from bot.mime.textextract import Extracted, ExtractionStopped
from bot.outgoing.receipts import ReceiptOutcome, enqueue_receipt
from db.errors import unique_violation
from db.models import Attachment, Mail
from db.queries import get_cursor, mail_by_dedupe_key, mail_by_raw_sha256, save_cursor
from rules import codes
from rules.authority import Authority
from rules.disposition import disposition
from rules.mailkind import MailKind, classify
from rules.match import evaluate

log = logging.getLogger(__name__)

# Mails above this size are streamed to disk by partial fetches instead of fetched whole.
LARGE_MAIL_BYTES = 8 * 1024 * 1024
# Fetched mails waiting for processing: small ones wait in memory, so bound them by count and bytes.
PREFETCH_ITEMS = 256
PREFETCH_BYTES = 48 * 1024 * 1024
# Writes of one mail tried this often when a concurrent writer conflicts (then it is an error row).
WRITE_ATTEMPTS = 3

Progress = Callable[[int, int], None]  # (done, total)


@dataclass
class PollReport:
    mails: int = 0  # newly recorded mails (all kinds)
    duplicates: int = 0  # already recorded (re-poll, second folder, rescan)
    files: int = 0
    assignments: int = 0
    reviews: int = 0
    ignored: int = 0
    errors: int = 0
    too_old: int = 0  # recorded without a receipt: arrived more than [receipts] max_age_hours ago
    recorded_mail_ids: list[int] = field(default_factory=list)
    folder_errors: list[str] = field(default_factory=list)

    def add(self, outcome: Outcome) -> None:
        if outcome.status == "duplicate":
            self.duplicates += 1
            return
        self.mails += 1
        if outcome.mail_id is not None:
            self.recorded_mail_ids.append(outcome.mail_id)
        self.files += outcome.files
        self.assignments += outcome.assignments
        self.reviews += outcome.reviews
        self.ignored += outcome.status == "ignored"
        self.errors += outcome.status == "error"
        self.too_old += outcome.too_old


@dataclass(frozen=True)
class Outcome:
    status: str  # "recorded" | "ignored" | "error" | "duplicate"
    mail_id: int | None = None
    kind: str = ""
    files: int = 0
    assignments: int = 0
    reviews: int = 0
    too_old: bool = False  # no receipt: older than [receipts] max_age_hours


def poll_once(deps: Deps, *, progress: Progress | None = None) -> PollReport:
    """Read every configured folder once. Mailbox connection problems raise ``ImapError``, trouble
    with the disk, the database or memory ``PollStopped``; either way the cursor keeps what was
    committed and the next poll resumes. After ``deps.stopping`` is set the poll ends after the
    current mail (or abandons it, unrecorded, while a document of it is being read)."""
    report = PollReport()
    try:
        spool = process_spool(deps.storage.root)  # the first time: spools of dead processes go
        for folder in deps.config.mailbox.folders:
            if deps.stopping.is_set():
                break
            _poll_folder(deps, folder, report, progress, spool)
    except ExtractionStopped:
        log.info("poll: stopped while reading a document; that mail is read again next time")
    except Exception as exc:
        message = transient_message(exc)
        if message is None:
            raise
        log.error("poll stopped (%s); the next poll resumes there", describe(exc))
        raise PollStopped(message, report) from exc
    return report


def _poll_folder(deps: Deps, folder: str, report: PollReport, progress: Progress | None, spool_root: Path) -> None:
    with MailboxClient(deps.imap_settings(folder)) as box:
        uidvalidity = box.uidvalidity
        with deps.sessions() as s:
            cursor = get_cursor(s, folder)
            after = 0
            if cursor is not None and cursor.uidvalidity == uidvalidity:
                after = cursor.last_uid
            elif cursor is not None:
                # RFC 3501 2.3.1.1: a new UIDVALIDITY voids every stored UID. Rescan the folder;
                # Message-ID and content dedupe keep already-recorded mail from counting twice.
                log.warning(
                    "folder %s: UIDVALIDITY changed %s -> %s, rescanning", folder, cursor.uidvalidity, uidvalidity
                )
        uids = box.new_uids(after)
        if not uids:
            if cursor is None or cursor.uidvalidity != uidvalidity:
                with deps.sessions.begin() as s:
                    save_cursor(s, folder, uidvalidity, 0)
            return
        with deps.sessions.begin() as s:
            quarantine.forget_settled(s, folder, uidvalidity, after)
        infos = box.sizes(uids)
        planned = list(runs(uids, lambda u: u in infos and infos[u].size > LARGE_MAIL_BYTES))
        spool = Path(tempfile.mkdtemp(dir=spool_root, prefix="poll-"))

        sizes = {uid: info.size for uid, info in infos.items()}  # RFC822.SIZE is asked once per poll

        def fetch_all() -> Iterator[tuple[int, bytes | Path]]:
            for run in planned:
                yield from fetch_run(box, run, spool, sizes)

        try:
            # The download runs ahead of parsing and recording (bot.mailbox.prefetch); only that thread uses
            # the IMAP connection until the loop ends.
            with prefetched(
                fetch_all, max_items=PREFETCH_ITEMS, max_bytes=PREFETCH_BYTES, weight=weight, discard=discard
            ) as fetched:
                for done, item in enumerate(fetched, start=1):
                    uid, raw = item
                    try:
                        if deps.stopping.is_set():
                            break  # the mails not processed yet stay after the cursor
                        date = infos[uid].internaldate if uid in infos else None
                        source = Source(folder, uidvalidity, uid, date or deps.clock())
                        report.add(process_one(deps, raw, source, spool=spool))
                    finally:
                        discard(item)
                    if progress is not None:
                        progress(done, len(uids))
        finally:
            shutil.rmtree(spool, ignore_errors=True)


def process_one(deps: Deps, raw: bytes | Path, source: Source, *, spool: Path | None = None) -> Outcome:
    """Record one mail (bytes, or a spooled .eml for large mails) exactly once."""
    raw_sha = sha256_of(raw)
    deaths = quarantine.begin(deps.sessions, source)  # committed before the expensive work
    if deaths >= quarantine.MAX_DEATHS:
        return _set_aside(deps, raw, raw_sha, source, deaths)
    workdir = Path(tempfile.mkdtemp(dir=spool or process_spool(deps.storage.root), prefix="mail-"))
    settled = False
    try:
        outcome = _process(deps, raw, raw_sha, source, workdir)
        settled = True
        return outcome
    except MemoryError:
        settled = True  # running out of memory on a mail counts like dying on it
        with contextlib.suppress(Exception):
            quarantine.count_as_death(deps.sessions, source)
        raise
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        if not settled:  # a clean stop (transient fault, stop request): the next poll retries the mail
            with contextlib.suppress(Exception):
                quarantine.abandon(deps.sessions, source)


def _process(deps: Deps, raw: bytes | Path, raw_sha: str, source: Source, workdir: Path) -> Outcome:
    mail: IncomingMail | None = None
    try:
        try:
            mail = bound(parse_within_limits(raw, workdir))
        except ParseError as exc:
            return _record_unparseable(deps, raw, raw_sha, source, str(exc))
        texts: dict[str, Extracted] = {}  # documents are read once, however often the writes are retried
        attempt = 1
        while True:
            try:
                return _record(deps, mail, raw, raw_sha, source, texts)
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
        # A bug or a file no library could read must not block the mailbox (the same mail would
        # fail on every poll): keep the raw mail with the error for the coordinator and go on.
        log.exception("processing mail uid=%s in %s failed", source.uid, source.folder)
        if mail is not None and _committed(deps, raw_sha):
            _advance(deps, source)  # it failed after its own commit (e.g. while answering a command)
            return Outcome("duplicate")
        return _record_unparseable(deps, raw, raw_sha, source, f"处理失败（{describe(exc)}）")


def _set_aside(deps: Deps, raw: bytes | Path, raw_sha: str, source: Source, deaths: int) -> Outcome:
    """The poller died on this mail ``deaths`` times: record it as an error, raw .eml kept, and move on."""
    log.error("mail uid=%s in %s set aside: the poller died on it %d times", source.uid, source.folder, deaths)
    error = f"处理这封邮件时收信进程已 {deaths} 次意外中止（多为内存不足被系统终止），为免阻塞后续邮件，已跳过"
    detail = (
        f"{error}。原始邮件已保存，可用 intake review 查看后请发件科室重新发送（如拆分成几封、压缩文件改为 PDF），"
        "或告诉维护者。"
    )
    return _record_unparseable(deps, raw, raw_sha, source, error, reason=codes.QUARANTINED, detail=detail)


def _committed(deps: Deps, raw_sha: str) -> bool:
    with deps.sessions() as s:
        return mail_by_raw_sha256(s, raw_sha) is not None


def _store_raw(deps: Deps, raw: bytes | Path, raw_sha: str) -> str:
    if isinstance(raw, bytes):
        return deps.storage.store_raw(raw, raw_sha)
    return deps.storage.store_raw_file(raw, raw_sha)


def _record_unparseable(
    deps: Deps, raw: bytes | Path, raw_sha: str, source: Source, error: str, **review: str
) -> Outcome:
    key = f"sha256:{raw_sha}"
    with deps.sessions() as s:
        if mail_by_dedupe_key(s, key) is not None:
            _advance(deps, source)
            return Outcome("duplicate")
    raw_path = _store_raw(deps, raw, raw_sha)
    log.warning("unparseable mail uid=%s in %s: %s", source.uid, source.folder, error)
    with deps.sessions.begin() as s:
        row = add_unparseable(s, key=key, raw_sha256=raw_sha, raw_path=raw_path, source=source, error=error, **review)
        _save(s, source)
        return Outcome("error", row.id, "unparseable", reviews=1)


def _existing(s: Session, mail: IncomingMail, key: str) -> Mail | None:
    """The recorded mail this one duplicates, if any: same Message-ID and the same files. A reused
    Message-ID with other content (some clients do that) is a different mail and is recorded."""
    found = mail_by_dedupe_key(s, key)
    if found is None:
        return None
    same_files = set(s.scalars(select(Attachment.sha256).where(Attachment.mail_id == found.id)))
    if same_files == {m.sha256 for m in mail.materials} and found.subject == mail.subject.text:
        return found
    return None


def _record(
    deps: Deps, mail: IncomingMail, raw: bytes | Path, raw_sha: str, source: Source, texts: dict[str, Extracted]
) -> Outcome:
    key = dedupe_key(mail, raw_sha)
    with deps.sessions() as s:
        if mail_by_raw_sha256(s, raw_sha) is not None:
            _advance(deps, source)  # the very same bytes: a rescan or a second folder
            return Outcome("duplicate")
        if mail_by_dedupe_key(s, key) is not None:
            if _existing(s, mail, key) is not None:
                _advance(deps, source)
                return Outcome("duplicate")
            key = f"{key}#sha256:{raw_sha}"
            if mail_by_dedupe_key(s, key) is not None:
                _advance(deps, source)
                return Outcome("duplicate")

    kind = classify(
        mail.headers, mail.content_type, mail.from_addr, mail.subject.text, mail.body_text, deps.own_addresses
    )
    sender = sender_of(deps, mail)  # rules.sender: the one trust verdict everything below reads
    section = deps.config.section_of(sender.address) if sender.trusted else None
    raw_path = _store_raw(deps, raw, raw_sha)

    if kind is not MailKind.SUBMISSION:
        with deps.sessions.begin() as s:
            row = add_mail(
                s, mail, key=key, raw_sha256=raw_sha, raw_path=raw_path, source=source, section=section,
                kind=kind.value, status="ignored",
            )  # fmt: skip
            _save(s, source)
            return Outcome("ignored", row.id, kind.value)

    commands = route(deps, mail, kind, sender)

    def record_command(s: Session) -> Mail:
        return add_mail(
            s, mail, key=key, raw_sha256=raw_sha, raw_path=raw_path, source=source, section=section,
            kind="command", status="recorded",
        )  # fmt: skip

    def save(s: Session) -> None:
        _save(s, source)

    # The coordinator's command mail: executed (or held for her confirmation code) and answered, never
    # recorded as a submission.
    if commands.confirms is not None:
        return Outcome("recorded", confirm_command_mail(deps, mail, commands.confirms, record_command, save), "command")
    if commands.obey:
        return Outcome("recorded", handle_command_mail(deps, mail, commands.commands, record_command, save), "command")
    if commands.authority is Authority.CONFIRM:
        mail_id = hold_command_mail(deps, mail, commands.commands, commands.reason, record_command, save)
        return Outcome("recorded", mail_id, "command", reviews=1)

    refused = not_material_files(mail)  # rules.material: executables, damaged parts, unopened containers
    decision = evaluate(
        mail.subject.text, [m.filename.text for m in mail.materials], deps.catalogue, mail.body_text, section=section
    )
    plan = disposition(
        decision, section, deps.catalogue, from_addr=mail.from_addr or mail.from_name,
        has_cloud_links=bool(mail.cloud_links), unverified=None if sender.trusted else sender.doubt,
        not_material=refused,
    )  # fmt: skip
    stored = [(m, deps.storage.store_file(m.path, m.sha256)) for m in mail.materials]
    # Documents are read in child processes before the transaction: no database lock is held meanwhile.
    unread = [(m.sha256, m.path, m.filename.text) for m in mail.materials if m.sha256 not in texts]
    texts.update(extract_texts(unread, should_stop=deps.stopping.is_set))
    with deps.sessions.begin() as s:
        row = add_mail(
            s, mail, key=key, raw_sha256=raw_sha, raw_path=raw_path, source=source, section=section,
            kind=kind.value, status="recorded",
        )  # fmt: skip
        rec = record_submission(
            s, row, mail, plan, stored, cloud_indicators=_cloud_indicators(deps, mail, section),
            tz=deps.config.campaign.tz,
        )  # fmt: skip
        validate_mail(s, row, texts, deps.catalogue)  # before the receipt, which shows its findings
        note_refused(s, deps, row, mail, commands)
        # commits with the mail, or not at all
        receipt = enqueue_receipt(s, deps, row, mail, kind, sender, submission_facts(deps, mail, decision, refused))
        _save(s, source)
        return Outcome(
            "recorded", row.id, kind.value, files=rec.files, assignments=len(rec.assignments), reviews=rec.reviews,
            too_old=receipt is ReceiptOutcome.TOO_OLD,
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
