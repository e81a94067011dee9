"""How much a file name reads like each indicator's 填报材料: weighted character pairs, not fuzzy strings.

A file name and an indicator share words; what matters is which words. ``预算`` occurs in two
indicators and says a lot, ``执行`` in a dozen and says little. So every pair of adjacent characters
(the smallest unit that carries meaning in Chinese) is weighted by how rare it is across the checklist
(inverse document frequency), and an indicator's score is the share of the name's weight that its
materials text holds (its requirement text and 二级指标 heading count for 0.8). Words every entry shares
(本部门, 情况说明, years, section and person names) are removed first.

Similarity never assigns a file on its own. It pairs files with numbers the mail already states, says
whether a file name's words agree with the number it carries, and orders a review's candidates.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

from rules.catalogue import Catalogue
from rules.match_refs import split_filename
from rules.normalize import normalize

#: A score below this says nothing; a clear pairing also needs MARGIN over the runner-up.
MIN_SCORE = 55.0
MARGIN = 15.0
#: A number agrees with the words when its indicator scores at least AGREE, none higher, and AGREE_MARGIN
#: ahead of the mail's other readings; the words contradict it when another is the clear best and the
#: number's own score is below CONTRADICT.
AGREE = 60.0
AGREE_MARGIN = 10.0
CONTRADICT = 40.0
#: Names carrying less weight than this say too little to score; to speak against a number or to pair a
#: file on its own, a name needs SAYS_ENOUGH (two rare pairs or several common ones).
MIN_WEIGHT = 2.0
SAYS_ENOUGH = 7.0

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


def _pairs(text: str) -> set[str]:
    return {text[i : i + 2] for i in range(len(text) - 1)}


@dataclass(frozen=True)
class _Profiles:
    catalogue: Catalogue
    ids: tuple[str, ...]
    names: tuple[str, ...]  # section and person names, which say who sent a file, not what it is
    weight: dict[str, float]  # pair -> inverse document frequency over the checklist
    materials: dict[str, tuple[str, ...]]  # pair -> ids whose materials text holds it
    wider: dict[str, tuple[str, ...]]  # pair -> ids whose materials, requirement or heading hold it


_PROFILES: dict[int, _Profiles] = {}


def _profiles(catalogue: Catalogue) -> _Profiles:
    cached = _PROFILES.get(id(catalogue))
    if cached is not None and cached.catalogue is catalogue:
        return cached
    names = {o.section for i in catalogue for o in i.owners} | {
        p for i in catalogue for o in i.owners for p in o.persons
    }
    ordered = tuple(sorted(names, key=len, reverse=True))
    materials: dict[str, list[str]] = {}
    wider: dict[str, list[str]] = {}
    for ind in catalogue:
        own = _pairs(_clean(ind.materials or "", ordered))
        for pair in own:
            materials.setdefault(pair, []).append(ind.id)
        for pair in own | _pairs(_clean(ind.text, ordered)) | _pairs(_clean(ind.level2, ordered)):
            wider.setdefault(pair, []).append(ind.id)
    count = max(len(catalogue), 1)
    weight = {pair: math.log(count / len(ids)) for pair, ids in wider.items()}
    built = _Profiles(
        catalogue,
        catalogue.ids,
        ordered,
        weight,
        {k: tuple(v) for k, v in materials.items()},
        {k: tuple(v) for k, v in wider.items()},
    )
    _PROFILES[id(catalogue)] = built
    return built


class Words(dict[str, float]):
    """``id -> score 0..100`` for every indicator a name shares a weighted pair with; ``weight`` is how
    much the name says at all (one rare pair is about 4, a name of the table's words 20 or more)."""

    weight: float = 0.0


def scores(filename: str, catalogue: Catalogue) -> Words:
    """What ``filename`` reads like (empty when the name says too little)."""
    profiles = _profiles(catalogue)
    stem, _, _ = split_filename(normalize(filename))
    query = [p for p in _pairs(_clean(stem, profiles.names)) if profiles.weight.get(p, 0.0) > 0.0]
    total = sum(profiles.weight[p] for p in query)
    found = Words()
    if total < MIN_WEIGHT:
        return found
    by_materials: dict[str, float] = {}
    by_wider: dict[str, float] = {}
    for pair in query:
        w = profiles.weight[pair]
        for ind_id in profiles.materials.get(pair, ()):
            by_materials[ind_id] = by_materials.get(ind_id, 0.0) + w
        for ind_id in profiles.wider.get(pair, ()):
            by_wider[ind_id] = by_wider.get(ind_id, 0.0) + w
    found.update((i, 100.0 * max(by_materials.get(i, 0.0), 0.8 * s) / total) for i, s in by_wider.items())
    found.weight = total
    return found


def rank(filename: str, catalogue: Catalogue, among: Iterable[str] | None = None) -> list[tuple[str, float]]:
    """``(id, score 0..100)`` best first (ties in checklist order), for the ids in ``among`` (default: the
    whole catalogue); ids the name shares nothing with score 0."""
    found = scores(filename, catalogue)
    if not found:
        return []
    ids = list(dict.fromkeys(among)) if among is not None else list(_profiles(catalogue).ids)
    return sorted(((i, found.get(i, 0.0)) for i in ids), key=lambda pair: -pair[1])


def clear_best(scored: list[tuple[str, float]]) -> str | None:
    """The best id when it is unmistakable: above MIN_SCORE and MARGIN ahead of the runner-up."""
    if not scored or scored[0][1] < MIN_SCORE:
        return None
    runner_up = scored[1][1] if len(scored) > 1 else 0.0
    return scored[0][0] if scored[0][1] - runner_up >= MARGIN else None


def agrees(found: dict[str, float], ind_id: str, rivals: Iterable[str] = ()) -> bool:
    """The name's words agree with the number it states: ``ind_id`` scores AGREE or more, no other scores
    higher (a tie leaves the number to decide), and it is AGREE_MARGIN ahead of each of ``rivals`` (the
    other readings the mail offers, e.g. the subject's numbers)."""
    own = found.get(ind_id, 0.0)
    if own < AGREE or any(s > own for s in found.values()):
        return False
    return all(own - found.get(r, 0.0) >= AGREE_MARGIN for r in rivals if r != ind_id)


def contradicts(found: Words, ids: Iterable[str]) -> bool:
    """The name's words clearly describe another indicator and hardly any of ``ids``:
    ``1.涉企收费清理情况说明`` is the sender's item 1 and reads like indicator 12. A word or two
    (截图, 监管) is not enough to speak against a number."""
    if found.weight < SAYS_ENOUGH:
        return False
    wanted = set(ids)
    best = clear_best(sorted(found.items(), key=lambda pair: -pair[1]))
    claimed = max((found.get(i, 0.0) for i in wanted), default=0.0)
    return best is not None and best not in wanted and claimed < CONTRADICT
