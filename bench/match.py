"""Benchmark ``rules.match.evaluate`` on 10,000 generated mails: ``python bench/match.py [--count N]``.

The mails mix what staff send (explicit and bare numbers, Chinese numerals, ranges, reply prefixes,
numbered and unnumbered file names, copy marks, declarations) with noise (years, dates, units, phone
numbers). Seeded, so runs compare. A baseline: the matcher must never be the slow part of a poll.
"""

from __future__ import annotations

import argparse
import random
import time
from collections import Counter

from rules.catalogue import Catalogue, load_catalogue
from rules.match import evaluate

_CN = ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二", "十三", "十四", "十五"]
_PREFIXES = ["", "", "", "Re: ", "回复：", "Re:Re:", "转发：", "Fw: ", "答复:"]
_SECTIONS = ["法规科", "支队", "服务科", "办公室", "人事科", "财审科", "执法支队"]
_PERSONS = ["刘海利", "史凤云", "刘建设", "申军强", "孙新顺", "杨海娜"]
_NOISE = ["2020年以来", "2020年度", "10月28日", "500字", "联系电话13838912345", "v2", "第2版", "2021-10-20"]
_EXTS = [".docx", ".doc", ".pdf", ".xlsx", ".jpg", ".wps"]


def _ids(catalogue: Catalogue, rng: random.Random, k: int) -> list[str]:
    return rng.sample([i.id for i in catalogue if i.id.isdigit()], k)


def _subject(rng: random.Random, ids: list[str]) -> str:
    joined = rng.choice(["、", "，", ",", "和"]).join(ids)
    first = int(ids[0])
    forms = [
        f"指标{joined}",
        f"第{joined}项",
        f"{joined}项材料",
        f"【{ids[0]}】",
        f"序号{ids[0]}",
        f"{ids[0]}号",
        f"{rng.choice(_SECTIONS)}-{rng.choice(_PERSONS)}-指标{joined}",
        f"第{_CN[first - 1]}项" if first <= len(_CN) else f"指标{first}",
        f"指标{first}至{min(first + 2, 60)}",
        f"{joined}",
        "关于报送依法行政示范单位创建材料的函",
        f"{rng.choice(_SECTIONS)}材料",
        f"加分项{rng.randint(1, 2)}",
        f"指标{ids[0]}无材料",
    ]
    subject = rng.choice(forms)
    if rng.random() < 0.3:
        subject += rng.choice(_NOISE)
    return rng.choice(_PREFIXES) + subject


def _filename(rng: random.Random, catalogue: Catalogue, ind_id: str) -> str:
    materials = catalogue[ind_id].materials or catalogue[ind_id].text[:20]
    forms = [
        f"{ind_id}.{materials}",
        f"{ind_id}-{materials[:12]}",
        f"（{ind_id}）{materials[:10]}",
        f"指标{ind_id}-{materials[:15]}",
        materials,
        f"{materials[:8]}(1)",
        "情况说明",
        f"附件{rng.randint(1, 5)}",
        f"新建 Microsoft Word 文档 ({rng.randint(1, 3)})",
        f"IMG_2021102{rng.randint(0, 9)}_09{rng.randint(1000, 9999)}",
    ]
    return rng.choice(forms) + rng.choice(_EXTS)


def generate(catalogue: Catalogue, count: int, seed: int = 20211028) -> list[tuple[str, list[str], str]]:
    """``count`` mails as (subject, file names, body)."""
    rng = random.Random(seed)
    mails = []
    for _ in range(count):
        ids = _ids(catalogue, rng, rng.choice([1, 1, 1, 2, 3]))
        files = [_filename(rng, catalogue, rng.choice(ids)) for _ in range(rng.choice([0, 1, 1, 1, 2, 3, 5]))]
        body = rng.choice(["", "", "请查收。", f"指标{rng.randint(1, 60)}本部门不涉及。联系人：刘海利"])
        mails.append((_subject(rng, ids), files, body))
    return mails


def main() -> None:
    parser = argparse.ArgumentParser(description="Benchmark rules.match.evaluate")
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=20211028)
    args = parser.parse_args()
    catalogue = load_catalogue()
    mails = generate(catalogue, args.count, args.seed)
    outcome: Counter[str] = Counter()
    start = time.perf_counter()
    for subject, files, body in mails:
        decision = evaluate(subject, files, catalogue, body)
        for att in decision.attachments:
            outcome["review" if att.needs_review else att.matched_by] += 1
    elapsed = time.perf_counter() - start
    attachments = sum(len(files) for _, files, _ in mails)
    print(f"{len(mails)} mails, {attachments} attachments in {elapsed:.2f} s")
    print(f"{len(mails) / elapsed:,.0f} matches per second ({elapsed / len(mails) * 1e3:.3f} ms per mail)")
    print("attachments by outcome: " + ", ".join(f"{k or 'none'} {v}" for k, v in outcome.most_common()))


if __name__ == "__main__":
    main()
