"""Which process this is, and whether the process that left something behind still runs.

A token names one run of one process: host, PID and the process's start time (clock ticks since
boot, from ``/proc/<pid>/stat``), so a PID the kernel hands out again (a restarted container often
gets the same small PID) is not taken for the process that died. Spool folders
(``bot.ingest.spool``) and in-progress marks (``bot.ingest.quarantine``) carry the token of their
owner; what a dead owner left is cleaned up or counted as a crash, what a live one holds is left alone.
"""

from __future__ import annotations

import os
import re
import socket
from functools import cache
from pathlib import Path

_TOKEN = re.compile(r"p(\d+)-(\d+)-(.+)")
_HOST_UNSAFE = re.compile(r"[^A-Za-z0-9.-]")


def _start_ticks(pid: int) -> int | None:
    """The process's start time in clock ticks since boot, or None when it does not exist."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # Field 22, counted after the command name, which is in parentheses and may contain anything.
    fields = stat.rpartition(")")[2].split()
    try:
        return int(fields[19])
    except (IndexError, ValueError):
        return None


def _host() -> str:
    return _HOST_UNSAFE.sub("_", socket.gethostname())[:64] or "localhost"


@cache
def process_token() -> str:
    """``p<pid>-<start ticks>-<host>``: this process, distinguishable from any later one."""
    pid = os.getpid()
    return f"p{pid}-{_start_ticks(pid) or 0}-{_host()}"


def is_token(name: str) -> bool:
    return _TOKEN.fullmatch(name) is not None


def is_alive(token: str) -> bool:
    """Whether the process named by ``token`` still runs. A process on another host (a shared
    storage root) is assumed alive: nothing here can tell."""
    found = _TOKEN.fullmatch(token)
    if found is None:
        return False
    pid, ticks, host = int(found.group(1)), int(found.group(2)), found.group(3)
    if host != _host():
        return True
    if token == process_token():
        return True
    return ticks != 0 and _start_ticks(pid) == ticks
