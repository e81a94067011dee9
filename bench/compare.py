"""Compare the ingest of two commits fairly on a noisy machine: alternating polls, CPU summed from /proc.

This machine's speed drifts by a third within an hour, more than most single changes gain, so two
``bench/ingest.py`` runs an hour apart say little about a change. This benchmark:

1. starts a private Dovecot and loads one mailbox (as ``bench/ingest.py``: ``--mails`` mails with
   ``--size`` KB attachments);
2. checks out both commits (``git worktree``, detached, compiled, removed at the end) and polls a
   small box once with each, untimed, so that neither pays for cold caches;
3. ``--pairs`` times, polls the mailbox from an empty SQLite database once with each commit's code, in
   alternating order (A B, then B A, ...), each poll in a fresh process (``bench/ingest.py
   --child-poll`` of that commit) and work folder;
4. meanwhile samples ``/proc`` every 0.1 s and sums the CPU seconds (user + system) of every process
   of the poll (the child and its fork server, workers and download process) and of the Dovecot
   server's processes;
5. prints each poll's wall time and CPU seconds, then per commit the mean, median and range, and the
   ratios B/A of the means.

Wall time is ``poll_once`` as the child measures it; CPU seconds are what the whole poll costs the
machine (its process's start included, sampled, so a process's last 0.1 s may be missed), less
sensitive to what else runs. Both commits must have ``bench/ingest.py --child-poll`` (every commit since issue 16).
Work folders stay until the end (deleting thousands of files slows the next poll's file creation on
ext4 without a journal: ``bench/ingest.py``).

Run as root on a machine with dovecot-imapd, from a checkout:
``python bench/compare.py [--mails N] [--size KB] [--pairs N] REV_A REV_B``
(for example ``python bench/compare.py HEAD~1 HEAD``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import ingest  # noqa: E402

from tests.fixtures.dovecot import DovecotMailbox, _start  # noqa: E402

_TICK = os.sysconf("SC_CLK_TCK")
_SAMPLE_SECONDS = 0.1


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of ``pid`` so far, or None when it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


def _parent(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat[stat.rindex(")") + 2 :].split()[1])


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


_marked: dict[int, bool] = {}  # pid -> its command line holds the marker (read once per process)


def watched(root: int, marker: bytes) -> set[int]:
    """``root`` and its descendants, and every process whose command line holds ``marker``."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            parent = _parent(int(entry))
            if parent is not None:
                parents[int(entry)] = parent
    found: set[int] = set()
    for pid in parents:
        p: int | None = pid
        while p is not None and p > 1:
            if p == root:
                found.add(pid)
                break
            p = parents.get(p)
    for pid in parents:
        if pid not in _marked:
            _marked[pid] = marker in _cmdline(pid)
    found |= {pid for pid in parents if _marked[pid]}
    return found


def timed_poll(tree: Path, config: Path, password: str, marker: bytes) -> tuple[float, float]:
    """One poll with the code of ``tree``: (wall seconds of poll_once, CPU seconds of all its processes
    and the server's during it)."""
    env = {**os.environ, "INTAKE_BENCH_PASSWORD": password}
    # The child's output goes to files: a pipe nobody reads while the poll runs would block a child
    # that logs more than a pipe holds.
    out_path, err_path = config.parent / "poll.out", config.parent / "poll.err"
    with out_path.open("wb") as out_file, err_path.open("wb") as err_file:
        child = subprocess.Popen(
            [sys.executable, str(tree / "bench" / "ingest.py"), "--child-poll", str(config)],
            cwd=tree, env=env, stdout=out_file, stderr=err_file,
        )  # fmt: skip
    start: dict[int, float] = {}
    last: dict[int, float] = {}
    for pid in watched(os.getpid(), marker) - {os.getpid()}:
        if (c := cpu_seconds(pid)) is not None and pid != child.pid:
            start[pid] = c  # the server's processes: count only what they use from now on
    while child.poll() is None:
        for pid in watched(child.pid, marker):
            if (c := cpu_seconds(pid)) is not None:
                last[pid] = c
        time.sleep(_SAMPLE_SECONDS)
    if child.returncode != 0:
        sys.stderr.write(err_path.read_text(errors="replace")[-4000:])
        raise RuntimeError(f"child poll of {tree} failed ({child.returncode})")
    seconds = float(json.loads(out_path.read_text().strip().splitlines()[-1])["seconds"])
    cpu = sum(c - start.get(pid, 0.0) for pid, c in last.items())
    return seconds, cpu


