"""Rank indicators by how much a file name reads like their 填报材料 (rapidfuzz).

Used only to pair files with numbers already named in the subject, and to suggest candidates for a
review; never to assign a file on its own. Words every materials text shares (本部门, 情况说明, years,
section names) are removed first, so the score reflects the subject matter.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from rules.catalogue import Catalogue
from rules.match_refs import split_filename
from rules.normalize import normalize

#: A score below this says nothing; a clear pairing also needs MARGIN over the runner-up.
MIN_SCORE = 55.0
MARGIN = 15.0

_BOILERPLATE = re.compile(
    r"\d{4}(?:、\d{4})?年(?:度|以来)?|\d+|"
    r"本部门|本单位|本级|情况说明|相关说明|相关材料|及相关材料|有关|相关|情况|说明|材料|的|和|及|对|"
    r"进行|开展|工作|报送|填报|提供|指标|第|项|序号|附件|汇总|最终|修改|定稿|[^\w]|_"
)


def _clean(text: str, extra_words: Iterable[str] = ()) -> str:
    cleaned = _BOILERPLATE.sub("", normalize(text))
    for word in extra_words:
        cleaned = cleaned.replace(word, "")
    return cleaned


@dataclass(frozen=True)
class _Profiles:
    catalogue: Catalogue
    names: tuple[str, ...]  # section and person names, which say who sent a file, not what it is
    texts: dict[str, tuple[str, str]]  # id -> (cleaned materials, cleaned requirement text)


_PROFILES: dict[int, _Profiles] = {}


def _profiles(catalogue: Catalogue) -> _Profiles:
    cached = _PROFILES.get(id(catalogue))
    if cached is not None and cached.catalogue is catalogue:
        return cached
    names = {o.section for i in catalogue for o in i.owners} | {
        p for i in catalogue for o in i.owners for p in o.persons
    }
    ordered = tuple(sorted(names, key=len, reverse=True))
    texts = {i.id: (_clean(i.materials or "", ordered), _clean(i.text, ordered)) for i in catalogue}
    built = _Profiles(catalogue, ordered, texts)
    _PROFILES[id(catalogue)] = built
    return built


def rank(filename: str, catalogue: Catalogue, among: Iterable[str] | None = None) -> list[tuple[str, float]]:
    """``(id, score 0..100)`` best first, for the ids in ``among`` (default: the whole catalogue)."""
    profiles = _profiles(catalogue)
    stem, _, _ = split_filename(normalize(filename))
    query = _clean(stem, profiles.names)
    if len(query) < 2:
        return []
    ids = list(dict.fromkeys(among)) if among is not None else list(profiles.texts)
    materials = [profiles.texts.get(i, ("", ""))[0] for i in ids]
    requirements = [profiles.texts.get(i, ("", ""))[1] for i in ids]
    # process.extract scores every choice in C; an empty choice scores 0.
    by_materials = process.extract(query, materials, scorer=fuzz.partial_ratio, limit=None)
    by_requirement = process.extract(query, requirements, scorer=fuzz.partial_ratio, limit=None)
    scores = [0.0] * len(ids)
    for _, score, index in by_materials:
        scores[index] = max(scores[index], score)
    for _, score, index in by_requirement:
        scores[index] = max(scores[index], 0.8 * score)
    return sorted(zip(ids, scores, strict=True), key=lambda pair: -pair[1])


def clear_best(scored: list[tuple[str, float]]) -> str | None:
    """The best id when it is unmistakable: above MIN_SCORE and MARGIN ahead of the runner-up."""
    if not scored or scored[0][1] < MIN_SCORE:
        return None
    runner_up = scored[1][1] if len(scored) > 1 else 0.0
    return scored[0][0] if scored[0][1] - runner_up >= MARGIN else None
