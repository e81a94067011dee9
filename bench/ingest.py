#!/usr/bin/env python3
"""Ingest benchmark: intake's poll against a plain IMAP download of the same mailbox.

1. Starts a private Dovecot (the test fixture's server), loads N mails (default 2,000, each with a
   ~100 KB attachment and a realistic Chinese subject) over IMAP APPEND.
2. For each database (``--database sqlite|postgresql|both``; PostgreSQL is a private server started
   with the test fixture's helpers, one fresh database per run), ``--runs`` times (default 3):
   (a) downloads every mail with plain imapclient (BODY.PEEK[] in batches of 100), twice: as imapclient
   comes (a1: its imaplib protocol trace on, which formats the repr of every mail it reads) and with
   that trace off (a2: the client intake uses since it found the trace cost; the download itself).
   Both are re-run right before each poll so all see the same cache state;
   (b) ``poll_once`` from an empty database in a fresh process and work folder: parse, match, store,
   record. Prints a1, a2, b and the ratios b/a1 and b/a2 of each run, then their medians and spreads
   (aim: under 1.5). b/a2 is the honest one: b/a1 flatters the poll by imapclient's trace.
3. ``--steps``: one more SQLite poll from empty, under cProfile in a child process; prints cumulative
   milliseconds per mail for each named step of ``STEPS`` (edit the table as code moves; a step whose
   functions are gone prints "—"). The profiler inflates the times: only the shares matter.
4. Polls one mail with a ``--big-mb`` MiB attachment (default 40) in a fresh child process and prints
   its peak RSS growth above the peak of an idle poll (the same box polled again, nothing new) in the
   same kind of child, relative to the mail size (aim: under 1x).

``--runs 0`` skips step 2, ``--big-mb 0`` step 4. Smoke use:
``python bench/ingest.py --mails 200 --runs 1 --database sqlite``.

Run as root on a machine with dovecot-imapd (and PostgreSQL's binaries for ``--database postgresql``):
``python bench/ingest.py [--mails N] [--size KB] [--runs N] [--database D] [--steps] [--big-mb M]``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import pstats
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from imapclient import IMAPClient  # noqa: E402

from tests.fixtures.dovecot import DovecotMailbox, DovecotServer, _start  # noqa: E402
from tests.support.mails import gbk_zip, submission  # noqa: E402

# Named steps of a poll for ``--steps``: each is a list of (module path suffix, function name) looked up
# in the profile ("*" = every function of that module). A step's time is the cumulative time of its
# functions, counting only calls from outside the step (so a step function calling another one of the
# same step is not counted twice). Edit as code moves; missing functions print "—".
STEPS: dict[str, list[tuple[str, str]]] = {
    # bot.ingest.prepare (worker processes in a real poll; the --steps pass reads mails in one thread
    # of the poll's process and profiles that thread too)
    "prepare (all)": [("bot/ingest/prepare.py", "prepare")],
    "parse": [("bot/mime/parse.py", "parse_message"), ("bot/mime/parse.py", "parse_message_file")],
    "store files": [
        ("bot/ingest/storage.py", "store_file"),
        ("bot/ingest/storage.py", "adopt_file"),
        ("bot/ingest/storage.py", "adopt_raw"),
        ("bot/ingest/storage.py", "store_raw"),
        ("bot/ingest/storage.py", "store_raw_file"),
    ],
    "read documents": [("bot/ingest/documents.py", "extract_texts")],
    "rules (findings)": [("bot/ingest/findings.py", "find")],  # matching and co., since the fourth session
    "match": [("rules/match.py", "evaluate")],
    # the recording thread (bot.ingest.pipeline / settle)
    "record (all)": [("bot/ingest/settle.py", "record_prepared")],
    "record rows": [("bot/ingest/record.py", "add_mail"), ("bot/ingest/record.py", "record_submission")],
    "validate": [("bot/ingest/validate.py", "validate_mail")],
    "receipt": [("bot/outgoing/receipts.py", "enqueue_receipt")],
    "dedupe lookups": [("bot/ingest/settle.py", "_duplicate_or_key")],
    "cursor": [("db/queries.py", "save_cursor")],
    "sync (syncfs)": [("bot/ingest/storage.py", "sync")],
    "quarantine marks": [("bot/ingest/quarantine.py", "*")],
    "commit": [("sqlalchemy/orm/session.py", "commit")],  # Session.commit and SessionTransaction.commit
}
POLL_TOTAL = ("bot/ingest/poll.py", "poll_once")

SUBJECTS = ["指标{n}-{s}-情况说明", "第{n}项材料", "【{n}】{s}报送", "Re: 指标{n}", "回复：{s}材料（指标{n}）"]
SECTIONS = ["支队", "法规科", "服务科", "财审科"]


def make_mails(count: int, size_kb: int, seed: int = 1) -> list[bytes]:
    rng = random.Random(seed)
    mails = []
    for i in range(count):
        n = rng.randint(1, 60)
        section = rng.choice(SECTIONS)
        subject = rng.choice(SUBJECTS).format(n=n, s=section)
        payload = rng.randbytes(size_kb * 1024)
        if i % 10 == 0:
            files = [(f"材料{i}.zip", gbk_zip({f"{n}-情况说明.docx": payload}))]
        else:
            files = [(f"{n}-{section}-材料{i}.pdf", payload)]
        mails.append(submission(subject, files, message_id=f"<bench-{i}@example.com>"))
    return mails


def append_all(box: DovecotMailbox, mails: list[bytes]) -> None:
    with box.admin() as client:
        for start in range(0, len(mails), 200):
            for raw in mails[start : start + 200]:
                client.append("INBOX", raw)


def plain_download(box: DovecotMailbox, *, quiet: bool = False) -> tuple[float, int]:
    started = time.perf_counter()
    total = 0
    client = IMAPClient(box.host, port=box.port, ssl=False)
    if quiet:
        client._imap.debug = 0  # what bot.mailbox.imap does: no protocol trace
    client.login(box.username, box.password)
    client.select_folder("INBOX", readonly=True)
    uids = client.search(["ALL"])
    for i in range(0, len(uids), 100):
        for data in client.fetch(uids[i : i + 100], [b"BODY.PEEK[]"]).values():
            total += len(data[b"BODY[]"])
    client.logout()
    return time.perf_counter() - started, total


def write_config(work: Path, box: DovecotMailbox, database: str | None = None, *, port: int | None = None) -> Path:
    """A minimal config in ``work``; ``database`` defaults to a SQLite file there, ``port`` to the box's."""
    database = database or f"sqlite:///{work / 'intake.db'}"
    cfg = work / "config.toml"
    cfg.write_text(
        f"""
[campaign]
name = "bench"
deadline = 2021-10-28
[mailbox]
host = "{box.host}"
port = {port or box.port}
ssl = false
username = "{box.username}"
password_env = "INTAKE_BENCH_PASSWORD"
[storage]
database = "{database}"
files = "{work / "files"}"
[coordinator]
name = "bench"
emails = ["coordinator@example.com"]
[[sections]]
name = "支队"
owners = ["a <zhidui@example.com>"]
senders = ["zhidui@example.com"]
""",
        encoding="utf-8",
    )
    return cfg