def checkout(rev: str, where: Path) -> Path:
    """``rev`` checked out at ``where``, its modules compiled (a fresh tree's first poll would compile
    them, and be slower for it)."""
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(where), rev], check=True,
                   capture_output=True)  # fmt: skip
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(where)], check=False, capture_output=True)
    return where


def summary(label: str, values: list[float]) -> str:
    return (
        f"{label}: mean {statistics.mean(values):.2f}, median {statistics.median(values):.2f}, "
        f"range {min(values):.2f}–{max(values):.2f}"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("rev_a")
    ap.add_argument("rev_b")
    ap.add_argument("--mails", type=int, default=2000)
    ap.add_argument("--size", type=int, default=100, help="attachment size in KB")
    ap.add_argument("--pairs", type=int, default=5)
    args = ap.parse_args()

    print(ingest.describe_machine())
    base = Path(tempfile.mkdtemp(prefix="intake-compare-"))
    root = Path(tempfile.mkdtemp(prefix="dvb", dir="/tmp"))
    root.chmod(0o755)
    trees: dict[str, Path] = {}
    server = _start(root)
    try:
        for key, rev in (("A", args.rev_a), ("B", args.rev_b)):
            trees[key] = checkout(rev, base / f"tree-{key}")
        server.add_users(2)
        box = DovecotMailbox(server, *server.take_user())
        mails = ingest.make_mails(args.mails, args.size)
        ingest.append_all(box, mails)
        ingest.plain_download(box)  # warm the server's caches
        # One untimed poll of a small box with each tree (enough mails to start the workers), so that
        # neither tree's first timed poll pays for cold caches.
        warm = DovecotMailbox(server, *server.take_user())
        ingest.append_all(warm, ingest.make_mails(40, args.size, seed=2))
        marker = root.name.encode()  # in the command line of each of the server's processes
        for key, tree in trees.items():
            (base / f"warm-{key}").mkdir()
            timed_poll(tree, ingest.write_config(base / f"warm-{key}", warm), warm.password, marker)
        print(f"A = {args.rev_a}, B = {args.rev_b}; {len(mails)} mails, {sum(map(len, mails)) / 2**20:.1f} MiB")
        walls: dict[str, list[float]] = {"A": [], "B": []}
        cpus: dict[str, list[float]] = {"A": [], "B": []}
        for pair in range(args.pairs):
            for key in ("A", "B") if pair % 2 == 0 else ("B", "A"):
                work = base / f"run-{pair}-{key}"
                work.mkdir()
                wall, cpu = timed_poll(trees[key], ingest.write_config(work, box), box.password, marker)
                walls[key].append(wall)
                cpus[key].append(cpu)
                print(f"pair {pair + 1} {key}: {wall:.2f} s, {cpu:.2f} CPU-s")
        for key in ("A", "B"):
            print(summary(f"{key} wall s", walls[key]))
            print(summary(f"{key} CPU-s ", cpus[key]))
        print(
            f"B/A of the means: wall {statistics.mean(walls['B']) / statistics.mean(walls['A']):.3f}, "
            f"CPU {statistics.mean(cpus['B']) / statistics.mean(cpus['A']):.3f}"
        )
    finally:
        server.stop()
        for tree in trees.values():
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], check=False,
                           capture_output=True)  # fmt: skip
        shutil.rmtree(root, ignore_errors=True)
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
