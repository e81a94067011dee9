#!/usr/bin/env python3
"""Faults benchmark (issue 11): what hostile documents cost the poll, and how long ``intake run`` takes
to stop.

1. Bombs. For each document (an ordinary .docx statement first, as the baseline of this run), one mail
   in a fresh mailbox of a private Dovecot, polled by a fresh process. Printed: wall seconds of the
   poll, the poll process's own peak RSS (its high-water mark reset after start-up), the peak RSS of
   its largest child (the document reader, if any; the kernel counts a child from the fork, so this
   is at least the poll's own size at that moment), and the problem codes recorded.
2. Stop. ``intake run`` with 20 mails queued in the outbox (paced 3 s apart, as in production) and
   reminders due; SIGTERM once two mails are out. Printed: seconds from SIGTERM to exit, and how many
   mails went out.

``--source DIR`` measures another checkout with the same harness, e.g. ``--source /work/main`` for the
numbers before issue 11 (the 190 MiB .docx then takes about two minutes and 2 GB, the PDF four).

Run as root on a machine with dovecot-imapd and openssl:
``python bench/faults.py [--source DIR] [--cases NAME ...] [--no-stop]``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fixtures.dovecot import DovecotMailbox, _start  # noqa: E402
from tests.fixtures.smtpd import _start as start_smtpd  # noqa: E402
from tests.support.bombs import docx_bomb, docx_many_members, pdf_bomb  # noqa: E402
from tests.support.docs import cjk_text, make_docx  # noqa: E402
from tests.support.mails import submission  # noqa: E402

CASES: dict[str, tuple[str, Callable[[Path], bytes]]] = {
    "baseline": ("12-情况说明.docx", lambda t: make_docx(t / "ok.docx", ["情况说明", cjk_text(480)]).read_bytes()),
    "docx-16MiB-xml": ("12-情况说明.docx", lambda t: docx_bomb(t, 16)),
    "docx-190MiB-xml": ("12-情况说明.docx", lambda t: docx_bomb(t, 190)),
    "docx-60k-members": ("12-情况说明.docx", lambda t: docx_many_members(t, 60_000)),
    "pdf-70MiB-stream": ("12-情况说明.pdf", lambda _t: pdf_bomb(70)),
    "pdf-4MiB-x20-pages": ("12-情况说明.pdf", lambda _t: pdf_bomb(4, 20)),
}

CHILD = """
import json, resource, sys, time
from pathlib import Path
from sqlalchemy import text
from bot.app import build
from bot.config import load_config
from bot.ingest.poll import poll_once

def kib(field):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])

deps = build(load_config(Path(sys.argv[1])))
Path("/proc/self/clear_refs").write_text("5")
started = time.perf_counter()
report = poll_once(deps)
seconds = time.perf_counter() - started
with deps.engine.connect() as c:
    codes = sorted(r[0] for r in c.execute(text("SELECT code FROM problem")))
