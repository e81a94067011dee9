#!/usr/bin/env python3
"""Ingest benchmark: intake's poll against a plain IMAP download of the same mailbox, in one run.

1. Starts a private Dovecot (the test fixture's server), loads N mails (default 2,000, each with a
   ~100 KB attachment and a realistic Chinese subject) over IMAP APPEND.
2. (a) downloads every mail with plain imapclient (BODY.PEEK[] in batches of 100): the baseline.
3. (b) ``poll_once`` from an empty SQLite database: parse, match, store, record.
   Prints seconds for each and the ratio b/a (aim: under 1.5).
4. Polls one mail with a 30 MB attachment in a fresh child process and prints its peak RSS growth
   above the process's baseline, relative to the mail size (aim: under 2x).

Run as root on a machine with dovecot-imapd: ``python bench/ingest.py [--mails N] [--size KB]``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from imapclient import IMAPClient  # noqa: E402

from tests.fixtures.dovecot import DovecotMailbox, _start  # noqa: E402
from tests.support.mails import gbk_zip, submission  # noqa: E402

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


def plain_download(box: DovecotMailbox) -> tuple[float, int]:
    started = time.perf_counter()
    total = 0
    client = IMAPClient(box.host, port=box.port, ssl=False)
    client.login(box.username, box.password)
    client.select_folder("INBOX", readonly=True)
    uids = client.search(["ALL"])
    for i in range(0, len(uids), 100):
        for data in client.fetch(uids[i : i + 100], [b"BODY.PEEK[]"]).values():
            total += len(data[b"BODY[]"])
    client.logout()
    return time.perf_counter() - started, total


def write_config(work: Path, box: DovecotMailbox) -> Path:
    cfg = work / "config.toml"
    cfg.write_text(
        f"""
[campaign]
name = "bench"
deadline = 2021-10-28
[mailbox]
host = "{box.host}"
port = {box.port}
ssl = false
username = "{box.username}"
password_env = "INTAKE_BENCH_PASSWORD"
[storage]
database = "sqlite:///{work / "intake.db"}"
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


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def run_child(config: Path, password: str) -> dict[str, float]:
    env = {**os.environ, "INTAKE_BENCH_PASSWORD": password}
    out = subprocess.run(
        [sys.executable, __file__, "--child-poll", str(config)], env=env, cwd=ROOT, check=True, capture_output=True
    )
    return json.loads(out.stdout.decode().strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mails", type=int, default=2000)
    ap.add_argument("--size", type=int, default=100, help="attachment size in KB")
    ap.add_argument("--big-mb", type=int, default=30)
    ap.add_argument("--child-poll", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child_poll:
        child_poll(args.child_poll)
        return 0

    root = Path(tempfile.mkdtemp(prefix="dvb", dir="/tmp"))
    root.chmod(0o755)
    server = _start(root)
    work = Path(tempfile.mkdtemp(prefix="intake-bench-"))
    try:
        server.add_users(2)
        box = DovecotMailbox(server, *server.take_user())
        mails = make_mails(args.mails, args.size)
        t = time.perf_counter()
        append_all(box, mails)
        print(f"loaded {len(mails)} mails ({sum(map(len, mails)) / 2**20:.0f} MiB) in {time.perf_counter() - t:.1f} s")

        plain_download(box)  # warm the server's caches so both runs read the same way
        a, total = plain_download(box)
        print(f"(a) plain imapclient download: {a:.2f} s ({total / 2**20 / a:.1f} MiB/s)")
        result = run_child(write_config(work, box), box.password)
        b = result["seconds"]
        print(f"(b) intake poll from empty:    {b:.2f} s ({result['mails']:.0f} mails recorded)")
        print(f"ratio b/a = {b / a:.2f} (aim < 1.5)")
        print(f"poll peak RSS growth: {(result['peak'] - result['baseline']) / 2**20:.1f} MiB")

        big_box = DovecotMailbox(server, *server.take_user())
        big = submission("指标12-大文件", [("大文件.pdf", random.Random(2).randbytes(args.big_mb * 2**20))])
        big_box.append(big)
        big_work = work / "big"
        big_work.mkdir()
        r = run_child(write_config(big_work, big_box), big_box.password)
        growth = r["peak"] - r["baseline"]
        print(
            f"one {len(big) / 2**20:.1f} MiB mail ({args.big_mb} MiB attachment): peak RSS growth "
            f"{growth / 2**20:.1f} MiB = {growth / len(big):.2f}x the mail size (aim < 2x)"
        )
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
