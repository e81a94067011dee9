"""One poll of the mailbox: the bot's main job, read straight down.

``poll_once``: for each folder, cursor from db -> new UIDs -> for each mail in UID order:
``process_one`` -> the cursor moves in the same transaction that records the mail.

``process_one``: parse (bytes -> IncomingMail) -> classify (rules.mailkind) -> who sent it
(rules.sender, once: it decides section, commands and receipt) -> commands (run, held for the
coordinator's confirmation code, or refused) -> what is material (rules.material) -> match
(rules.match) -> store files (content-addressed, idempotent) -> one transaction: mail, files,
assignments, reviews, problems, receipt, cursor. A mail that cannot be parsed is kept with its error
and put before the coordinator; the poll goes on. A crash anywhere leaves either nothing or the whole
mail recorded, and the next poll resumes after the last committed UID. The same raw bytes are never
recorded twice, and the unique ``mail.dedupe_key`` (Message-ID *and* sender) makes a second poller
(or a rescan after a UIDVALIDITY change) record nothing twice, while a stranger reusing a section's
Message-ID cannot make the section's mail look like a duplicate.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from bot.app import Deps
from bot.coordinator.confirmations import confirm_command_mail, hold_command_mail
from bot.coordinator.mailcommands import handle_command_mail, note_refused, route
from bot.ingest.record import Source, add_mail, add_unparseable, dedupe_key, record_submission
from bot.ingest.trust import not_material_files, sender_of, submission_facts
from bot.ingest.validate import validate_mail
from bot.mailbox.errors import ImapError
from bot.mailbox.imap import MailboxClient
from bot.mailbox.prefetch import prefetched
from bot.mime.mail import IncomingMail
from bot.mime.parse import ParseError, parse_message, parse_message_file
from bot.outgoing.receipts import ReceiptOutcome, enqueue_receipt
from db.models import Attachment, Mail
from db.queries import get_cursor, mail_by_dedupe_key, mail_by_raw_sha256, save_cursor
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
    """Read every configured folder once. Connection problems end that folder's poll (the cursor
    keeps what was committed) and are reported; the next poll resumes."""
    report = PollReport()
    for folder in deps.config.mailbox.folders:
        _poll_folder(deps, folder, report, progress)
    return report


def _poll_folder(deps: Deps, folder: str, report: PollReport, progress: Progress | None) -> None:
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
        infos = box.sizes(uids)
        runs = list(_runs(uids, lambda u: u in infos and infos[u].size > LARGE_MAIL_BYTES))
        spool = Path(tempfile.mkdtemp(dir=_spool_dir(deps), prefix="fetch-"))

        sizes = {uid: info.size for uid, info in infos.items()}  # RFC822.SIZE is asked once per poll

        def fetch_all() -> Iterator[tuple[int, bytes | Path]]:
            for run in runs:
                yield from _fetch_run(box, run, spool, sizes)

        try:
            # The download runs ahead of parsing and recording (bot.mailbox.prefetch); only that thread uses
            # the IMAP connection until the loop ends.
            with prefetched(
                fetch_all, max_items=PREFETCH_ITEMS, max_bytes=PREFETCH_BYTES, weight=_weight, discard=_discard
            ) as fetched:
                for done, (uid, raw) in enumerate(fetched, start=1):
                    date = infos[uid].internaldate if uid in infos else None
                    source = Source(folder, uidvalidity, uid, date or deps.clock())
                    try:
                        report.add(process_one(deps, raw, source))
                    finally:
                        _discard((uid, raw))
                    if progress is not None:
                        progress(done, len(uids))
        finally:
            shutil.rmtree(spool, ignore_errors=True)


def _runs(uids: list[int], is_large: Callable[[int], bool]) -> Iterator[tuple[bool, list[int]]]:
    """Consecutive small mails are fetched together; each large one alone. Order is UID order, so the
    cursor never passes a mail that was not processed."""
    run: list[int] = []
    for uid in uids:
        if is_large(uid):
            if run:
                yield False, run
                run = []
            yield True, [uid]
        else:
            run.append(uid)
    if run:
        yield False, run


def _fetch_run(
    box: MailboxClient, run: tuple[bool, list[int]], spool: Path, sizes: dict[int, int]
) -> Iterator[tuple[int, bytes | Path]]:
    """Small mails come as bytes; a large one is streamed to a file in ``spool``, which its consumer
    deletes (``_discard``) once it is recorded."""
    large, uids = run
    if not large:
        yield from box.fetch_raw(uids, {u: sizes[u] for u in uids if u in sizes})
        return
    uid = uids[0]
    path = spool / f"{uid}.eml"
    with path.open("wb") as out:
        box.stream_message_to(uid, out, size=sizes.get(uid))
    yield uid, path


def _weight(item: tuple[int, bytes | Path]) -> int:
    return len(item[1]) if isinstance(item[1], bytes) else 0  # a spooled mail waits on disk


def _discard(item: tuple[int, bytes | Path]) -> None:
    if isinstance(item[1], Path):
        item[1].unlink(missing_ok=True)


def _spool_dir(deps: Deps) -> Path:
    # Spool next to the store, so moving a file into it never crosses a file system.
    spool = deps.storage.root / "spool"
    spool.mkdir(parents=True, exist_ok=True)
    return spool


def _sha256_of(raw: bytes | Path) -> str:
    if isinstance(raw, bytes):
        return hashlib.sha256(raw).hexdigest()
    digest = hashlib.sha256()
    with raw.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def process_one(deps: Deps, raw: bytes | Path, source: Source) -> Outcome:
    """Record one mail (bytes, or a spooled .eml for large mails) exactly once."""
    raw_sha = _sha256_of(raw)
    workdir = Path(tempfile.mkdtemp(dir=_spool_dir(deps), prefix="mail-"))
    try:
        mail: IncomingMail | None = None
        try:
            mail = parse_message(raw, workdir) if isinstance(raw, bytes) else parse_message_file(raw, workdir)
        except ParseError as exc:
            return _record_unparseable(deps, raw, raw_sha, source, str(exc))
        try:
            return _record(deps, mail, raw, raw_sha, source)
        except IntegrityError:
            # Another poller recorded the same mail between our check and our commit.
            log.info("mail %s recorded concurrently; skipping", mail.message_id)
            _advance(deps, source)
            return Outcome("duplicate")
    except (OperationalError, ImapError):
        raise  # the database or the mailbox is away: stop; the cursor keeps what was committed
    except Exception as exc:
        # A bug or a file no library could read must not block the mailbox (the same mail would
        # fail on every poll): keep the raw mail with the error for the coordinator and go on.
        log.exception("processing mail uid=%s in %s failed", source.uid, source.folder)
        if mail is not None and _committed(deps, raw_sha):
            _advance(deps, source)  # it failed after its own commit (e.g. while answering a command)
            return Outcome("duplicate")
        return _record_unparseable(deps, raw, raw_sha, source, f"处理失败（{type(exc).__name__}: {exc}）")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _committed(deps: Deps, raw_sha: str) -> bool:
    with deps.sessions() as s:
        return mail_by_raw_sha256(s, raw_sha) is not None


def _store_raw(deps: Deps, raw: bytes | Path, raw_sha: str) -> str:
    if isinstance(raw, bytes):
        return deps.storage.store_raw(raw, raw_sha)
    return deps.storage.store_raw_file(raw, raw_sha)


def _record_unparseable(deps: Deps, raw: bytes | Path, raw_sha: str, source: Source, error: str) -> Outcome:
    key = f"sha256:{raw_sha}"
    with deps.sessions() as s:
        if mail_by_dedupe_key(s, key) is not None:
            _advance(deps, source)
            return Outcome("duplicate")
    raw_path = _store_raw(deps, raw, raw_sha)
    log.warning("unparseable mail uid=%s in %s: %s", source.uid, source.folder, error)
    with deps.sessions.begin() as s:
        row = add_unparseable(s, key=key, raw_sha256=raw_sha, raw_path=raw_path, source=source, error=error)
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


def _record(deps: Deps, mail: IncomingMail, raw: bytes | Path, raw_sha: str, source: Source) -> Outcome:
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
    with deps.sessions.begin() as s:
        row = add_mail(
            s, mail, key=key, raw_sha256=raw_sha, raw_path=raw_path, source=source, section=section,
            kind=kind.value, status="recorded",
        )  # fmt: skip
        rec = record_submission(
            s, row, mail, plan, stored, cloud_indicators=_cloud_indicators(deps, mail, section),
            tz=deps.config.campaign.tz,
        )  # fmt: skip
        validate_mail(s, row, deps.storage, deps.catalogue)  # before the receipt, which shows its findings
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
    if source.folder is not None and source.uidvalidity is not None and source.uid is not None:
        save_cursor(s, source.folder, source.uidvalidity, source.uid)


def _advance(deps: Deps, source: Source) -> None:
    with deps.sessions.begin() as s:
        _save(s, source)