print(json.dumps({"seconds": seconds, "peak_kib": kib("VmHWM"), "mails": report.mails, "errors": report.errors,
                  "child_kib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, "codes": codes}))
"""

ENQUEUE = """
import sys
from email.message import EmailMessage
from pathlib import Path
from bot.app import build
from bot.config import load_config
from bot.outgoing.outbox import enqueue

deps = build(load_config(Path(sys.argv[1])))
with deps.sessions.begin() as s:
    for n in range(int(sys.argv[3])):
        m = EmailMessage()
        m["From"], m["To"], m["Subject"] = sys.argv[2], f"s{n}@example.com", f"回执 {n}"
        m["Message-ID"] = f"<bench-{n}@intake>"
        m.set_content("x")
        enqueue(s, kind="receipt", dedupe_key=f"bench:{n}", message=m, now=deps.clock())
"""


def write_config(work: Path, box: DovecotMailbox, smtp: str = "") -> Path:
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
{smtp}
""",
        encoding="utf-8",
    )
    return cfg


def env_for(source: Path, password: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(source), "INTAKE_BENCH_PASSWORD": password}


def bombs(server: object, source: Path, work: Path, names: list[str]) -> None:
    print(f"{'case':<20} {'file KB':>8} {'poll s':>8} {'poll peak MiB':>14} {'child peak MiB':>15}  recorded")
    for name in names:
        filename, make = CASES[name]
        box = DovecotMailbox(server, *server.take_user())  # type: ignore[attr-defined]
        data = make(work)
        box.append(submission("支队材料", [(filename, data)], message_id=f"<{name}@bench>"))
        case = work / name
        case.mkdir()
        out = subprocess.run(
            [sys.executable, "-c", CHILD, str(write_config(case, box))],
            env=env_for(source, box.password), cwd=source, capture_output=True, text=True,
        )  # fmt: skip
        if out.returncode != 0:
            print(f"{name:<20} failed: {out.stderr.strip().splitlines()[-1:]}")
            continue
        r = json.loads(out.stdout.strip().splitlines()[-1])
        recorded = f"{r['mails']} mail, {r['errors']} errors, problems {r['codes']}"
        print(
            f"{name:<20} {len(data) / 1024:>8.0f} {r['seconds']:>8.1f} {r['peak_kib'] / 1024:>14.0f}"
            f" {r['child_kib'] / 1024:>15.0f}  {recorded}"
        )


def stop_time(server: object, source: Path, work: Path) -> None:
    tls = work / "tls"
    tls.mkdir()
    cert, key = tls / "cert.pem", tls / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256", "-days", "2", "-keyout", str(key),
         "-out", str(cert), "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    smtpd_run = start_smtpd(implicit_tls=True, starttls=False, cert=(cert, key))
    smtpd = next(smtpd_run)
    try:
        box = DovecotMailbox(server, *server.take_user())  # type: ignore[attr-defined]
        case = work / "stop"
        case.mkdir()
        smtp = (
            f'[smtp]\nhost = "{smtpd.host}"\nport = {smtpd.port}\nssl = true\nca_file = "{smtpd.ca_file}"\n'
            f'username = "{smtpd.username}"\npassword_env = "INTAKE_BENCH_SMTP_PASSWORD"\n'
        )
        config = write_config(case, box, smtp)
        env = {**env_for(source, box.password), "INTAKE_BENCH_SMTP_PASSWORD": smtpd.password}
        queued = 20
        subprocess.run(
            [sys.executable, "-c", ENQUEUE, str(config), smtpd.username, str(queued)], env=env, cwd=source, check=True
        )
        log = (case / "run.log").open("w")
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "run", "--config", str(config)],
            env=env, cwd=source, stdout=subprocess.DEVNULL, stderr=log,
        )  # fmt: skip
        deadline = time.monotonic() + 120
        while len(smtpd.messages) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(300)
            seconds = f"{time.monotonic() - started:.2f} s"
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            seconds = "over 300 s (killed)"
        log.close()
        print(
            f"intake run, {queued} mails queued: exit {seconds} after SIGTERM (exit code {proc.returncode}); "
            f"{len(smtpd.messages)} mails sent before exiting"
        )
        if proc.returncode not in (0, -signal.SIGTERM):
            print((case / "run.log").read_text()[-2000:])
    finally:
        smtpd_run.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--source", type=Path, default=ROOT, help="checkout to measure (default: this one)")
    ap.add_argument("--cases", nargs="*", default=list(CASES), choices=list(CASES))
    ap.add_argument("--no-stop", action="store_true", help="skip the SIGTERM measurement")
    args = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="dvf", dir="/tmp"))
    root.chmod(0o755)
    server = _start(root)
    work = Path(tempfile.mkdtemp(prefix="intake-bench-faults-"))
    print(f"source: {args.source.resolve()}")
    try:
        server.add_users(10)
        bombs(server, args.source.resolve(), work, args.cases)
        if not args.no_stop:
            stop_time(server, args.source.resolve(), work)
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
