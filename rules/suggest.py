"""Names the coordinator types, checked against the checklist: sections and indicator ids.

A typo must never reach the record (``办公司`` for ``办公室`` once created a section that does not
exist). These functions say what is wrong in one Chinese sentence, with the closest valid name
("是指“办公室”吗？") and the valid choices, so the CLI, mail commands and the config loader all
answer the same way. ``difflib`` (stdlib) does the fuzzy part.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence

from rules.catalogue import Catalogue
from rules.normalize import normalize

SIMILARITY_CUTOFF = 0.5  # 办公司/办公室 scores 0.67, 支對/支队 0.5; unrelated names score well below


def closest(word: str, choices: Iterable[str], cutoff: float = SIMILARITY_CUTOFF) -> str | None:
    """The choice most like ``word`` (after NFKC folding), or None when none is close."""
    options = list(choices)
    folded = normalize(word).strip()
    if folded in options:
        return folded
    found = difflib.get_close_matches(folded, options, n=1, cutoff=cutoff)
    return found[0] if found else None


def section_name(word: str, sections: Sequence[str]) -> str:
    """``word`` as one of ``sections`` (full-width forms folded), or ``ValueError`` saying why not.

    >>> section_name("办公室", ["支队", "办公室"])
    '办公室'
    >>> section_name("办公司", ["支队", "办公室"])
    Traceback (most recent call last):
    ...
    ValueError: 没有科室“办公司”，是指“办公室”吗？可用的科室：支队、办公室
    """
    folded = normalize(word).strip()
    if folded in sections:
        return folded
    raise ValueError(unknown_section(word, sections))


def unknown_section(word: str, sections: Sequence[str]) -> str:
    guess = closest(word, sections)
    hint = f"，是指“{guess}”吗？" if guess is not None else "。"
    return f"没有科室“{word}”{hint}可用的科室：{'、'.join(sections)}"


_PREFIX_NAMES = {"加": "加分项", "减": "减分项"}


def id_range(catalogue: Catalogue) -> str:
    """The checklist's ids as a person would say them: ``1–60、加分项1–2、减分项1–2``."""
    groups: dict[str, list[int]] = {}
    for ind in catalogue:
        m = re.fullmatch(r"(\D*)(\d+)", ind.id)
        if m is None:
            groups.setdefault(ind.id, [])
            continue
        groups.setdefault(m.group(1), []).append(int(m.group(2)))
    parts = []
    for prefix, numbers in groups.items():
        label = _PREFIX_NAMES.get(prefix, prefix)
        if not numbers:
            parts.append(label)
        elif numbers == list(range(numbers[0], numbers[-1] + 1)) and len(numbers) > 1:
            parts.append(f"{label}{numbers[0]}–{numbers[-1]}")
        else:
            parts.append("、".join(f"{label}{n}" for n in numbers))
    return "、".join(parts)


def unknown_indicator(word: str, catalogue: Catalogue) -> str:
    """Why ``word`` names no indicator, with the valid range."""
    return f"没有指标“{word}”：指标编号为 {id_range(catalogue)}（可写 12、指标12、第十二项、加分项1）"


def unknown_word(word: str, catalogue: Catalogue, sections: Sequence[str]) -> str:
    """A word in a command that is neither an id, an indicator nor a section: the likeliest meaning."""
    guess = closest(word, sections)
    if guess is not None:
        return f"无法识别“{word}”，是指科室“{guess}”吗？可用的科室：{'、'.join(sections)}"
    if re.search(r"\d", normalize(word)):
        return f"无法识别“{word}”：指标编号为 {id_range(catalogue)}；待办写作 R12，文件写作 A34"
    return f"无法识别“{word}”"
