"""One poll of the mailbox: the bot's main job, read straight down.

``poll_once``: for each folder, cursor from db -> new UIDs -> ``bot.ingest.pipeline`` runs them:
the download (a prefetch thread, or for a backlog a process of its own: ``bot.ingest.downloader``)
feeds ``bot.ingest.prepare`` (parse, store files, read documents; in
a small pool of worker processes, ``bot.ingest.workers``), and this process records the prepared
mails in UID order, several to a transaction, with the cursor saved in the transaction that records
them.

Recording one prepared mail (``record_prepared``, inside the caller's transaction): dedupe ->
classify (rules.mailkind, done while preparing) -> who sent it (rules.sender, once: it decides
section, commands and receipt) -> what is material (rules.material) -> match (rules.match) -> rows:
mail, files, assignments, reviews, problems, receipt. A command mail (run, held for the coordinator's
confirmation code, or refused) is recorded alone, in its own transactions (``process_prepared``).

What goes wrong is sorted by ``bot.ingest.faults``:

- the mail itself is broken (no library reads it, it triggers a bug): it is kept raw with its error
  and put before the coordinator; the poll goes on;
- the machine is in trouble (disk full or read-only, database locked or away, out of memory): the
  poll stops with ``PollStopped`` (cause and fix in Chinese); the mails not committed are not
  recorded and the cursor stays before them, so the next poll retries them;
- a process dies on the mail (OOM killer, SIGKILL): the quarantine (``bot.ingest.quarantine``) finds
  the mail, retries it alone, and after two such deaths sets it aside for the coordinator and moves
  the cursor past it.

A crash leaves nothing or whole batches recorded; the next poll resumes after the last committed
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
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path

from bot.app import Deps
from bot.ingest import quarantine
from bot.ingest.download import discard, fetch_run, runs, weight
from bot.ingest.downloader import downloaded
from bot.ingest.faults import PollStopped, describe, transient_message
from bot.ingest.pipeline import process_one_alone, run_folder, workers_for
from bot.ingest.record import Source
from bot.ingest.settle import Outcome
from bot.ingest.spool import process_spool
from bot.ingest.workers import Preparer, heap_frozen, process_context
from bot.mailbox.imap import MailboxClient
from bot.mailbox.prefetch import prefetched
from bot.mime.textextract import ExtractionStopped
from db.queries import get_cursor, save_cursor

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
        outcome = outcome.flushed()
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
        backlog = workers_for(deps, len(uids)) > 1
        if backlog:
            # Start the fork server (a few hundred ms of imports) while the sizes are read.
            process_context()
        if not uids:
            if cursor is None or cursor.uidvalidity != uidvalidity:
                with deps.sessions.begin() as s:
                    save_cursor(s, folder, uidvalidity, 0)
            return
        with deps.sessions.begin() as s:
            quarantine.forget_settled(s, folder, uidvalidity, after)
            suspects = quarantine.suspects(s, folder, uidvalidity, after)
        infos = box.sizes(uids)
        planned = list(runs(uids, lambda u: u in infos and infos[u].size > LARGE_MAIL_BYTES))
        spool = Path(tempfile.mkdtemp(dir=spool_root, prefix="poll-"))

        sizes = {uid: info.size for uid, info in infos.items()}  # RFC822.SIZE is asked once per poll

        def fetch_all() -> Iterator[tuple[int, bytes | Path]]:
            for run in planned:
                yield from fetch_run(box, run, spool, sizes)

        def source_of(uid: int) -> Source:
            date = infos[uid].internaldate if uid in infos else None
            return Source(folder, uidvalidity, uid, date or deps.clock())

        try:
            download: AbstractContextManager[Iterator[tuple[int, bytes | Path]]]
            if backlog:
                # A backlog: the download runs in a process of its own (bot.ingest.downloader), on its
                # own connection, and writes the mails to the spool folder.
                download = downloaded(
                    process_context(), deps.imap_settings(folder), uidvalidity, planned, sizes, spool,
                    max_items=PREFETCH_ITEMS,
                )  # fmt: skip
            else:
                # The download runs ahead of parsing and recording in a thread (bot.mailbox.prefetch);
                # only that thread uses the IMAP connection until the loop ends.
                download = prefetched(
                    fetch_all, max_items=PREFETCH_ITEMS, max_bytes=PREFETCH_BYTES, weight=weight, discard=discard
                )
            with download as fetched, heap_frozen() if backlog else contextlib.nullcontext():
                run_folder(deps, fetched, [source_of(u) for u in uids], suspects, spool, report, progress)
        finally:
            shutil.rmtree(spool, ignore_errors=True)


def process_one(deps: Deps, raw: bytes | Path, source: Source, *, spool: Path | None = None) -> Outcome:
    """Record one mail (bytes, or a spooled .eml for large mails) exactly once, alone: marked in
    progress in its own committed transaction, read in this process, recorded in its own
    transaction (``pipeline.process_one_alone`` with no worker processes)."""
    preparer = Preparer(deps.storage, spool or process_spool(deps.storage.root), deps.own_addresses, 1)
    try:
        return process_one_alone(deps, preparer, raw, source)
    finally:
        preparer.close()