# --- children ------------------------------------------------------------------------------------------


def child_poll(config: Path) -> None:
    """Runs in a fresh process: build the app, note the RSS baseline, poll, report the peak."""
    from bot.app import build
    from bot.config import load_config
    from bot.ingest.poll import poll_once

    deps = build(load_config(config))
    # ru_maxrss would include the parent's memory from before exec(); reset the kernel's high-water
    # mark instead (Linux: writing 5 to clear_refs resets VmHWM) and read it from /proc.
    Path("/proc/self/clear_refs").write_text("5")
    baseline = _status_kib("VmRSS") * 1024
    started = time.perf_counter()
    report = poll_once(deps)
    elapsed = time.perf_counter() - started
    peak = _status_kib("VmHWM") * 1024
    deps.close()
    print(json.dumps({"seconds": elapsed, "baseline": baseline, "peak": peak, "mails": report.mails}))


def child_profile(config: Path, out: Path) -> None:
    """Runs in a fresh process: one poll under cProfile, the stats dumped to ``out``."""
    import cProfile

    import bot.ingest.pipeline
    import bot.ingest.workers
    from bot.app import build
    from bot.config import load_config
    from bot.ingest.poll import poll_once

    # Read the mails in this process (one thread beside the recording one) and profile that thread
    # too: cProfile sees one thread only, and none of the worker processes.
    bot.ingest.pipeline.worker_count = lambda configured=0: 1  # type: ignore[attr-defined]
    reader = cProfile.Profile()
    real_prepare = bot.ingest.workers.prepare  # type: ignore[attr-defined]

    def profiled_prepare(*args: Any, **kwargs: Any) -> Any:
        reader.enable()
        try:
            return real_prepare(*args, **kwargs)
        finally:
            reader.disable()

    bot.ingest.workers.prepare = profiled_prepare  # type: ignore[attr-defined]
    deps = build(load_config(config))
    profiler = cProfile.Profile()
    started = time.perf_counter()
    report = profiler.runcall(poll_once, deps)
    elapsed = time.perf_counter() - started
    profiler.dump_stats(out)
    reader.dump_stats(f"{out}.reader")
    deps.close()
    print(json.dumps({"seconds": elapsed, "mails": report.mails}))


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def run_child(config: Path, password: str, *extra: str) -> dict[str, float]:
    env = {**os.environ, "INTAKE_BENCH_PASSWORD": password}
    args = extra or ("--child-poll", str(config))
    out = subprocess.run([sys.executable, __file__, *args], env=env, cwd=ROOT, capture_output=True, check=False)
    if out.returncode != 0:
        sys.stderr.write(out.stderr.decode(errors="replace")[-4000:])
        raise RuntimeError(f"child poll failed ({out.returncode})")
    return json.loads(out.stdout.decode().strip().splitlines()[-1])  # type: ignore[no-any-return]


