"""The spool: folders of processes that no longer run are removed, those of live ones kept."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from bot.ingest.process import is_alive, process_token
from bot.ingest.spool import clean_dead, process_spool


def dead_token() -> str:
    """The token of a process that ran and is gone."""
    out = subprocess.run(
        [sys.executable, "-c", "from bot.ingest.process import process_token; print(process_token())"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return out.stdout.strip()


def test_tokens_tell_live_from_dead() -> None:
    assert is_alive(process_token())
    assert not is_alive(dead_token())
    pid, ticks, host = process_token().split("-", 2)
    assert not is_alive(f"{pid}-{int(ticks) + 1}-{host}")  # same PID, later process: not us
    assert is_alive(f"{pid}-{ticks}-elsewhere")  # another host sharing the storage: cannot tell
    assert not is_alive("nonsense")


def test_dead_owners_and_old_litter_go_live_ones_stay(tmp_path: Path) -> None:
    spool = tmp_path / "spool"
    left = spool / dead_token() / "poll-x"  # what a poll killed with SIGKILL left
    left.mkdir(parents=True)
    (left / "60mb.eml").write_bytes(b"x" * 1000)
    (spool / process_token()).mkdir()
    old = spool / "fetch-abc"  # what older versions left directly in the spool
    old.mkdir()
    past = time.time() - 3600
    os.utime(old, (past, past))
    freed = clean_dead(spool)
    assert freed >= 1000
    assert sorted(p.name for p in spool.iterdir()) == [process_token()]


def test_process_spool_is_under_the_storage_root(tmp_path: Path) -> None:
    mine = process_spool(tmp_path)
    assert mine == tmp_path / "spool" / process_token() and mine.is_dir()
