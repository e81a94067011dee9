"""The download of a large poll in a process of its own.

For a backlog (as many new mails as make the poll start worker processes, ``bot.ingest.pipeline``)
the IMAP download runs in a separate process with its own connection, instead of a thread of the
poll's process: parsing the server's responses and handing the bytes on cost as much CPU as the plain
download itself, and in the poll's process they compete with the recording thread for one lock (the
GIL). The downloader writes every mail to the poll's spool folder and passes on only its UID and
path, so a mail's bytes never pass through the recording process: the worker that prepares it reads
the file, and the store takes it by a hard link.

The contract is the prefetch thread's (``bot.mailbox.prefetch``): items come in UID order, at most
``max_items`` wait (on disk), an error of the download is raised in the consumer, and a consumer
that stops early stops the download. The downloader checks that the folder's UIDVALIDITY is the one
the poll read its UIDs under, ignores SIGINT and SIGTERM (the poll decides when it stops), and ends
with the poll's process however that ends (``workers.exit_with``).
"""

from __future__ import annotations

import contextlib
import gc
import os
import queue
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.context import BaseContext
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Event
from pathlib import Path

from bot.ingest.download import fetch_run
from bot.mailbox.errors import ImapConnectionError, ImapError
from bot.mailbox.imap import ImapSettings, MailboxClient

# How long the consumer waits for an item before checking that the downloader is still alive.
_POLL_SECONDS = 0.1
_END = "end"
# Small mails fetched and handed on together (one FETCH, one queue item).
GROUP = 25


@contextmanager
def downloaded(
    context: BaseContext,
    settings: ImapSettings,
    uidvalidity: int,
    planned: list[tuple[bool, list[int]]],
    sizes: dict[int, int],
    spool: Path,
    *,
    max_items: int,
    group: int = GROUP,
) -> Iterator[Iterator[tuple[int, bytes | Path]]]:
    """``with downloaded(...) as items:`` yields ``(uid, path of the .eml in spool)`` in UID order.

    About ``max_items`` mails wait (in groups of ``group``). Files of items never consumed stay in
    ``spool``, which the poll removes."""
    items: Queue[tuple[str, object]] = context.Queue(max(1, max_items // group))
    stop = context.Event()
    process = context.Process(  # type: ignore[attr-defined]
        target=_download,
        args=(settings, uidvalidity, planned, sizes, spool, group, items, stop, os.getpid()),
        name="intake-download",
        daemon=True,
    )
    process.start()
    try:
        yield _consume(items, process)
    finally:
        stop.set()
        process.join(timeout=5)
        if process.is_alive():  # blocked on the network: nothing it holds is needed any more
            process.kill()
            process.join()
        items.close()
        items.cancel_join_thread()


def _consume(items: Queue[tuple[str, object]], process: object) -> Iterator[tuple[int, bytes | Path]]:
    while True:
        try:
            kind, value = items.get(timeout=_POLL_SECONDS)
        except queue.Empty:
            if not process.is_alive():  # type: ignore[attr-defined]
                # Died without a word (killed): what it wrote may be incomplete; the next poll resumes.
                raise ImapConnectionError("the download process ended unexpectedly") from None
            continue
        if kind == _END:
            return
        if kind == "error":
            assert isinstance(value, BaseException)
            raise value
        assert isinstance(value, list)
        for uid, path in value:
            yield int(uid), Path(path)


# -- in the download process ----------------------------------------------------------------------


def _download(
    settings: ImapSettings,
    uidvalidity: int,
    planned: list[tuple[bool, list[int]]],
    sizes: dict[int, int],
    spool: Path,
    group: int,
    items: Queue[tuple[str, object]],
    stop: Event,
    poller: int,
) -> None:
    from bot.ingest.workers import HELPER_NICENESS, exit_with

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    threading.Thread(target=exit_with, args=(poller,), name="poller-watch", daemon=True).start()
    gc.freeze()  # the imported code lives as long as this process
    os.nice(HELPER_NICENESS)  # below the recording thread (bot.ingest.workers)
    try:
        with MailboxClient(settings) as box:
            if box.uidvalidity != uidvalidity:
                raise ImapError(f"UIDVALIDITY of {settings.folder} changed during the poll")
            for large, uids in planned:
                # Small mails in groups of one FETCH each, handed on as one item per group (a queue
                # item costs a pickle, a pipe write and a wake-up on both sides).
                step = 1 if large else group
                for start in range(0, len(uids), step):
                    run = (large, uids[start : start + step])
                    got = [
                        (uid, str(raw if isinstance(raw, Path) else _write(spool / f"{uid}.eml", raw)))
                        for uid, raw in fetch_run(box, run, spool, sizes)
                    ]
                    if got and not _put(items, stop, ("mails", got)):
                        return
        _put(items, stop, (_END, None))
    except BaseException as exc:  # handed to the poll, which raises it
        with contextlib.suppress(Exception):
            _put(items, stop, ("error", _sendable(exc)))


def _write(path: Path, raw: bytes) -> Path:
    with path.open("xb") as out:
        out.write(raw)
    return path


def _put(items: Queue[tuple[str, object]], stop: Event, item: tuple[str, object]) -> bool:
    """Put ``item`` when there is room; False when the poll asked to stop meanwhile."""
    while not stop.is_set():
        try:
            items.put(item, timeout=_POLL_SECONDS)
            return True
        except queue.Full:
            continue
    return False


def _sendable(exc: BaseException) -> BaseException:
    """``exc`` if it survives pickling, else an ``ImapError`` saying what it was."""
    import pickle

    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:
        return ImapError(f"download failed: {type(exc).__name__}: {exc}")