# --- profile steps -------------------------------------------------------------------------------------

FuncKey = tuple[str, int, str]


def _matches(key: FuncKey, module: str, name: str) -> bool:
    filename = key[0].replace(os.sep, "/")
    if not (filename == module or filename.endswith("/" + module)):
        return False
    return name == "*" or key[2] == name or key[2].rsplit(".", 1)[-1] == name


def step_seconds(stats: dict[FuncKey, Any], pairs: list[tuple[str, str]]) -> float | None:
    """Cumulative seconds of a step's functions, counting only calls from outside the step; None if
    none of them is in the profile."""
    members = {key for key in stats if any(_matches(key, module, name) for module, name in pairs)}
    if not members:
        return None
    total = 0.0
    for key in members:
        _cc, _nc, _tt, ct, callers = stats[key]
        if not callers:
            total += ct
            continue
        # callers: caller -> (nc, cc, tt, ct) of this function's calls from that caller
        total += sum(edge[3] for caller, edge in callers.items() if caller not in members)
    return total


def print_steps(stats_file: Path, mails: int) -> None:
    merged = pstats.Stats(str(stats_file))
    reader = Path(f"{stats_file}.reader")
    if reader.exists():
        merged.add(str(reader))  # the reading thread's profile (prepare)
    stats: dict[FuncKey, Any] = merged.stats  # type: ignore[attr-defined]
    total = step_seconds(stats, [POLL_TOTAL])
    print(f"per-step cumulative ms per mail ({mails} mails, one SQLite poll under cProfile, mails read in one")
    print("thread of the poll's process; the profiler inflates the times, only the shares matter; steps nest:")
    print("parse and store files are part of prepare, record rows etc. part of record, which run side by side):")
    rows: list[tuple[str, float | None]] = [
        ("poll_once (total)", total),
        *((n, step_seconds(stats, p)) for n, p in STEPS.items()),
    ]
    per = max(mails, 1)
    for name, seconds in rows:
        if seconds is None:
            print(f"  {name:<20} {'—':>9}")
            continue
        share = f"{seconds / total * 100:5.1f}%" if total else ""
        print(f"  {name:<20} {seconds * 1000 / per:9.2f}  {share}")


# --- databases -----------------------------------------------------------------------------------------


@contextlib.contextmanager
def databases(kind: str, work: Path) -> Iterator[Iterator[str]]:
    """Yields a generator of fresh, empty database URLs of ``kind`` (a private server for PostgreSQL,
    stopped on exit)."""
    if kind == "sqlite":

        def sqlite_urls() -> Iterator[str]:
            while True:
                yield f"sqlite:///{work / uuid.uuid4().hex / 'intake.db'}"

        yield sqlite_urls()
        return

    from tests.fixtures.database import _start_postgres, _stop, find_postgres_bindir

    bindir = find_postgres_bindir()
    if bindir is None:
        raise RuntimeError("no initdb/postgres binaries (install Debian's postgresql)")
    server = _start_postgres(bindir)
    try:

        def pg_urls() -> Iterator[str]:
            while True:
                # The fixture's url() is plain postgresql://; name the driver the project uses (psycopg 3).
                url = server.create_database(f"bench_{uuid.uuid4().hex}")
                yield url.replace("postgresql://", "postgresql+psycopg://", 1)

        yield pg_urls()
    finally:
        _stop(server)


