"""Where ``bot.ingest.prepare`` runs: a small pool of worker processes, or this process.

Parsing, unpacking and hashing are CPU-bound pure Python, so a poll hands each mail to one of
``worker_count()`` processes (one per core, at most ``MAX_WORKERS``) while its own thread records the
answers, in UID order, as the single writer of the database. On a one-core machine, or with
``[mailbox] workers = 1``, ``prepare`` runs in this process, in one thread beside the recording one.

A worker that dies (the OOM killer, systemd's ``MemoryMax``, SIGKILL) breaks the pool: every mail it
had in flight fails with ``WorkerDied`` and the poll (``bot.ingest.pipeline``) retries them one at a
time, so that the mail that kills a worker is found and set aside by the quarantine. Workers ignore
SIGINT and SIGTERM: a stop is the poll's decision (``stop()``), which a document being read in a
worker obeys within 0.1 s.

Workers are started by a fork server (a clean process, not a copy of this one with its threads).
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import os
import select
import signal
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from multiprocessing import forkserver
from multiprocessing.context import BaseContext
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import TypeVar

from bot.ingest.findings import RuleInputs
from bot.ingest.prepare import Prepared, prepare
from bot.ingest.storage import Storage

T = TypeVar("T")

MAX_WORKERS = 4
# Workers and the download process run at a lower priority than the poller: its recording thread
# is the one serial step of a backlog, and with more runnable processes than cores an even share
# left it about two thirds of a core while the workers ran ahead (2 cores: 2,000 mails in 10.7-11.6 s
# instead of 11.3-11.9 s). They still get every cycle the recording thread leaves.
HELPER_NICENESS = 10
START_METHOD = "forkserver"  # tests that patch a worker's code in-process may use "fork"


class WorkerDied(Exception):
    """The process preparing a mail died before it answered."""


def worker_count(configured: int = 0) -> int:
    """``configured`` when positive, else one per core this process may use, at most ``MAX_WORKERS``."""
    if configured > 0:
        return configured
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_WORKERS))


class Preparer:
    """``submit`` a mail, get a future of its ``Prepared``; inline when there is one worker."""

    def __init__(
        self,
        storage: Storage,
        spool: Path,
        own_addresses: frozenset[str],
        workers: int,
        rules: RuleInputs | None = None,
    ) -> None:
        self.storage = storage
        self.spool = spool
        self.own_addresses = own_addresses
        self.workers = workers
        self.rules = rules  # given: the workers also find what the rules say (bot.ingest.findings)
        self._context = process_context() if workers > 1 else None
        self._stop: Event | None = self._context.Event() if self._context is not None else None
        self._pool: ProcessPoolExecutor | None = None
        self._thread: ThreadPoolExecutor | None = None
        self._stopped = False

    @property
    def parallel(self) -> bool:
        return self._context is not None

    def submit(self, raw: bytes | Path, raw_sha: str | None = None) -> Future[Prepared]:
        if self._context is None:
            # In-process, but in a thread: the poll keeps committing on time while a document is read.
            if self._thread is None:
                self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="prepare")
            return self._thread.submit(
                prepare, raw, self.storage, self.spool, self.own_addresses, should_stop=self._stop_asked,
                raw_sha=raw_sha, rules=self.rules,
            )  # fmt: skip
        return self._task(_prepare_in_worker, raw, self.spool, raw_sha)

    def _task(self, fn: Callable[..., T], *args: object) -> Future[T]:
        if self._pool is None:
            stop = self._stop
            assert stop is not None
            self._pool = ProcessPoolExecutor(
                self.workers, mp_context=self._context, initializer=_init_worker,
                initargs=(
                    str(self.storage.root), self.storage.sync_each, self.own_addresses, stop, os.getpid(), self.rules,
                ),
            )  # fmt: skip
        try:
            return self._pool.submit(fn, *args)
        except BrokenProcessPool as exc:
            raise WorkerDied(str(exc)) from exc

    def submit_many(self, raws: list[bytes | Path]) -> list[Future[Prepared]]:
        """``submit`` for several mails, prepared one after the other by one worker in one task; a
        future per mail. A mail whose reading raises fails its own future only; a worker's death
        fails them all."""
        if self._context is None or len(raws) == 1:
            return [self.submit(raw) for raw in raws]
        task = self._task(_prepare_many_in_worker, raws, self.spool)
        futures: list[Future[Prepared]] = [Future() for _ in raws]
        for f in futures:
            f.set_running_or_notify_cancel()

        def done(finished: Future[list[Prepared | BaseException]]) -> None:
            # Cancelled: the pool was shut down after a worker died (the poll retries these mails).
            error = BrokenProcessPool("task cancelled") if finished.cancelled() else finished.exception()
            answers = finished.result() if error is None else [error] * len(futures)
            for f, answer in zip(futures, answers, strict=True):
                if isinstance(answer, BaseException):
                    f.set_exception(answer)
                else:
                    f.set_result(answer)

        task.add_done_callback(done)
        return futures

    def result(
        self, future: Future[Prepared], should_stop: Callable[[], bool], on_wait: Callable[[], None] | None = None
    ) -> Prepared:
        """Wait for ``future``, telling the workers to stop as soon as ``should_stop()`` says so, and
        calling ``on_wait`` every 0.1 s of waiting (the poll commits a batch that has waited long)."""
        while True:
            if should_stop():
                self.stop()
            try:
                return future.result(timeout=0.1)
            except TimeoutError:
                if on_wait is not None:
                    on_wait()
                continue
            except BrokenProcessPool as exc:
                raise WorkerDied(str(exc)) from exc

    def _stop_asked(self) -> bool:
        return self._stopped

    def stop(self) -> None:
        """Ask every worker to stop reading documents (``ExtractionStopped``)."""
        self._stopped = True
        if self._stop is not None:
            self._stop.set()

    def restart(self) -> None:
        """A worker died: the pool is broken; the next ``submit`` starts a new one."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def close(self) -> None:
        if self._thread is not None:
            self._thread.shutdown(wait=True, cancel_futures=True)
            self._thread = None
        if self._pool is not None:
            with contextlib.suppress(Exception):
                self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


