#!/usr/bin/env python3
"""Idle-poll benchmark: what a poll costs on the wire when nothing is new.

1. Starts a private Dovecot (the test fixture's server) and loads ``--mails`` small mails (default 2,000
   of ``--size`` 2 KB, made by ``bench/ingest.py``'s ``make_mails``/``append_all``).
2. Polls them once fully (``poll_once``, SQLite, in this process) through a ``TcpProxy`` (the config's
   mailbox port points at the proxy).
3. Polls ``--polls`` more times (default 5) with nothing new, through the same proxy, and prints for
   one idle poll: IMAP round trips (tagged command lines the client sent), the commands (verbs only,
   so a regression is visible), bytes each way, connections, and the median wall milliseconds.
4. Prints the same for a plain imapclient connect + login + EXAMINE + UID SEARCH + LOGOUT: the
   baseline.

Wall times include the proxy's relay (a Python thread), the same for both.

Run as root on a machine with dovecot-imapd:
``python bench/idle_poll.py [--mails N] [--size KB] [--polls N]``; smoke use: ``--mails 300``.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from imapclient import IMAPClient  # noqa: E402

from bench.ingest import append_all, make_mails, write_config  # noqa: E402
from tests.fixtures.dovecot import DovecotMailbox, _start  # noqa: E402
from tests.fixtures.tcpproxy import TcpProxy  # noqa: E402

# A tagged command line from the client: "<tag> <COMMAND> ..." (continuations and literals do not match).
TAGGED = re.compile(rb"^[A-Za-z0-9.]+ [A-Z]")
SETTLE_SECONDS = 0.1  # lets the relay threads finish counting after the client is done


@dataclass
class Wire:
    commands: list[str]
    client_bytes: int
    server_bytes: int
    connections: int
    seconds: float

    def line(self) -> str:
        return (
            f"{len(self.commands)} round trips, {self.client_bytes} B sent, {self.server_bytes} B received, "
            f"{self.connections} connection(s)"
        )


def commands_in(transcript: bytes) -> list[str]:
    """The verbs of the tagged command lines in what the client sent ("UID SEARCH" kept whole)."""
    verbs = []
    for line in transcript.split(b"\r\n"):
        if not TAGGED.match(line):
            continue
        words = line.decode("latin-1").split()
        verb = words[1].upper()
        if verb == "UID" and len(words) > 2:
            verb += " " + words[2].upper()
        verbs.append(verb)
    return verbs


def measure(proxy: TcpProxy, action: Callable[[], object]) -> Wire:
    """Run ``action`` and return what crossed ``proxy`` meanwhile."""
    sent, received, conns = len(proxy.client_transcript), proxy.server_bytes, proxy.connections
    started = time.perf_counter()
    action()
    seconds = time.perf_counter() - started
    time.sleep(SETTLE_SECONDS)
    transcript = bytes(proxy.client_transcript[sent:])
    return Wire(
        commands=commands_in(transcript),
        client_bytes=len(transcript),
        server_bytes=proxy.server_bytes - received,
        connections=proxy.connections - conns,
        seconds=seconds,
    )


def report(label: str, wires: list[Wire]) -> None:
    first = wires[0]
    ms = statistics.median(w.seconds for w in wires) * 1000
    print(f"{label}: {first.line()}; wall {ms:.1f} ms (median of {len(wires)})")
    print(f"  commands: {' '.join(first.commands)}")
    if any(w.commands != first.commands or w.client_bytes != first.client_bytes for w in wires[1:]):
        print("  note: the polls did not all send the same commands:")
        for w in wires[1:]:
            print(f"    {' '.join(w.commands)} ({w.client_bytes} B)")


def plain_idle(box: DovecotMailbox, port: int, last_uid: int) -> None:
    client = IMAPClient(box.host, port=port, ssl=False, timeout=30)
    client.login(box.username, box.password)
    client.select_folder("INBOX", readonly=True)
    client.search(["UID", f"{last_uid + 1}:*"])
    client.logout()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mails", type=int, default=2000)
    ap.add_argument("--size", type=int, default=2, help="attachment size in KB")
    ap.add_argument("--polls", type=int, default=5, help="idle polls measured (the median wall time is shown)")
    args = ap.parse_args()

    from bot.app import build
    from bot.config import load_config
    from bot.ingest.poll import poll_once

    root = Path(tempfile.mkdtemp(prefix="dvi", dir="/tmp"))
    root.chmod(0o755)
    server = _start(root)
    work = Path(tempfile.mkdtemp(prefix="intake-idle-"))
    proxy: TcpProxy | None = None
    try:
        server.add_users(1)
        box = DovecotMailbox(server, *server.take_user())
        mails = make_mails(args.mails, args.size)
        t = time.perf_counter()
        append_all(box, mails)
        print(f"loaded {len(mails)} mails ({sum(map(len, mails)) / 2**20:.1f} MiB) in {time.perf_counter() - t:.1f} s")

        proxy = TcpProxy(box.port).start()
        os.environ["INTAKE_BENCH_PASSWORD"] = box.password
        deps = build(load_config(write_config(work, box, port=proxy.port)))
        try:
            recorded: list[int] = []
            full = measure(proxy, lambda: recorded.append(poll_once(deps).mails))
            print(f"full poll: {recorded[0]} mails recorded in {full.seconds:.1f} s; {full.line()}")
            idle = [measure(proxy, lambda: poll_once(deps)) for _ in range(args.polls)]
        finally:
            deps.close()
        report("intake idle poll", idle)

        with box.admin() as client:
            client.select_folder("INBOX", readonly=True)
            last_uid = max(client.search(["ALL"]))
        port = proxy.port
        plain = [measure(proxy, lambda: plain_idle(box, port, last_uid)) for _ in range(args.polls)]
        report("plain imapclient (connect, login, examine, search, logout)", plain)
    finally:
        if proxy is not None:
            proxy.stop()
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
