"""How one folder's new mails are read and recorded: prepared in parallel, recorded in UID order,
several to a transaction.

::

    download (IMAP, UID order: a prefetch thread, or a process for a backlog: bot.ingest.downloader)
        -> Preparer.submit: parse, store files, read documents (worker processes, bot.ingest.workers)
        -> this thread, in UID order: record_prepared into the open batch (bot.ingest.settle)
        -> Batch.commit: the batch's rows + the cursor at its last UID + marks ahead, one transaction

**Batches.** A batch holds up to ``BATCH_MAILS`` mails or ``BATCH_SECONDS`` of recording, whichever
comes first, and commits with the cursor at its last mail, so mail rows and cursor move together:
a crash rolls both back and the next poll reads those mails again. Their files were written by
``prepare`` and synced (below) before the commit that refers to them; a crash leaves them
unreferenced, and the retry finds them in place (content addressing: same hash, same path).

**Marks.** Before a mail is handed to a worker, its in-progress mark (``bot.ingest.quarantine``) is
committed: marks are written ``BATCH_MAILS`` at a time, in the transaction of the batch before them.
A mail with a dead process's mark is a suspect: it is recorded alone (``process_one``), after the
batch before it commits, so that only the mail that kills its poller is ever set aside.

**Mails that go alone.** A command mail, a mail the code fails on, and every mail of a batch that
failed are recorded one by one in their own transactions (``settle.process_prepared``), exactly as a
poll without batches would: a failing mail becomes an error row and never costs the others theirs.

**Worker deaths.** A worker that dies fails every mail it had in flight (``WorkerDied``). The poll
commits what it recorded, counts a death for each of those mails, and handles them alone at once:
the innocent ones are recorded, the one that kills its worker again is set aside.

**Durability.** Workers write the .eml and the files without fsyncs (``Storage.deferring``); the
batch syncs the store's file system once (``Storage.sync``) before the commit that refers to them,
and so does every mail recorded alone. A crash before that sync leaves files that may be torn, but
no row refers to them, and the retry finds them by hash and rewrites any that are not whole.

**Stopping.** When ``deps.stopping`` is set the current batch commits and the poll ends; mails in
flight are abandoned (marks removed) and read again by the next poll.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from bot.app import Deps
from bot.ingest import quarantine
from bot.ingest.download import discard
from bot.ingest.faults import is_transient
from bot.ingest.findings import RuleInputs
from bot.ingest.prepare import Prepared
from bot.ingest.record import Source
from bot.ingest.settle import (
    Outcome,
    Recorded,
    Unflushed,
    assess,
    process_prepared,
    record_prepared,
    record_unparseable,
    set_aside,
)
from bot.ingest.workers import Preparer, WorkerDied, worker_count
from bot.mime.textextract import ExtractionStopped
from db.queries import save_cursor

if TYPE_CHECKING:
    from concurrent.futures import Future

    from bot.ingest.poll import PollReport, Progress

log = logging.getLogger(__name__)

BATCH_MAILS = 50
BATCH_SECONDS = 1.0
# Mails handed to workers and not yet recorded: enough to keep every worker busy while the recording
# thread commits a batch (with 4 per worker, the workers ran dry at every commit and both cores were
# busy only 75% of a backlog: 2,000 mails in 8.65 s on average against 7.28 s with 16), few enough
# that the bytes they hold stay small (each is also bounded by ``IN_FLIGHT_BYTES``).
IN_FLIGHT_PER_WORKER = 16
IN_FLIGHT_BYTES = 32 * 1024 * 1024
# Fewer new mails than this are read in-process: starting workers costs more than it saves (a usual
# poll brings a handful of mails; a first start or a rescan brings hundreds).
PARALLEL_FROM = 20
# Mails handed to a worker in one task.
SUBMIT_GROUP = 4


@dataclass
class _Job:
    item: tuple[int, bytes | Path]
    source: Source
    future: Future[Prepared]

    @property
    def size(self) -> int:
        raw = self.item[1]
        return len(raw) if isinstance(raw, bytes) else 0


@dataclass
class Batch:
    """One open write transaction over several mails; ``commit`` moves the cursor with them."""

    deps: Deps
    report: PollReport
    progress: Callable[[], None]
    _session: Session | None = None
    _started: float = 0.0
    _pending: list[tuple[Prepared, Source, Outcome]] = field(default_factory=list)
    _last: Source | None = None
    _unflushed: Unflushed = field(default_factory=Unflushed)

    def know(self, recorded: Recorded) -> None:
        """Dedupe against ``recorded`` first (a backlog); the database is asked only when it knows
        something of the mail."""
        self._unflushed.recorded = recorded

    def _open(self) -> Session:
        if self._session is None:
            self._session = self.deps.sessions()
            self._session.begin()
            self._started = time.monotonic()
        return self._session

    @property
    def full(self) -> bool:
        return len(self._pending) >= BATCH_MAILS or (
            self._session is not None and time.monotonic() - self._started >= BATCH_SECONDS
        )

    def commit_if_old(self) -> None:
        """While the poll waits for the next mail: no write transaction stays open longer than
        ``BATCH_SECONDS`` (a document may take a minute to read; the coordinator's commands wait)."""
        if self._session is not None and time.monotonic() - self._started >= BATCH_SECONDS:
            self.commit()

    def record(self, prepared: Prepared, source: Source) -> None:
        """Record ``prepared`` in the batch, or alone when it must be (a command, a failure)."""
        if prepared.mail is None or prepared.kind is None:
            if prepared.error is not None and not prepared.out_of_memory:
                error = prepared.error
                self._in_batch(prepared, source, lambda s: record_unparseable(s, prepared, source, error))
                return
            self.alone(prepared, source)
            return
        assessed = assess(self.deps, prepared.mail, prepared.kind, prepared.findings)
        if assessed.alone:
            self.alone(prepared, source)
            return
        self._in_batch(
            prepared, source, lambda s: record_prepared(s, self.deps, prepared, source, assessed, self._unflushed)
        )

    def _in_batch(self, prepared: Prepared, source: Source, write: Callable[[Session], Outcome]) -> None:
        s = self._open()
        try:
            outcome = write(s)
        except Exception as exc:
            self._redo(exc, [(prepared, source)])
            return
        self._pending.append((prepared, source, outcome))
        self._last = source

    def _redo(self, exc: Exception, more: list[tuple[Prepared, Source]]) -> None:
        """Something in this batch failed: roll it back, and record its mails (and ``more``) again one
        by one, each in its own transaction, so that only the failing mail becomes an error row."""
        redo = [(p, src) for p, src, _ in self._pending] + more
        self._pending = []
        self._rollback()
        if is_transient(exc):
            raise exc
        log.info("batch of %d mails failed (%s); recording them one by one", len(redo), exc)
        self.deps.storage.sync()
        for p, src in redo:
            self.settled(process_prepared(self.deps, p, src))

    def alone(self, prepared: Prepared, source: Source) -> None:
        self.commit()
        self.deps.storage.sync()  # what its worker wrote, before the commit that refers to it
        self.settled(process_prepared(self.deps, prepared, source))

    def settled(self, outcome: Outcome) -> None:
        self.report.add(outcome)
        self.progress()

    def commit(self, mark: Iterable[Source] = ()) -> None:
        """Commit the batch with the cursor after its last mail, and mark the mails in ``mark`` as in
        progress in the same transaction."""
        ahead = list(mark)
        if self._session is None and not ahead:
            return
        if self._session is not None:
            try:
                self._session.flush()  # the batch's rows
            except Exception as exc:
                self._redo(exc, [])
                if not ahead:
                    return
        s = self._open()
        try:
            last = self._last
            if last is not None and last.folder is not None and last.uidvalidity is not None and last.uid is not None:
                save_cursor(s, last.folder, last.uidvalidity, last.uid)
                quarantine.forget_settled(s, last.folder, last.uidvalidity, last.uid)
            quarantine.mark_ahead(s, ahead)
            if self._pending:
                # The workers wrote the batch's files without fsync: one sync of the store's file
                # system makes them durable before the rows that refer to them commit.
                self.deps.storage.sync()
            s.commit()
        except BaseException:
            self._rollback()
            raise
        s.close()
        self._session = None
        self._unflushed.clear()
        done, self._pending, self._last = self._pending, [], None
        for _, _, outcome in done:
            self.settled(outcome)

    def _rollback(self) -> None:
        self._unflushed.clear()
        if self._session is not None:
            self._session.rollback()
            self._session.close()
            self._session = None
        self._last = None

    def abandon(self) -> list[Source]:
        """Roll back what is not committed; the sources it held (their marks are to be removed)."""
        sources = [src for _, src, _ in self._pending]
        self._pending = []
        self._rollback()
        return sources


def run_folder(
    deps: Deps,
    fetched: Iterable[tuple[int, bytes | Path]],
    sources: list[Source],
    suspects: set[int],
    spool: Path,
    report: PollReport,
    progress: Progress | None,
) -> None:
    """Prepare and record the mails ``fetched`` yields (UID order, one per entry of ``sources``)."""
    total = len(sources)
    done = 0

    def advanced() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total)

    position = {src.uid: i for i, src in enumerate(sources)}
    workers = workers_for(deps, total)
    # Files are written without fsyncs; each commit that refers to them syncs the store first.
    rules = RuleInputs.of(deps.config, deps.catalogue)
    preparer = Preparer(deps.storage.deferring(), spool, deps.own_addresses, workers, rules)
    batch = Batch(deps, report, advanced)
    if total >= PARALLEL_FROM:
        # A backlog: read what is recorded once instead of asking for each mail (settle.Recorded).
        with deps.sessions() as s:
            batch.know(Recorded.read(s))
    queue: deque[_Job] = deque()
    in_flight_limit = IN_FLIGHT_PER_WORKER * preparer.workers if preparer.parallel else 2
    marked = 0  # sources[:marked] are marked in progress (or suspects, marked when handled alone)

    # Mails are handed to the pool a few at a time (one task, one pickle and one wake-up each).
    submit_group = min(SUBMIT_GROUP, max(1, in_flight_limit // 2))
    waiting: list[tuple[tuple[int, bytes | Path], Source]] = []

    def submit_waiting() -> None:
        if waiting:
            futures = preparer.submit_many([item[1] for item, _ in waiting])
            queue.extend(_Job(item, source, f) for (item, source), f in zip(waiting, futures, strict=True))
            waiting.clear()

    def settle_next() -> None:
        job = queue.popleft()
        try:
            try:
                prepared = preparer.result(job.future, deps.stopping.is_set, batch.commit_if_old)
            except WorkerDied:
                _worker_died(deps, preparer, batch, [job, *queue])
                queue.clear()
                return
            except (ExtractionStopped, OSError, MemoryError):
                # A stop, or the disk or memory failed while this mail was read: what the batch
                # holds is sound, so it is kept; this mail and the ones after it are read next time.
                batch.commit()
                raise
            batch.record(prepared, job.source)
            if batch.full:
                batch.commit()
        finally:
            discard(job.item)

    try:
        for item in fetched:
            uid = item[0]
            if deps.stopping.is_set():
                discard(item)
                break
            source = sources[position[uid]]
            if uid in suspects:
                submit_waiting()
                while queue:
                    settle_next()
                batch.commit()
                try:
                    batch.settled(process_one_alone(deps, preparer, item[1], source))
                finally:
                    discard(item)
                continue
            i = position[uid]
            if i >= marked:
                ahead = [s for s in sources[i : i + BATCH_MAILS] if s.uid not in suspects]
                batch.commit(mark=ahead)
                marked = i + BATCH_MAILS
            waiting.append((item, source))
            if len(waiting) >= submit_group or not preparer.parallel:
                submit_waiting()
            while queue and (len(queue) >= in_flight_limit or sum(j.size for j in queue) > IN_FLIGHT_BYTES):
                settle_next()
        if not deps.stopping.is_set():  # a stop: the mails not handed on yet are read next time
            submit_waiting()
        while queue and not deps.stopping.is_set():
            settle_next()
        batch.commit()
    except BaseException:
        batch.abandon()
        _abandon(deps, [s for s in sources[:marked] if s.uid not in suspects])
        raise
    finally:
        for job in queue:
            discard(job.item)
        for item, _source in waiting:
            discard(item)
        # Whatever ends the loop (all done, a stop, Ctrl-C, an error), nothing more is wanted from
        # the workers: a document still being read is abandoned rather than waited for.
        preparer.stop()
        preparer.close()
    if deps.stopping.is_set():
        # Mails marked ahead but not recorded: their marks go, and the next poll reads them.
        _abandon(deps, [s for s in sources[:marked] if s.uid not in suspects])


def workers_for(deps: Deps, new_mails: int) -> int:
    """Worker processes for a poll of ``new_mails`` (1: read in this process)."""
    return worker_count(deps.config.mailbox.workers) if new_mails >= PARALLEL_FROM else 1


def _abandon(deps: Deps, sources: list[Source]) -> None:
    """Remove this process's marks from ``sources`` (those recorded have none left)."""
    try:
        quarantine.abandon_many(deps.sessions, sources)
    except Exception:
        log.warning("could not remove the in-progress marks of %d mails", len(sources), exc_info=True)


def process_one_alone(deps: Deps, preparer: Preparer, raw: bytes | Path, source: Source) -> Outcome:
    """A suspect mail: marked in its own transaction, prepared with no other mail in flight, recorded
    alone. A worker that dies on it counts a death and is tried again until the quarantine sets the
    mail aside."""
    while True:
        deaths = quarantine.begin(deps.sessions, source)  # committed before the expensive work
        if deaths >= quarantine.MAX_DEATHS:
            return set_aside(deps, raw, source, deaths)
        settled = False
        try:
            try:
                prepared = preparer.result(preparer.submit(raw), deps.stopping.is_set)
            except WorkerDied:
                log.error("mail uid=%s in %s: the worker reading it died", source.uid, source.folder)
                quarantine.count_as_death(deps.sessions, source)
                preparer.restart()
                settled = True
                continue
            if not preparer.storage.sync_each:
                deps.storage.sync()
            outcome = process_prepared(deps, prepared, source)
            settled = True
            return outcome
        finally:
            if not settled:
                try:
                    quarantine.abandon(deps.sessions, source)
                except Exception:
                    log.debug("could not remove the mark of uid=%s", source.uid, exc_info=True)


def _worker_died(deps: Deps, preparer: Preparer, batch: Batch, jobs: list[_Job]) -> None:
    """A worker died with ``jobs`` in flight: commit what is recorded, count a death for each of them,
    and handle each alone (``process_one_alone``)."""
    log.error("a worker process died with %d mail(s) in flight; retrying them one at a time", len(jobs))
    batch.commit()
    preparer.restart()
    for job in jobs:
        quarantine.count_as_death(deps.sessions, job.source)
    for job in jobs:
        try:
            batch.settled(process_one_alone(deps, preparer, job.item[1], job.source))
        finally:
            discard(job.item)
