"""How a poll downloads: consecutive small mails in one batch, each large one streamed to a file,
in UID order; the weight of what waits in memory, and how a spooled mail is let go."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path

from bot.mailbox.imap import MailboxClient


def runs(uids: list[int], is_large: Callable[[int], bool]) -> Iterator[tuple[bool, list[int]]]:
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


def fetch_run(
    box: MailboxClient, run: tuple[bool, list[int]], spool: Path, sizes: dict[int, int]
) -> Iterator[tuple[int, bytes | Path]]:
    """Small mails come as bytes; a large one is streamed to a file in ``spool``, which its consumer
    deletes (``discard``) once it is recorded."""
    large, uids = run
    if not large:
        yield from box.fetch_raw(uids, {u: sizes[u] for u in uids if u in sizes})
        return
    uid = uids[0]
    path = spool / f"{uid}.eml"
    with path.open("wb") as out:
        box.stream_message_to(uid, out, size=sizes.get(uid))
    yield uid, path


def weight(item: tuple[int, bytes | Path]) -> int:
    return len(item[1]) if isinstance(item[1], bytes) else 0  # a spooled mail waits on disk


def discard(item: tuple[int, bytes | Path]) -> None:
    if isinstance(item[1], Path):
        item[1].unlink(missing_ok=True)


def sha256_of(raw: bytes | Path) -> str:
    if isinstance(raw, bytes):
        return hashlib.sha256(raw).hexdigest()
    digest = hashlib.sha256()
    with raw.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
