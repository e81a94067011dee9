#!/usr/bin/env python3
"""Parse throughput: this tree's parser against a baseline commit's (default ``main``), in one run.

1. The mails: every ``.eml`` under tests/corpus (our corpus and the public test mails of other mail
   libraries in tests/corpus/public/), and one generated mail of 3,000 HTML parts (about 2.6 MB, the
   shape of issue 12 class 9).
2. The baseline's ``bot`` package is taken from git (``git archive REF``) into a temporary directory;
   each parser runs in its own child process (PYTHONPATH decides which ``bot`` it imports), parsing
   every mail from bytes (``parse_message``, as the poll does for mails under 8 MB).
3. Baseline and current alternate for ``--rounds`` child processes of ``--passes`` passes each; the
   best time per mail counts. Prints mails/s and MB/s for each set and the ratio current/baseline
   (aim: at least 1.0: no slower).

The parsers write the files they find into a directory on tmpfs (``/dev/shm``) when there is one, so
that what is measured is parsing: on a busy disk a file creation costs a millisecond and varies by
more than the parse itself, and the current parser recovers more files (issue 12) than older ones.
``--workdir`` puts them elsewhere (``bench/ingest.py`` measures the whole pipeline on disk).

Run from anywhere: ``python bench/parse.py [--baseline main] [--rounds 3]``.
"""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "corpus"


def many_html_parts(path: Path, parts: int = 3000) -> Path:
    """One mail of ``parts`` HTML parts beside a short text part, none naming a cloud service."""
    crlf = b"\r\n"
    lines = [b"From: a@example.com", b"To: b@example.com", b"Subject: many parts", b"Message-ID: <many@example.com>"]
    lines += [b'Content-Type: multipart/mixed; boundary="BB"', b"", b"--BB", b"Content-Type: text/plain", b"", b"body"]
    for i in range(parts):
        html = f"<div><p>第{i}段 <a href='https://example.com/{i}'>链接</a></p>" + "<span>内容</span>" * 40 + "</div>"
        lines += [b"--BB", b"Content-Type: text/html; charset=utf-8", b"", html.encode()]
    path.write_bytes(crlf.join([*lines, b"--BB--", b""]))
    return path


def worker(listing: Path, passes: int, workdir: Path) -> None:
    """Child process: parse every listed mail ``passes`` times; print {"parser": file, "seconds": best
    time per mail, "crashes": n}. The first pass pays for imports and caches, so the best pass counts."""
    import bot.mime.parse as parse_module

    names = listing.read_text(encoding="utf-8").splitlines()
    raws = [Path(name).read_bytes() for name in names]
    best = [float("inf")] * len(raws)
    crashes = 0
    with tempfile.TemporaryDirectory(dir=workdir) as work:
        for round_number in range(passes):
            for number, raw in enumerate(raws):
                started = time.perf_counter()
                try:
                    parse_module.parse_message(raw, Path(work) / f"{round_number}-{number}")
                except parse_module.ParseError:
                    pass
                except Exception:  # a baseline may crash on mails the current parser reads
                    crashes += round_number == 0
                best[number] = min(best[number], time.perf_counter() - started)
    print(json.dumps({"parser": parse_module.__file__, "seconds": best, "crashes": crashes}))


def baseline_tree(ref: str, into: Path) -> Path:
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref, "bot", "rules", "db"], capture_output=True)
    if archive.returncode != 0:
        sys.exit(f"git archive {ref} failed: {archive.stderr.decode(errors='replace')}")
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(into, filter="data")
    return into


def run_worker(src: Path, listing: Path, passes: int, workdir: Path) -> dict[str, object]:
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", str(listing)]
    done = subprocess.run(
        [*command, "--passes", str(passes), "--workdir", str(workdir)],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(src), "PATH": "/usr/bin:/bin"},
        cwd=src,
        check=False,
    )
    if done.returncode != 0:
        sys.exit(f"the parser under {src} failed:\n{done.stderr}")
    result: dict[str, object] = json.loads(done.stdout.splitlines()[-1])
    if not str(result["parser"]).startswith(str(src)):
        sys.exit(f"the child imported {result['parser']}, not the tree under {src}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default="main", help="git ref of the parser to compare with")
    parser.add_argument("--rounds", type=int, default=3, help="child processes per parser, alternating")
    parser.add_argument("--passes", type=int, default=3, help="passes over the mails in each child")
    shm = Path("/dev/shm")
    parser.add_argument("--workdir", type=Path, default=shm if shm.is_dir() else Path(tempfile.gettempdir()))
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker is not None:
        worker(args.worker, args.passes, args.workdir)
        return

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        corpus = sorted(CORPUS.rglob("*.eml"))
        big = many_html_parts(work / "3000-html-parts.eml")
        listing = work / "mails.txt"
        listing.write_text("\n".join(map(str, [*corpus, big])), encoding="utf-8")
        sizes = [path.stat().st_size for path in [*corpus, big]]
        old = baseline_tree(args.baseline, work / "baseline")

        best: dict[str, list[float]] = {}
        crashes: dict[str, object] = {}
        for _ in range(args.rounds):
            for label, src in ((args.baseline, old), ("current", ROOT)):
                result = run_worker(src, listing, args.passes, args.workdir)
                seconds = [float(s) for s in result["seconds"]]  # type: ignore[attr-defined]
                crashes[label] = result["crashes"]
                best[label] = seconds if label not in best else list(map(min, best[label], seconds))

    n = len(corpus)
    public = [i for i, path in enumerate(corpus) if "public" in path.relative_to(CORPUS).parts]
    ours = [i for i in range(n) if i not in set(public)]
    print(f"{len(public)} public test mails ({sum(sizes[i] for i in public) / 1e6:.2f} MB) and {len(ours)} of our")
    print(f"corpus ({sum(sizes[i] for i in ours) / 1e6:.2f} MB) under tests/corpus, and one mail of 3,000 HTML parts")
    print(f"({sizes[-1] / 1e6:.2f} MB). Best time per mail over {args.rounds} processes x {args.passes} passes;")
    print(f"files written under {args.workdir}.\n")
    print(f"{'set':<22}{'parser':<12}{'seconds':>9}{'mails/s':>10}{'MB/s':>8}")
    for name, members in (("public", public), ("our corpus", ours), ("3,000 HTML parts", [n])):
        size = sum(sizes[i] for i in members)
        totals = {}
        for label in (args.baseline, "current"):
            totals[label] = total = sum(best[label][i] for i in members)
            print(f"{name:<22}{label:<12}{total:>9.3f}{len(members) / total:>10.1f}{size / 1e6 / total:>8.2f}")
        print(f"{'':<22}throughput current/{args.baseline}: {totals[args.baseline] / totals['current']:.2f}\n")
    print(
        f"mails the parser raised on (not ParseError): {args.baseline} {crashes[args.baseline]}, "
        f"current {crashes['current']}"
    )


if __name__ == "__main__":
    main()