def process_context() -> BaseContext:
    """The context every helper process of a poll is started from (workers, the downloader). With the
    fork server (the default) it is started at once, in a thread, with the reading code preloaded:
    the server imports it once per poller process (about half a second), while the first mails
    download. The preload names ``__main__`` too: the server then runs the program's main script
    once (guarded by ``if __name__ == "__main__"``, as multiprocessing requires anyway), and the
    processes it forks find it in place instead of each running it again at start."""
    context = multiprocessing.get_context(START_METHOD)
    if context.get_start_method() == "forkserver":
        context.set_forkserver_preload(["__main__", "bot.ingest.prepare", "bot.ingest.downloader"])
        threading.Thread(target=_start_fork_server, name="forkserver-start", daemon=True).start()
    return context


@contextmanager
def heap_frozen() -> Iterator[None]:
    """Keep what exists now (the program's modules, the app, the catalogue: about 100,000 objects)
    out of the cyclic garbage collector's full passes while a backlog is recorded: on 2,000 mails
    those passes cost the recording thread 0.45 s, against 0.07 s with the heap frozen. The objects
    are handed back at the end (``gc.unfreeze``), so whatever of them dies later is still collected
    in a long-running scheduler."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _start_fork_server() -> None:
    with contextlib.suppress(Exception):  # the pool reports any real problem when it starts a worker
        forkserver.ensure_running()


# -- in the worker ----------------------------------------------------------------------------------

_worker: tuple[Storage, frozenset[str], Event, RuleInputs | None] | None = None


def _init_worker(
    root: str, sync_each: bool, own_addresses: frozenset[str], stop: Event, poller: int, rules: RuleInputs | None
) -> None:
    global _worker
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    _worker = (Storage(Path(root), sync_each=sync_each), own_addresses, stop, rules)
    threading.Thread(target=exit_with, args=(poller,), name="poller-watch", daemon=True).start()
    gc.freeze()  # the imported code lives as long as the worker: keep it out of full collections
    os.nice(HELPER_NICENESS)


def exit_with(pid: int) -> None:
    """End this worker when the poller that started it ends, however it ends: a poller killed with
    SIGKILL (the OOM killer) cannot shut its pool down, and a worker waiting on the pool's queue would
    wait for ever (and keep the fork server alive with it)."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        os._exit(0)
    except (AttributeError, OSError):  # pragma: no cover - no pidfd (old kernel): ask every second
        while True:
            time.sleep(1)
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                os._exit(0)
            except PermissionError:
                continue
    select.select([fd], [], [])  # readable when the process has ended
    os._exit(0)


def _prepare_many_in_worker(raws: list[bytes | Path], spool: Path) -> list[Prepared | BaseException]:
    answers: list[Prepared | BaseException] = []
    for raw in raws:
        try:
            answers.append(_prepare_in_worker(raw, spool, None))
        except Exception as exc:  # a stop, a transient fault: this mail's future raises it
            answers.append(exc)
    return answers


def _prepare_in_worker(raw: bytes | Path, spool: Path, raw_sha: str | None) -> Prepared:
    assert _worker is not None, "worker not initialised"
    storage, own_addresses, stop, rules = _worker
    return prepare(raw, storage, spool, own_addresses, should_stop=stop.is_set, raw_sha=raw_sha, rules=rules)
