"""Benchmark ``rules.match.evaluate``: ``python bench/match.py [--count N] [--seed S]``.

Runs the matcher over generated mails (``bench/match_mails.py``: the shapes sections send, each file
labelled with what its sender meant and whether a careful clerk could tell from the mail) with the
sender's section, as the poll passes it, and prints:

- decisions per second (mails), against a baseline measured in the same run: reading the same subjects
  and file names without deciding anything (normalising and finding references only);
- the review rate of knowable files (the figure issue 15 is about), per mail shape;
- wrong assignments: a file assigned to anything but what its sender meant (must be 0), per label;
- how the assigned files were decided (the ``evidence`` codes).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.match_mails import AMBIGUOUS, KNOWABLE, UNKNOWABLE, Mail, generate
from rules.catalogue import load_catalogue
from rules.decision import Decision
from rules.match import evaluate, match_filename, match_subject

# CPU time, not wall time: the machine is shared, and a neighbour's load must not count as ours.


def _baseline(mails: list[Mail]) -> float:
    start = time.process_time()
    for mail in mails:
        match_subject(mail.subject)
        for f in mail.files:
            match_filename(f.name)
    return time.process_time() - start


def _decide(mails: list[Mail]) -> tuple[list[Decision], float]:
    catalogue = load_catalogue()
    start = time.process_time()
    decisions = [evaluate(m.subject, [f.name for f in m.files], catalogue, m.body, section=m.section) for m in mails]
    return decisions, time.process_time() - start


def _pct(part: int, whole: int) -> str:
    return f"{part / whole * 100:.2f}%" if whole else "—"


def main() -> None:
    parser = argparse.ArgumentParser(description="Benchmark rules.match.evaluate")
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=20211028)
    parser.add_argument("--show-wrong", type=int, default=10, metavar="N", help="print up to N wrong assignments")
    parser.add_argument("--show-review", type=int, default=0, metavar="N", help="print up to N knowable reviews")
    args = parser.parse_args()
    mails = generate(load_catalogue(), args.count, args.seed)
    evaluate("指标12", ["情况说明.docx"], load_catalogue())  # warm the caches outside the timing
    baseline = _baseline(mails)
    decisions, elapsed = _decide(mails)

    labels: Counter[str] = Counter()
    reviewed: Counter[str] = Counter()
    assigned: Counter[str] = Counter()
    wrong: Counter[str] = Counter()
    shape_total: Counter[str] = Counter()
    shape_review: Counter[str] = Counter()
    evidence: Counter[str] = Counter()
    shown_wrong = shown_review = 0
    for mail, decision in zip(mails, decisions, strict=True):
        for f, att in zip(mail.files, decision.attachments, strict=True):
            labels[f.kind] += 1
            if att.needs_review:
                reviewed[f.kind] += 1
                if f.kind == KNOWABLE:
                    shape_review[mail.shape] += 1
                    if shown_review < args.show_review:
                        shown_review += 1
                        print(f"review: {mail.section} | {mail.subject} | {f.name} -> {f.truth}: {att.reason}")
            else:
                assigned[f.kind] += 1
                evidence[att.evidence] += 1
                if set(att.indicators) != set(f.truth):
                    wrong[f.kind] += 1
                    if shown_wrong < args.show_wrong:
                        shown_wrong += 1
                        print(f"WRONG: {mail.section} | {mail.subject} | {f.name} -> {att.indicators}, meant {f.truth}")
            if f.kind == KNOWABLE:
                shape_total[mail.shape] += 1

    files = sum(labels.values())
    print(f"{len(mails):,} mails, {files:,} attachments, decided in {elapsed:.2f} s of CPU time")
    print(
        f"{len(mails) / elapsed:,.0f} mails per second ({elapsed / len(mails) * 1e3:.3f} ms per mail); "
        f"baseline (references only) {len(mails) / baseline:,.0f} mails per second"
    )
    print(
        f"knowable files: {labels[KNOWABLE]:,}, to review {reviewed[KNOWABLE]:,} "
        f"= review rate {_pct(reviewed[KNOWABLE], labels[KNOWABLE])}"
    )
    for kind in (AMBIGUOUS, UNKNOWABLE):
        print(f"{kind} files: {labels[kind]:,}, assigned {assigned[kind]:,} ({_pct(assigned[kind], labels[kind])})")
    print(f"wrong assignments: {sum(wrong.values())} " + str(dict(wrong)))
    print("knowable review rate by shape:")
    for shape, total in sorted(shape_total.items()):
        print(f"  {shape:16} {shape_review[shape]:5} / {total:5} = {_pct(shape_review[shape], total)}")
    print("assigned by evidence: " + ", ".join(f"{k or '—'} {v}" for k, v in evidence.most_common()))


if __name__ == "__main__":
    main()