def bench_runs(kind: str, box: DovecotMailbox, work: Path, runs: int) -> None:
    label = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}[kind]
    ratios: dict[str, list[float]] = {"b/a1": [], "b/a2": []}
    with databases(kind, work) as urls:
        for i in range(1, runs + 1):
            a1, total = plain_download(box)
            a2, _ = plain_download(box, quiet=True)
            # Each run's folder is kept until the benchmark ends: deleting its ~4,500 files right before
            # the next poll made that poll pay for them on ext4 without a journal (as on the benchmark
            # machine), where creating a file steps over every inode freed in the last seconds to
            # minutes, one by one (the kernel's recently_deleted(): 0.5 ms per file created). No real
            # poll follows a mass deletion.
            run_work = work / f"{kind}-{i}"
            run_work.mkdir()
            result = run_child(write_config(run_work, box, next(urls)), box.password)
            b = result["seconds"]
            ratios["b/a1"].append(b / a1)
            ratios["b/a2"].append(b / a2)
            print(
                f"{label} run {i}: (a1) imapclient as it comes {a1:.2f} s, (a2) trace off {a2:.2f} s "
                f"({total / 2**20 / a2:.0f} MiB/s), (b) poll {b:.2f} s ({result['mails']:.0f} mails), "
                f"b/a1 {b / a1:.2f}, b/a2 {b / a2:.2f}, poll RSS peak +"
                f"{(result['peak'] - result['baseline']) / 2**20:.0f} MiB"
            )
    for name, values in ratios.items():
        print(
            f"{label}: median ratio {name} {statistics.median(values):.2f} over {len(values)} run(s), "
            f"spread {min(values):.2f}–{max(values):.2f} (aim < 1.5)"
        )


def big_mail(server: DovecotServer, work: Path, big_mb: int) -> None:
    big_box = DovecotMailbox(server, *server.take_user())
    big = submission("指标12-大文件", [("大文件.pdf", random.Random(2).randbytes(big_mb * 2**20))])
    big_box.append(big)
    big_work = work / "big"
    big_work.mkdir()
    cfg = write_config(big_work, big_box)
    r = run_child(cfg, big_box.password)
    idle = run_child(cfg, big_box.password)  # the same box again: nothing new
    growth = r["peak"] - idle["peak"]
    print(
        f"one {len(big) / 2**20:.1f} MiB mail ({big_mb} MiB attachment): poll peak RSS {r['peak'] / 2**20:.0f} MiB, "
        f"idle poll peak {idle['peak'] / 2**20:.0f} MiB; growth {growth / 2**20:.1f} MiB = "
        f"{growth / len(big):.2f}x the mail size (aim < 1x); above the poll's own start "
        f"{(r['peak'] - r['baseline']) / 2**20:.0f} MiB"
    )


def describe_machine() -> str:
    def git(*args: str) -> str:
        out = subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=False)
        return out.stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "?"
    # --no-optional-locks: a status that never touches the index of a checkout someone is working in.
    if git("--no-optional-locks", "status", "--porcelain"):
        commit += "+dirty"
    return (
        f"machine: {os.cpu_count()} cores, {len(os.sched_getaffinity(0))} usable; "
        f"Python {platform.python_version()}; commit {commit}"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mails", type=int, default=2000)
    ap.add_argument("--size", type=int, default=100, help="attachment size in KB")
    ap.add_argument("--runs", type=int, default=3, help="timed runs per database (0: none)")
    ap.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    ap.add_argument("--steps", action="store_true", help="one more SQLite poll under cProfile: ms per step")
    ap.add_argument("--big-mb", type=int, default=40, help="attachment of the peak-RSS mail in MiB (0: skip)")
    ap.add_argument("--child-poll", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--child-profile", type=Path, nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child_poll:
        child_poll(args.child_poll)
        return 0
    if args.child_profile:
        child_profile(*args.child_profile)
        return 0

    print(describe_machine())
    root = Path(tempfile.mkdtemp(prefix="dvb", dir="/tmp"))
    root.chmod(0o755)
    server = _start(root)
    work = Path(tempfile.mkdtemp(prefix="intake-bench-"))
    try:
        server.add_users(2)
        box = DovecotMailbox(server, *server.take_user())
        mails = make_mails(args.mails, args.size)
        print(f"mails: {len(mails)}, {sum(map(len, mails)) / 2**20:.1f} MiB ({args.size} KB attachments)")
        t = time.perf_counter()
        append_all(box, mails)
        print(f"loaded in {time.perf_counter() - t:.1f} s")

        if args.runs > 0:
            plain_download(box)  # warm the server's caches so every run reads the same way
            kinds = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
            for kind in kinds:
                bench_runs(kind, box, work, args.runs)

        if args.steps:
            steps_work = work / "steps"
            steps_work.mkdir()
            cfg = write_config(steps_work, box)
            out = steps_work / "poll.pstats"
            plain_download(box)
            r = run_child(cfg, box.password, "--child-profile", str(cfg), str(out))
            print_steps(out, int(r["mails"]))

        if args.big_mb > 0:
            big_mail(server, work, args.big_mb)
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
