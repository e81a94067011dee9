"""The poll's temporary files: one folder per process under ``<storage root>/spool``.

Large mails are downloaded and attachments unpacked here before they are stored. The spool sits next
to the store, so moving a file into the store never crosses a file system, and nothing temporary is
ever written outside the storage root.

Every way out removes what a poll made: each poll works in its own folder inside the process's
folder and removes it in a ``finally``; the process's folder goes at exit. A process killed with
SIGKILL (the OOM killer, ``systemctl kill``, a power cut) cannot clean up, so ``process_spool`` removes,
once per process, the folders of processes that no longer run (``bot.ingest.process``) and anything
else in the spool older than this process. A second process running beside this one (``intake
poll`` next to ``intake run``) keeps its folder.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import shutil
import time
from pathlib import Path

from bot.ingest.process import is_alive, is_token, process_token

log = logging.getLogger(__name__)

SPOOL = "spool"
_STARTED = time.time()
_cleaned: set[Path] = set()


def process_spool(root: Path) -> Path:
    """This process's spool folder under the storage ``root`` (created), after removing what dead
    processes left there (the first time only)."""
    spool = root / SPOOL
    mine = spool / process_token()
    if mine not in _cleaned:
        spool.mkdir(parents=True, exist_ok=True)
        freed = clean_dead(spool)
        if freed:
            log.info("spool: removed %d MiB left by processes that no longer run", freed >> 20)
        _cleaned.add(mine)
        atexit.register(shutil.rmtree, mine, True)
    mine.mkdir(parents=True, exist_ok=True)
    return mine


def clean_dead(spool: Path) -> int:
    """Remove entries of ``spool`` whose owner is gone (or that are older than this process and
    owned by nobody); returns the bytes freed."""
    freed = 0
    for entry in spool.iterdir():
        if is_token(entry.name):
            if is_alive(entry.name):
                continue
        else:
            try:
                if entry.lstat().st_mtime >= _STARTED:
                    continue
            except FileNotFoundError:
                continue
        freed += _size(entry)
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
    return freed


def _size(path: Path) -> int:
    if not path.is_dir() or path.is_symlink():
        try:
            return path.lstat().st_size
        except OSError:
            return 0
    total = 0
    for folder, _dirs, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(folder, name)).st_size
    return total
